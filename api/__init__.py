"""The HTTP API of Journeys: event ingestion, customers, points, journeys and unsubscribe links."""
