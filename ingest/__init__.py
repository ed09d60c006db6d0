"""Customers into Temporal: the event router (start, signal, queue a re-entry), event-id claims, and a
customer's runs (read, end, erase)."""
