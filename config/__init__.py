"""Configuration and process setup: the settings read from the environment, log setup, the event loop."""
