"""The JSON Schema editors use: valid, in step with the loader, and checked in up to date."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from engine.loader import journey_files
from engine.schema import json_schema, vocabulary

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = journey_files(REPO / "journeys")


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft202012Validator:
    schema = json_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def test_schema_names_its_dialect_and_the_top_level_keys() -> None:
    schema = json_schema()
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["title"] == "Journeys journey file"
    assert schema["additionalProperties"] is False
    assert sorted(schema["required"]) == ["journey", "stage", "steps", "trigger"]
    assert sorted(schema["properties"]) == [
        "description",
        "entry",
        "exit_on",
        "goal",
        "journey",
        "sample",
        "stage",
        "steps",
        "tracking",
        "trigger",
    ]


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda path: path.name)
def test_every_example_journey_validates(validator: jsonschema.Draft202012Validator, path: Path) -> None:
    assert list(validator.iter_errors(yaml.safe_load(path.read_text()))) == []


def _journey(*steps: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"journey": "demo", "stage": "reach", "trigger": {"event": "x"}, "steps": list(steps), **extra}


@pytest.mark.parametrize(
    "journey",
    [
        _journey({"id": "a", "exit": None}, entri="once"),
        _journey({"id": "a", "wait": "3 days"}),
        _journey({"id": "a", "wait": {"until": "9am"}}),
        _journey({"id": "a", "send": {"email": "x"}, "award": {"points": 1, "reason": "r"}}),
        _journey({"id": "a"}),
        _journey({"id": "A", "exit": None}),
        _journey({"id": "a", "set_stage": "lost"}),
        _journey(),
        _journey({"id": "a", "exit": None}, entry={"cooldown": "a month"}),
    ],
)
def test_schema_flags_what_the_loader_rejects(
    validator: jsonschema.Draft202012Validator, journey: dict[str, Any]
) -> None:
    assert list(validator.iter_errors(journey)) != []


def test_schema_accepts_every_step_kind(validator: jsonschema.Draft202012Validator) -> None:
    journey = _journey(
        {"id": "a", "send": {"webhook": "sms", "payload": {"text": "hi"}}},
        {"id": "b", "wait": {"duration": "1d", "until": "09:00"}},
        {"id": "c", "wait_for": {"event": "x", "timeout": "2w"}, "on_event": "d", "on_timeout": "d"},
        {"id": "d", "branch": {"cases": [{"when": "customer.points > 1", "next": "e"}], "else": "e"}},
        {"id": "e", "split": {"variants": [{"name": "v", "weight": 1}], "control": 10}},
        {"id": "f", "award": {"badge": "star", "reason": "r"}},
        {"id": "g", "set_stage": "won_back", "next": "h"},
        {"id": "h", "exit": "done"},
        entry={"cooldown": "30d"},
        goal={"event": "y", "within": "14d", "stage": "conversion", "exit": True},
    )
    assert list(validator.iter_errors(journey)) == []


def test_checked_in_schema_is_current() -> None:
    checked_in = json.loads((REPO / "journey.schema.json").read_text())
    assert checked_in == json_schema(), "run: .venv/bin/journeys schema > journey.schema.json"


def test_vocabulary_knows_every_key() -> None:
    words = vocabulary()
    for key in (
        "journey",
        "exit_on",
        "wait_for",
        "on_timeout",
        "else",
        "control",
        "cooldown",
        "until",
        "badge",
    ):
        assert key in words
    assert "otherwise" not in words  # written as else
