"""Generated customer stories for a forecast: each event happens with a probability, at a random
moment within its window, drawn from a seeded random generator (same seed, same stories)."""

from __future__ import annotations

import random
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from engine.durations import parse_duration
from engine.plan import Plan, WaitForNode
from simulate.story import Story, StoryEvent

DEFAULT_P = 0.5
DEFAULT_EXIT_P = 0.05
DEFAULT_WITHIN = "14d"


class Chance(BaseModel):
    """``{p: 0.4, within: 10d, properties: {total: 42}}``: 40% of customers, in their first 10 days."""

    model_config = ConfigDict(extra="forbid")

    p: float = Field(ge=0, le=1)
    within: str = DEFAULT_WITHIN
    properties: dict[str, Any] = Field(default_factory=dict)

    @field_validator("within")
    @classmethod
    def _within(cls, value: str) -> str:
        parse_duration(value)
        return value


def default_chances(plan: Plan) -> dict[str, Chance]:
    """Half of the customers do each thing the journey waits for; 5% send an exit event."""
    chances: dict[str, Chance] = {}
    for node in plan.nodes:
        if isinstance(node, WaitForNode) and node.event != plan.trigger.event:
            chances.setdefault(node.event, Chance(p=DEFAULT_P))
    if plan.goal is not None and plan.goal.event != plan.trigger.event:
        chances.setdefault(plan.goal.event, Chance(p=DEFAULT_P))
    for name in plan.exit_on:
        chances.setdefault(name, Chance(p=DEFAULT_EXIT_P, within="30d"))
    return chances


def generate(base: Story, chances: dict[str, Chance], count: int, seed: int) -> list[Story]:
    rng = random.Random(seed)
    stories = []
    for number in range(1, count + 1):
        events = list(base.events)
        for name, chance in chances.items():
            if rng.random() < chance.p:
                minutes = rng.randrange(1, parse_duration(chance.within) // 60 + 1)
                events.append(StoryEvent(at=f"{minutes}m", event=name, properties=chance.properties))
        customer_id = f"sim-{seed}-{number:05d}"
        traits = {**base.customer, "email": f"customer{number:05d}@example.com"}
        stories.append(
            base.model_copy(
                update={
                    "name": f"customer {number}",
                    "customer_id": customer_id,
                    "customer": traits,
                    "events": events,
                }
            )
        )
    return stories
