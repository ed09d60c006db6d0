"""``journeys simulate``: the onboarding story "completes profile day 2, buys day 5" as a timeline."""

from __future__ import annotations

import json
import re
from pathlib import Path

from typer.testing import CliRunner

from cli.main import app
from tests.simulate.conftest import ONBOARDING

STORY = ["-e", "2d profile_completed", "-e", "5d 10:00 purchase_completed order_id=o-1 total=42"]


def lines_on(output: str, day: int) -> list[str]:
    return [line for line in output.splitlines() if re.match(rf"^day +{day}  \d\d:\d\d ", line)]


def test_profile_on_day_2_and_purchase_on_day_5_timeline(cli: CliRunner) -> None:
    result = cli.invoke(app, ["simulate", str(ONBOARDING), *STORY])

    assert result.exit_code == 0, result.output
    day0, day2, day5 = lines_on(result.stdout, 0), lines_on(result.stdout, 2), lines_on(result.stdout, 5)
    assert any(
        "welcome  " in line and 'email "Welcome aboard, Ada!" (welcome) to ada@example.com' in line
        for line in day0
    )
    assert any("signup_bonus" in line and "+100 points (Sign-up bonus), balance 100" in line for line in day0)
    assert any("wait_profile" in line and "profile_completed: arrived" in line for line in day2)
    assert any(
        "profile_bonus" in line and "+50 points (Profile completed), balance 150" in line for line in day2
    )
    assert any("goal reached: purchase_completed; stage acquisition → conversion" in line for line in day5)
    assert any(
        "first_purchase_bonus" in line and "+200 points (First purchase), balance 350" in line
        for line in day5
    )
    assert any('"Thank you for your first order, Ada" (first_purchase_thanks)' in line for line in day5)
    assert any("onboarding ends (first purchase)" in line for line in day5)
    assert all(line.split()[2] == "10:00" for line in day5)
    assert not [line for line in result.stdout.splitlines() if re.match(r"^day +([13-46-9]|\d\d) ", line)]
    summary = result.stdout[result.stdout.index("Summary") :]
    assert "emails   2 sent" in summary
    assert "points   350" in summary
    assert "stage    conversion" in summary
    assert "exited on day 5: first purchase; goal reached on day 5" in summary


def test_json_timeline_parses(cli: CliRunner) -> None:
    result = cli.invoke(app, ["simulate", str(ONBOARDING), *STORY, "--json"])

    assert result.exit_code == 0, result.output
    timeline = json.loads(result.stdout)
    assert timeline["journey"] == "onboarding"
    assert [(m["day"], m["name"]) for m in timeline["summary"]["emails"]] == [
        (0, "welcome"),
        (5, "first_purchase_thanks"),
    ]
    assert timeline["summary"]["points"] == 350
    assert timeline["summary"]["stage"] == "conversion"
    (run,) = timeline["summary"]["runs"]
    assert (run["outcome"], run["reason"], run["goal_reached"]) == ("exited", "first purchase", True)
    steps = [(e["day"], e["step"]) for e in timeline["entries"] if e["kind"] == "award"]
    assert steps == [(0, "signup_bonus"), (2, "profile_bonus"), (5, "first_purchase_bonus")]


def test_html_writes_every_email(cli: CliRunner, tmp_path: Path) -> None:
    result = cli.invoke(app, ["simulate", str(ONBOARDING), *STORY, "--html", str(tmp_path / "mail")])

    assert result.exit_code == 0, result.output
    files = sorted((tmp_path / "mail").glob("*.html"))
    assert [f.name for f in files] == [
        "day00-01-onboarding-welcome.html",
        "day05-02-onboarding-thank_you.html",
    ]
    assert "Ada" in files[0].read_text("utf-8")
    assert "unsubscribe" in files[1].read_text("utf-8").lower()


def test_a_story_file_with_variant_and_time_zone(cli: CliRunner, tmp_path: Path) -> None:
    story = tmp_path / "story.yaml"
    story.write_text(
        "name: quiet in Jakarta\n"
        "customer: {email: budi@example.com, first_name: Budi, timezone: Asia/Jakarta}\n"
        "variants: {pick_offer: discount}\n"
        "horizon: 30d\n",
        "utf-8",
    )
    result = cli.invoke(app, ["simulate", str(ONBOARDING), "--story", str(story)])

    assert result.exit_code == 0, result.output
    assert "day 0 = " in result.stdout and "Asia/Jakarta" in result.stdout
    day10 = lines_on(result.stdout, 10)
    assert any("A/B split: variant discount" in line for line in day10)
    assert any('"10% off your first order, Budi"' in line for line in day10)
    assert all(line.split()[2] == "09:00" for line in day10)
    assert "stage    at_risk" in result.stdout


def test_a_bad_story_is_an_error(cli: CliRunner) -> None:
    result = cli.invoke(app, ["simulate", str(ONBOARDING), "-e", "3 days profile_completed"])

    assert result.exit_code == 2
    assert "not a duration" in result.output or "not an offset" in result.output


def test_an_event_after_the_horizon_is_a_clear_error(cli: CliRunner) -> None:
    result = cli.invoke(app, ["simulate", str(ONBOARDING), "-e", "200d profile_completed"])

    assert result.exit_code == 2
    expected = 'error: story "command-line story": profile_completed at 200d is after the horizon'
    assert expected in result.output
