"""What the journey page asks for after it is drawn: its live counts (one request, one query) and
the Mermaid text of the version shown (an export)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import PlainTextResponse

from api.auth import UiPrincipalDep
from api.deps import StoreDep
from api.ui.graph import diagram
from api.ui.live import LiveCounts, live_counts
from api.ui.params import JourneyName, Version
from api.ui.versions import shown
from engine.diagram import mermaid

router = APIRouter(prefix="/ui")


@router.get("/journeys/{name}/counts", response_model=LiveCounts)
async def counts(
    name: JourneyName, _: UiPrincipalDep, store: StoreDep, version: Version = None
) -> LiveCounts:
    """Every number the diagram shows, keyed by its node and edge ids."""
    view = await shown(store, name, version)
    found = await store.steps.counts(name, view.plan.version)
    return live_counts(diagram(view.plan), found)


@router.get("/journeys/{name}/mermaid", response_class=PlainTextResponse)
async def mermaid_export(
    name: JourneyName, _: UiPrincipalDep, store: StoreDep, version: Version = None
) -> PlainTextResponse:
    view = await shown(store, name, version)
    found = await store.steps.counts(name, view.plan.version)
    entered = {step: tally.entered for step, tally in found.steps.items()}
    filename = f"{name}-{view.plan.version}.mmd"
    return PlainTextResponse(
        mermaid(view.plan, entered), headers={"Content-Disposition": f'inline; filename="{filename}"'}
    )
