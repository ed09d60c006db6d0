"""The live numbers of the journey page, keyed by the diagram's node and edge ids: what one counts
request (``GET /ui/journeys/{name}/counts``) answers, every few seconds, from one store query."""

from __future__ import annotations

from pydantic import BaseModel, Field

from api.stats import rate
from api.ui.graph import ENTRY, Diagram
from store.steps import JourneyCounts


class NodeNumbers(BaseModel):
    waiting: int = 0
    entered: int = 0
    completed: int = 0
    sent: int = 0
    skipped: int = 0
    failed: int = 0
    uncertain: int = 0  # an earlier attempt may have delivered it; not sent again (policy: skip)
    retrying: int = 0  # failing now, to be tried again
    points: int = 0
    conversions: int = 0


class EdgeNumbers(BaseModel):
    count: int = 0  # customers who went this way
    share: float = 0.0  # of those who entered the step it leaves


class LiveCounts(BaseModel):
    journey: str
    version: str
    entered: int
    in_flight: int
    exited: int
    conversions: int
    conversion_rate: float
    nodes: dict[str, NodeNumbers] = Field(default_factory=dict)
    edges: dict[str, EdgeNumbers] = Field(default_factory=dict)


def live_counts(drawn: Diagram, counts: JourneyCounts) -> LiveCounts:
    nodes = {ENTRY: NodeNumbers(entered=counts.entered, completed=counts.entered)}
    for step in drawn.step_ids():
        tally = counts.steps.get(step)
        if tally is None:
            nodes[step] = NodeNumbers()
            continue
        sends = tally.deliveries
        nodes[step] = NodeNumbers(
            waiting=tally.waiting,
            entered=tally.entered,
            completed=tally.completed,
            sent=sends.get("sent", 0),
            skipped=sends.get("skipped", 0),
            failed=sends.get("failed", 0),
            uncertain=sends.get("uncertain", 0),
            retrying=tally.retrying,
            points=tally.points,
            conversions=tally.conversions,
        )
    # Two ways out of one step to the same place (an event and its timeout, say) cannot be told
    # apart in the records: each shows what both carried.
    edges = {}
    for edge in drawn.edges:
        if edge.source == ENTRY:
            edges[edge.id] = EdgeNumbers(count=counts.entered, share=1.0 if counts.entered else 0.0)
            continue
        tally = counts.steps.get(edge.source)
        taken = tally.outcomes.get(edge.outcome, 0) if tally else 0
        entered = tally.entered if tally else 0
        edges[edge.id] = EdgeNumbers(count=taken, share=rate(taken, entered))
    return LiveCounts(
        journey=drawn.journey,
        version=drawn.version,
        entered=counts.entered,
        in_flight=counts.active,
        exited=counts.exited,
        conversions=counts.conversions,
        conversion_rate=rate(counts.conversions, counts.entered),
        nodes=nodes,
        edges=edges,
    )
