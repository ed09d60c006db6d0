"""Small compiled plans for tests of how runs find their plan."""

from __future__ import annotations

from pathlib import Path

from engine.loader import compile_text
from engine.plan import Plan

JOURNEYS = Path(__file__).resolve().parents[2] / "journeys"


def waiting_journey(name: str, wait: str = "1d") -> Plan:
    """A journey ``name`` that only waits ``wait``: another ``wait`` is another version."""
    text = f"""
journey: {name}
stage: retention
trigger: {{event: visited}}
entry: always
steps:
  - {{id: pause, wait: {wait}}}
"""
    return compile_text(text, f"{name}.yaml", JOURNEYS / "templates")
