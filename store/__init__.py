"""The store: customers, the points ledger, deliveries, step counts and deployed journeys.

SQLAlchemy 2 (async) on SQLite by default and PostgreSQL in production; the same code runs on both.
"""

from store.customers import Customer
from store.database import Store
from store.deployments import JourneyVersion
from store.points import LedgerEntry, Overdraw
from store.steps import JourneyStats, StepStats

__all__ = ["Customer", "JourneyStats", "JourneyVersion", "LedgerEntry", "Overdraw", "StepStats", "Store"]
