"""The ``journeys`` command line: validate, graph, schema and plan."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from typer.testing import CliRunner

from cli.main import app
from engine.diagram import mermaid
from engine.loader import compile_file
from engine.schema import json_schema
from tests.support.journey_files import WriteJourney

JOURNEYS = Path(__file__).resolve().parents[2] / "journeys"
runner = CliRunner()

BROKEN = """
journey: demo
stage: acquisition
trigger: {event: signed_up}
steps:
  - {id: welcome, send: {email: welcome}, next: nowhere}
  - {id: pause, wait: 3 days}
"""
FINE = "journey: fine\nstage: reach\ntrigger: {event: x}\nsteps: [{id: a, exit: done}]\n"
BROKEN_LINES = [
    'broken.yaml:5:49 steps[0].next: goes to step "nowhere", which does not exist',
    'broken.yaml:6:23 steps[1].wait: "3 days" is not a duration; write 3d',
]


def test_validate_the_example_folder() -> None:
    result = runner.invoke(app, ["validate", str(JOURNEYS)])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    names = (
        "loyalty.yaml",  # the loyalty program, checked first
        "segments/inactive_30d.yaml",  # then the segments
        "segments/shoe_browsers.yaml",
        "segments/vip.yaml",
        "challenge.yaml",
        "earn_on_purchase.yaml",
        "engagement.yaml",
        "onboarding.yaml",
        "points_expiring.yaml",
        "referral_native.yaml",
        "tier_downgrade.yaml",
        "vip_weekly.yaml",
        "winback.yaml",
        "winback_personal.yaml",
    )
    assert [line.split()[1] for line in lines] == [str(JOURNEYS / name) for name in names]
    plan = compile_file(JOURNEYS / "onboarding.yaml")
    assert f"ok  {JOURNEYS / 'onboarding.yaml'}  (onboarding v{plan.version}, 15 steps)" in lines
    assert result.stderr == ""


def test_validate_lists_every_problem_and_fails(write: WriteJourney) -> None:
    broken = write(BROKEN, "broken.yaml")
    fine = write(FINE, "fine.yaml")
    result = runner.invoke(app, ["validate", str(broken), str(fine)])
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [*BROKEN_LINES, "2 problem(s) in 2 file(s)"]
    assert result.stdout.startswith(f"ok  {fine}  (fine v")


def test_validate_refuses_two_files_with_the_same_journey_id(write: WriteJourney) -> None:
    first = write(FINE, "fine.yaml")
    second = write(FINE, "fine_copy.yaml")
    result = runner.invoke(app, ["validate", str(first), str(second)])
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        f'{second}:1:1 journey: "fine" is already defined in {first}',
        "1 problem(s) in 2 file(s)",
    ]


def test_validate_a_path_that_does_not_exist(tmp_path: Path) -> None:
    result = runner.invoke(app, ["validate", str(tmp_path / "nope.yaml")])
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        f"{tmp_path / 'nope.yaml'}: no such file or folder",
        "1 problem(s) in 0 file(s)",
    ]


def test_validate_needs_a_path() -> None:
    result = runner.invoke(app, ["validate"])
    assert result.exit_code == 2
    assert "Missing argument 'paths'" in result.stderr


def test_graph() -> None:
    result = runner.invoke(app, ["graph", str(JOURNEYS / "referral_native.yaml")])
    assert result.exit_code == 0
    assert result.stdout == mermaid(compile_file(JOURNEYS / "referral_native.yaml"))
    assert result.stdout.splitlines()[:2] == [
        "flowchart TD",
        '    START(("referral_qualified")) --> thank_referrer',
    ]


def test_graph_and_plan_of_a_broken_journey(write: WriteJourney) -> None:
    broken = write(BROKEN, "broken.yaml")
    for command in ("graph", "plan"):
        result = runner.invoke(app, [command, str(broken)])
        assert result.exit_code == 1
        assert result.stdout == ""
        assert result.stderr.splitlines() == BROKEN_LINES


def test_schema() -> None:
    result = runner.invoke(app, ["schema"])
    assert result.exit_code == 0
    assert json.loads(result.stdout) == json_schema()
    assert result.stdout == (JOURNEYS.parent / "journey.schema.json").read_text()


def test_plan() -> None:
    result = runner.invoke(app, ["plan", str(JOURNEYS / "onboarding.yaml")])
    assert result.exit_code == 0
    plan = json.loads(result.stdout)
    assert plan == compile_file(JOURNEYS / "onboarding.yaml").model_dump(mode="json")
    assert plan["start"] == "joined"
    assert plan["nodes"][3] == {
        "id": "wait_profile",
        "next": "profile_bonus",
        "kind": "wait_for",
        "event": "profile_completed",
        "where": None,
        "timeout_seconds": 259200,
        "on_event": "profile_bonus",
        "on_timeout": "nudge_profile",
    }


def test_validate_reports_each_segment_problem_at_its_file_and_line(tmp_path: Path) -> None:
    folder = tmp_path / "journeys"
    shutil.copytree(JOURNEYS, folder)
    (folder / "segments" / "vip.yaml").write_text(
        "segment: vip\nwhere: behaviour.purchase_completed.count_90 >= 3\n", "utf-8"
    )
    (folder / "segments" / "lapsed.yaml").write_text("segment: lapsed\nwhere: [\n", "utf-8")
    result = runner.invoke(app, ["validate", str(folder)])
    assert result.exit_code == 1
    vip, lapsed = folder / "segments" / "vip.yaml", folder / "segments" / "lapsed.yaml"
    assert result.stderr.splitlines() == [
        f"{lapsed}:3:1 YAML syntax error: did not find expected node content (while parsing a flow node)",
        f'{vip}:2:8 where: "behaviour.purchase_completed.count_90 >= 3": behaviour.purchase_completed has'
        ' no field "count_90"; did you mean "count_90d"?',
        "2 problem(s) in 15 file(s)",
    ]
    assert f"ok  {folder / 'segments' / 'inactive_30d.yaml'}  (segment inactive_30d)" in result.stdout
