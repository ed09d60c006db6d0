"""``journeys simulate --customers N``: a funnel whose numbers add up."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from typer.testing import CliRunner

from cli.main import app
from engine.loader import compile_file
from engine.plan import AwardNode, SendEmailNode
from tests.simulate.conftest import JOURNEYS_DIR, ONBOARDING

N = 24


def test_funnel_numbers_are_consistent(cli: CliRunner) -> None:
    args = ["simulate", str(ONBOARDING), "--customers", str(N), "--seed", "5"]
    result = cli.invoke(
        app, [*args, "--p", "profile_completed=0.5", "--p", "purchase_completed=0.4", "--json"]
    )

    assert result.exit_code == 0, result.output
    funnel = json.loads(result.stdout)
    plan = compile_file(ONBOARDING)
    steps = {step["step"]: step for step in funnel["steps"]}
    assert list(steps) == [node.id for node in plan.nodes]
    assert funnel["customers"] == funnel["entered"] == N
    runs = sum(funnel["outcomes"].values())
    assert runs == N
    assert steps["joined"]["entered"] == N
    assert sum(s["exited"] + s["waiting"] for s in steps.values()) == runs
    assert sum(s["converted"] for s in steps.values()) == funnel["converted"]
    for node in plan.nodes:
        counts = steps[node.id]
        assert counts["exited"] + counts["waiting"] <= counts["entered"]
        if isinstance(node, SendEmailNode):
            assert counts["emails"] == counts["entered"]  # nobody is unsubscribed when the mail goes
        if isinstance(node, AwardNode):
            assert counts["points"] == counts["entered"] * node.points
    assert steps["activated"]["exited"] == steps["activated"]["entered"]
    split = steps["pick_offer"]
    offers = steps["offer_discount"]["entered"] + steps["offer_free_shipping"]["entered"]
    assert offers + split["exited"] == split["entered"]  # the control group leaves at the split
    assert funnel["emails"] == sum(s["emails"] for s in steps.values())
    assert "profile_completed 50% within 14d" in funnel["assumed"]


def test_funnel_text_and_same_seed_same_forecast(cli: CliRunner) -> None:
    args = ["simulate", str(ONBOARDING), "--customers", "8", "--seed", "11"]
    first = cli.invoke(app, args)
    second = cli.invoke(app, args)

    assert first.exit_code == 0, first.output
    assert "onboarding: forecast for 8 simulated customers" in first.stdout
    assert first.stdout.splitlines()[3].split()[:4] == ["step", "kind", "entered", "%"]
    assert first.stdout == second.stdout


def test_a_forecast_split_over_two_processes_counts_every_customer(cli: CliRunner) -> None:
    result = cli.invoke(
        app, ["simulate", str(ONBOARDING), "--customers", "6", "--processes", "2", "--seed", "2", "--json"]
    )

    assert result.exit_code == 0, result.output
    funnel = json.loads(result.stdout)
    assert funnel["customers"] == funnel["entered"] == sum(funnel["outcomes"].values()) == 6
    assert funnel["steps"][0]["entered"] == 6


# Bronze comes with 100 points under the example loyalty program; with no program, nobody has a tier.
TIERED = """
journey: tiered
stage: loyalty
trigger: {event: signed_up}
steps:
  - {id: bonus, award: {points: 150, reason: Welcome}}
  - id: by_tier
    branch:
      cases:
        - {when: "customer.tier == 'bronze'", next: bronze}
      else: untiered
  - {id: untiered, exit: no tier}
  - {id: bronze, wait: 1d}
"""


def test_a_forecast_runs_under_the_loyalty_program_beside_the_journey(cli: CliRunner, tmp_path: Path) -> None:
    journey = tmp_path / "tiered.yaml"
    journey.write_text(TIERED, "utf-8")
    args = ["simulate", str(journey), "--customers", "4", "--seed", "3", "--json"]
    alone = cli.invoke(app, args)
    shutil.copy(JOURNEYS_DIR / "loyalty.yaml", tmp_path / "loyalty.yaml")
    with_program = cli.invoke(app, args)

    assert alone.exit_code == 0, alone.output
    assert with_program.exit_code == 0, with_program.output
    entered = {
        name: {step["step"]: step["entered"] for step in json.loads(result.stdout)["steps"]}
        for name, result in (("alone", alone), ("with_program", with_program))
    }
    assert (entered["alone"]["bronze"], entered["alone"]["untiered"]) == (0, 4)
    assert (entered["with_program"]["bronze"], entered["with_program"]["untiered"]) == (4, 0)
