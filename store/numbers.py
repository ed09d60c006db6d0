"""Numbers read from event properties: JSON numbers of any size, never converted before they are
compared (``float()`` of a 400-digit integer overflows), and never a bool (``True`` is no amount)."""

from __future__ import annotations

import math
from typing import Any


def finite_number(value: Any) -> int | float | None:
    """``value`` when it is an integer or a finite float (not a bool), else None."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value
