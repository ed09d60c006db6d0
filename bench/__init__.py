"""Benchmarks: run by hand, print ratios measured in one run; never part of the test suite."""
