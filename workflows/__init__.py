"""The interpreter workflow that runs a compiled journey plan for one customer."""
