"""Events into Temporal: the event router (start, signal, queue a re-entry) and event-id claims."""
