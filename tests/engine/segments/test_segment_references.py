"""A journey condition reads only segments that exist: ``customer.segments.nope`` is an error at its
line, with a did-you-mean drawn from ``journeys/segments/``."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from engine.loader import compile_file
from engine.segments.folder import segment_names
from engine.segments.references import segments_read
from tests.support.journey_files import JOURNEYS, WriteJourney

Problem = tuple[int, int, str, str]

READS_VIPP = """
journey: demo
stage: retention
trigger: {event: cart_abandoned, where: "customer.segments.vipp"}
steps:
  - id: check
    branch:
      cases: [{when: "customer.segments['shoe_browser'] and customer.points > 1", next: done}]
  - {id: done, exit: finished}
"""


@pytest.fixture
def with_segments(workspace: Path) -> Path:
    shutil.copytree(JOURNEYS / "segments", workspace / "segments")
    return workspace


def test_the_segments_a_condition_reads() -> None:
    assert segments_read("customer.segments.vip and customer.segments['inactive_30d']") == [
        "vip",
        "inactive_30d",
    ]
    assert segments_read("customer.segments | length > 0 or event.segments.vip") == []


def test_an_unknown_segment_is_positioned_with_did_you_mean(
    with_segments: Path, problems: Callable[[str], list[Problem]]
) -> None:
    assert problems(READS_VIPP) == [
        (
            3,
            41,
            "trigger.where",
            '"customer.segments.vipp" reads customer.segments.vipp: there is no segment "vipp" in'
            ' journeys/segments/; did you mean "vip"?',
        ),
        (
            7,
            22,
            "steps[0].branch.cases[0].when",
            "\"customer.segments['shoe_browser'] and customer.points > 1\" reads"
            ' customer.segments.shoe_browser: there is no segment "shoe_browser" in journeys/segments/;'
            ' did you mean "shoe_browsers"?',
        ),
    ]


def test_a_folder_without_segments_knows_none(problems: Callable[[str], list[Problem]]) -> None:
    ((_, _, path, message), _) = problems(READS_VIPP)
    assert path == "trigger.where"
    assert message.endswith('there is no segment "vipp" (journeys/segments/ defines none)')


def test_known_segments_pass(with_segments: Path, write: WriteJourney) -> None:
    fixed = READS_VIPP.replace("vipp", "vip").replace("shoe_browser'", "shoe_browsers'")
    assert compile_file(write(fixed, "demo.yaml")).trigger.where == "customer.segments.vip"


def test_a_broken_segment_file_still_names_its_segment(with_segments: Path) -> None:
    (with_segments / "segments" / "vip.yaml").write_text("segment: vip\nwhere: [\n", "utf-8")
    (with_segments / "segments" / "lapsed.yaml").write_text("{{{", "utf-8")
    assert segment_names(with_segments) == {"vip", "lapsed", "inactive_30d", "shoe_browsers"}
