"""What the editor offers as you type: keys and step kinds from the journey JSON Schema, template
names from the templates folder, the lifecycle stages, and the event names the store has seen
(step ids come from the text itself, in the browser)."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from pydantic import BaseModel

from engine.schema import STEP_KINDS, json_schema
from engine.stages import STAGES
from store.database import Store
from store.reading import reading
from store.tables import processed_events

MOST_EVENTS = 200  # event names offered
SAMPLED_EVENTS = 5_000  # stored events read for their names (bounded, however many are stored)
MOST_TEMPLATES = 500


class Vocabulary(BaseModel):
    keys: dict[str, list[str]]  # where (the schema definition, "journey" for the top) -> its keys
    kinds: list[str]  # the key that makes a step what it is
    templates: list[str]
    stages: list[str]
    events: list[str]


@functools.cache
def _schema_keys() -> dict[str, list[str]]:
    schema = json_schema()
    keys = {"journey": list(schema["properties"])}
    definitions: dict[str, Any] = schema.get("$defs", {})
    for name, definition in definitions.items():
        if "properties" in definition:
            keys[name] = list(definition["properties"])
    # Every step accepts the keys any step kind has (id, description, next, …) plus its own.
    keys["step"] = sorted({key for name, found in keys.items() if name.endswith("Step") for key in found})
    return keys


def _templates(journeys_dir: Path) -> list[str]:
    folder = journeys_dir / "templates"
    if not folder.is_dir():
        return []
    names = sorted(p.name for p in folder.iterdir() if p.is_dir() and not p.name.startswith((".", "_")))
    return names[:MOST_TEMPLATES]


async def _events(store: Store) -> list[str]:
    """The events deployed journeys listen for, then names from a bounded sample of the events
    received (no scan of them all), the most frequent first."""
    listened: set[str] = set()
    for name in await store.deployments.names():
        plan = await store.deployments.current(name)
        if plan is not None:
            listened |= {plan.trigger.event, *plan.signalled_events()}
    sample = sa.select(processed_events.c.name).limit(SAMPLED_EVENTS).subquery()
    query = (
        sa.select(sample.c.name)
        .group_by(sample.c.name)
        .order_by(sa.func.count().desc(), sample.c.name)
        .limit(MOST_EVENTS)
    )
    async with reading(store.engine).connect() as conn:
        seen = [str(name) for name in await conn.scalars(query)]
    return sorted(listened) + [name for name in seen if name not in listened]


async def vocabulary(store: Store, journeys_dir: Path) -> Vocabulary:
    return Vocabulary(
        keys=_schema_keys(),
        kinds=list(STEP_KINDS),
        templates=_templates(journeys_dir),
        stages=list(STAGES),
        events=await _events(store),
    )
