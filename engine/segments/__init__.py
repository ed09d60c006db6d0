"""Segments: named audiences, one file each under ``journeys/segments/``, validated like journeys.

``schema`` is the file's model, ``vocabulary`` what a segment's condition may read of behaviour,
``loader`` the positioned validation, ``behaviour`` the aggregates as a condition sees them and
``evaluation`` which segments a customer is in.
"""
