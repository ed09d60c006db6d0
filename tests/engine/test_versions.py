"""Versions by content (``engine.versions``): stored versions and recorded histories name these
hashes, so the way one is made must never change."""

from __future__ import annotations

from engine.versions import content_hash
from tests.support.loyalty_program import tiers_program


def test_the_hash_is_of_canonical_json_whatever_the_key_order() -> None:
    # SHA-256 of '{"a":[1,"\\u00e9"],"b":1}' (keys sorted, no spaces, ASCII escapes).
    full = "6ba0af6c7893ec0fe11fc2dcfa1df4bc601e95ab4b5d5c72bda77b0cb499e845"
    assert content_hash({"b": 1, "a": [1, "é"]}, 64) == full
    assert content_hash({"a": [1, "é"], "b": 1}, 16) == full[:16]


def test_a_programs_version_is_what_it_was() -> None:
    assert tiers_program().version == "df29358ae2867db8"  # as deployed before engine.versions
