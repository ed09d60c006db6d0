"""Shared contracts every layer passes: customer events, the customer snapshot, activity requests and
results, step records, and the names operators see in Temporal. Plain pydantic models, no I/O."""
