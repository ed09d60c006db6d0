"""The typed model of a segment file, as a marketer writes it (YAML)."""

from __future__ import annotations

from pydantic import Field

from engine.schema import Expression, Model, StepId

MAX_DESCRIPTION = 500


class SegmentFile(Model):
    segment: StepId = Field(description="the segment's name, e.g. vip; journeys read customer.segments.vip")
    description: str = Field("", max_length=MAX_DESCRIPTION, description="what the audience is, for people")
    where: Expression = Field(
        description="a condition over customer and behaviour, e.g. behaviour.order.count_90d >= 3"
    )
