"""Segments: the audiences of ``journeys/segments``, each with its condition and how many are in it now."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Path
from pydantic import BaseModel

from api.deps import RouterDep, StoreDep
from api.errors import INVALID, UNAUTHORIZED, problem, responses
from engine.schema import SLUG
from engine.segments.evaluation import Segment
from ingest.router import EventRouter
from store.database import Store
from store.segments import SegmentMembership

router = APIRouter(tags=["segments"])
NO_SEGMENT = problem(404, "No segment of journeys/segments has this name")
SegmentName = Annotated[str, Path(min_length=1, max_length=100, pattern=SLUG, description="e.g. vip")]


class SegmentOut(BaseModel):
    name: str
    description: str
    where: str
    size: int  # customers in it now


class SegmentsOut(BaseModel):
    segments: list[SegmentOut]


def _segments(events: EventRouter | None) -> list[Segment]:
    """The router's segments; none for an app without a router (it routes no events either)."""
    return list(events.segments.segments) if events is not None else []


def _out(segment: Segment, sizes: dict[str, int]) -> SegmentOut:
    return SegmentOut(
        name=segment.name,
        description=segment.description,
        where=segment.where,
        size=sizes.get(segment.name, 0),
    )


async def sized_segments(store: Store, events: EventRouter | None) -> list[SegmentOut]:
    """Every segment the router evaluates, by name, with its size now (the API's list and the page's)."""
    sizes = await SegmentMembership(store.engine).sizes()
    found = sorted(_segments(events), key=lambda segment: segment.name)
    return [_out(segment, sizes) for segment in found]


@router.get(
    "/segments",
    response_model=SegmentsOut,
    responses=responses(UNAUTHORIZED),
    summary="Every segment with its size",
)
async def list_segments(store: StoreDep, events: RouterDep) -> SegmentsOut:
    """The segments the router evaluates (``journeys/segments`` when it started), by name."""
    return SegmentsOut(segments=await sized_segments(store, events))


@router.get(
    "/segments/{name}",
    response_model=SegmentOut,
    responses=responses(UNAUTHORIZED, NO_SEGMENT, INVALID),
    summary="One segment with its size",
)
async def get_segment(name: SegmentName, store: StoreDep, events: RouterDep) -> SegmentOut:
    for segment in _segments(events):
        if segment.name == name:
            return _out(segment, await SegmentMembership(store.engine).sizes())
    raise HTTPException(404, f'there is no segment "{name}"')
