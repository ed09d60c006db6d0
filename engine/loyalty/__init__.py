"""The loyalty program: one file, ``journeys/loyalty.yaml``, validated and versioned like journeys."""
