"""Simulations of journeys on the real workflow, and journey tests built on them."""
