"""The Temporal side: the connection, search-attribute registration, the installed servers, the worker."""
