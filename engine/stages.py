"""Lifecycle stages a customer can be in."""

from __future__ import annotations

from typing import Literal, get_args

Stage = Literal["reach", "acquisition", "conversion", "retention", "loyalty", "at_risk", "lapsed", "won_back"]
STAGES: tuple[str, ...] = get_args(Stage)
