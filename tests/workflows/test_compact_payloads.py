"""What runs write into history leaves out fields at zero defaults (``contracts.compact``) and reads
back as it was; JSON written whole before reads the same."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import ClassVar

from pydantic import BaseModel, Field
from pydantic_core import to_json

from contracts.activities import AwardResult, SendEmailRequest, StepMark
from contracts.compact import Compact
from contracts.customers import CustomerSnapshot, HistoryView
from contracts.events import CustomerEvent
from contracts.plans import PlanRef
from workflows.models import JourneyInput

AT = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def start_input() -> JourneyInput:
    return JourneyInput(
        plan_ref=PlanRef(journey="onboarding", version="abc"),
        customer_id="ada",
        trigger=CustomerEvent(event_id="e1", customer_id="ada", name="signed_up", properties={"p": 1}),
        customer=CustomerSnapshot(id="ada", email="ada@example.com", history=HistoryView()),
    )


def test_zero_defaults_are_left_out_here_and_nested_and_read_back_the_same() -> None:
    value = start_input()
    written = json.loads(to_json(value))

    assert set(written) == {"plan_ref", "customer_id", "trigger", "history_budget", "customer"}
    assert "timestamp" not in written["trigger"] and "traits" not in written["trigger"]
    assert "tier" not in written["customer"] and "badges" not in written["customer"]
    assert written["customer"]["history"] == {}  # purchase_total 0.0 is its default 0
    assert JourneyInput.model_validate(written) == value
    assert JourneyInput.model_validate_json(value.model_dump_json()) == value


def test_defaults_that_are_not_zero_are_always_written() -> None:
    written = json.loads(to_json(start_input()))

    # A default like these may change one day; an old payload must keep saying what it said.
    assert written["history_budget"] == 4000
    assert written["customer"]["stage"] == "reach" and written["customer"]["locale"] == "en"


def test_python_dumps_stay_whole() -> None:
    assert start_input().model_dump()["state"] is None
    assert AwardResult(points=1, balance=1, lifetime_points=1).model_dump()["tier"] is None


def test_requests_and_results_read_the_whole_json_written_before() -> None:
    old = {
        "key": "k",
        "workflow_id": "w",
        "journey": "j",
        "version": "v",
        "step": "s",
        "customer_id": "c",
        "at": AT.isoformat(),
        "records": [],
        "entry": "e",
        "marks": [{"step": "s", "kind": "entered", "detail": "", "at": None, "seq": 0}],
        "hold_if_paused": False,
        "template": "welcome",
        "templates": None,
        "event": {},
        "data": {},
    }
    request = SendEmailRequest.model_validate(old)
    written = json.loads(to_json(request))

    assert written["marks"] == [{"step": "s", "kind": "entered", "seq": 0}]
    assert "templates" not in written and "hold_if_paused" not in written and "records" not in written
    assert SendEmailRequest.model_validate(written) == request
    assert request.marks == [StepMark(step="s", kind="entered", seq=0)]
    result = {"points": 5, "balance": 5, "lifetime_points": 5, "tier": None, "previous_tier": None}
    assert AwardResult.model_validate(result) == AwardResult.model_validate_json(
        to_json(AwardResult.model_validate(result))
    )


class _Inner(BaseModel):  # a plain model: pruned by the model holding it, unless kept whole
    note: str = ""
    count: int = 0


class _Outer(Compact):
    keep_whole: ClassVar[frozenset[str]] = frozenset({"whole"})

    pruned: _Inner = _Inner(note="x")
    whole: _Inner = _Inner(note="y")
    items: list[_Inner] = Field(default_factory=list)
    flag: bool = False
    ratio: float = 0


def test_a_field_kept_whole_keeps_its_zeros_and_the_others_lose_theirs() -> None:
    value = _Outer(items=[_Inner(), _Inner(count=2)], ratio=0.0, flag=False)

    for _ in range(2):  # the second dump reads the field table worked out by the first
        written = json.loads(to_json(value))
        assert written == {
            "pruned": {"note": "x"},
            "whole": {"note": "y", "count": 0},
            "items": [{}, {"count": 2}],
        }
        assert _Outer.model_validate(written) == value


def test_false_is_not_taken_for_a_zero_default_of_another_kind() -> None:
    class _Counted(Compact):
        count: int = 0

    written = json.loads(to_json(_Counted.model_construct(count=False)))

    assert written == {"count": False}
