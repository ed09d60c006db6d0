"""Which segments a customer is in: each segment's condition over their customer and behaviour."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from engine import expressions
from engine.segments.vocabulary import Reads

_TIMELESS = frozenset({"count", "sum", "categories"})


@dataclass(frozen=True)
class Segment:
    name: str
    description: str
    where: str
    reads: Reads
    file: str = ""

    @property
    def recency(self) -> bool:
        """Whether time alone can change who is in it (it reads a window or ``days_since``)."""
        return any(field not in _TIMELESS for _, field in self.reads.fields)


def members(
    segments: Iterable[Segment], customer: Mapping[str, Any], behaviour: Mapping[str, Any]
) -> frozenset[str]:
    """The names of ``segments`` whose condition holds; a condition that fails to run is false."""
    context = {"customer": customer, "behaviour": behaviour}
    return frozenset(segment.name for segment in segments if expressions.evaluate(segment.where, context))
