"""What journeys achieved, read from the store: per-step and per-variant results with revenue, A/B
statistics, lifecycle stages over time, customer lifetime value and acquisition (docs/measurement.md)."""
