"""``python -m cli …`` is the ``journeys`` command (how ``journeys up`` starts its parts)."""

from cli.main import app

app(prog_name="journeys")
