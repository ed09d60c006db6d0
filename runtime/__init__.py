"""Running Journeys: settings, the Temporal connection, the worker, the event router and the CLI."""
