"""``python -m runtime …`` is the ``journeys`` command (how ``journeys up`` starts its parts)."""

from runtime.cli import app

app(prog_name="journeys")
