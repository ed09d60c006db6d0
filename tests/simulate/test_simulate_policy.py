"""``journeys simulate`` applies the folder's channel policy (``channels.yaml``) as the worker does:
a cap of one marketing email a day skips the day's second one, with its reason; without the file
both are sent."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from cli.main import app
from tests.simulate.conftest import JOURNEYS_DIR

TWO_OFFERS = """journey: two_offers
stage: retention
trigger: {event: browsed}
entry: always
steps:
  - {id: first, send: {email: welcome}}
  - {id: pause, wait: 2h}
  - {id: second, send: {email: offer_discount}}
"""

ONE_A_DAY = """policy: main
channels:
  email:
    caps: {per_day: 1}
"""


def folder(tmp_path: Path, policy: str | None) -> Path:
    """A journeys folder with the two-offers journey, the shipped templates and maybe a policy."""
    shutil.copytree(JOURNEYS_DIR / "templates", tmp_path / "templates")
    journey = tmp_path / "two_offers.yaml"
    journey.write_text(TWO_OFFERS, "utf-8")
    if policy is not None:
        (tmp_path / "channels.yaml").write_text(policy, "utf-8")
    return journey


def emails(cli: CliRunner, journey: Path) -> list[dict[str, Any]]:
    result = cli.invoke(app, ["simulate", str(journey), "-t", "email=ada@example.com", "--json"])
    assert result.exit_code == 0, result.output
    messages: list[dict[str, Any]] = json.loads(result.stdout)["summary"]["emails"]
    return messages


def test_a_cap_of_one_a_day_skips_the_second_marketing_email_with_its_reason(
    cli: CliRunner, tmp_path: Path
) -> None:
    sent = emails(cli, folder(tmp_path, ONE_A_DAY))

    assert [(m["day"], m["step"], m["status"], m["reason"]) for m in sent] == [
        (0, "first", "sent", None),
        (0, "second", "skipped", "frequency cap: 1 marketing email a day"),
    ]


def test_without_a_policy_file_both_emails_are_sent(cli: CliRunner, tmp_path: Path) -> None:
    sent = emails(cli, folder(tmp_path, None))

    assert [(m["day"], m["step"], m["status"]) for m in sent] == [(0, "first", "sent"), (0, "second", "sent")]


def emails_per_step(cli: CliRunner, journey: Path) -> dict[str, int]:
    """A forecast of two customers, one per shard process: the emails sent at each step."""
    command = ["simulate", str(journey), "--customers", "2", "--processes", "2", "--json"]
    result = cli.invoke(app, command)
    assert result.exit_code == 0, result.output
    return {step["step"]: step["emails"] for step in json.loads(result.stdout)["steps"]}


def test_a_forecast_on_shard_processes_applies_the_policy_too(cli: CliRunner, tmp_path: Path) -> None:
    capped = emails_per_step(cli, folder(tmp_path / "capped", ONE_A_DAY))
    free = emails_per_step(cli, folder(tmp_path / "free", None))

    assert (capped["first"], capped["second"]) == (2, 0)
    assert (free["first"], free["second"]) == (2, 2)
