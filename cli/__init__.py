"""The ``journeys`` command: one entry point for every part, simulation and provisioning command."""
