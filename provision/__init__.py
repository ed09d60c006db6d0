"""Provisioning: validate and deploy a folder of journeys (``journeys deploy``), and ``journeys setup``."""
