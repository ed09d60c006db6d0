"""``journeys test``: the example journeys' tests pass with full step coverage; failures show the
first difference and exit 1."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from typer.testing import CliRunner

from cli.main import app
from engine.loader import journey_files
from tests.simulate.conftest import JOURNEYS_DIR
from tests.support.backend_referral import (
    BACKEND_REFERRAL_DIR,
    BACKEND_REFERRAL_FILE,
    BACKEND_REFERRAL_TEMPLATES,
)

FAILING = """
journey: onboarding
stories:
  - name: converts as expected
    events: [{at: 2d, event: profile_completed}, {at: 5d, event: purchase_completed}]
    expect: {points: 350, stage: conversion}
  - name: expects the wrong offer
    variants: {pick_offer: free_shipping}
    expect:
      emails: [welcome, complete_your_profile, {email: offer_discount, day: 10}]
  - name: expects the wrong points
    expect: {points: 150}
"""


def test_example_journeys_pass_with_full_step_coverage(cli: CliRunner) -> None:
    result = cli.invoke(app, ["test", str(JOURNEYS_DIR), "--min-coverage", "100"])

    assert result.exit_code == 0, result.output
    assert "FAIL" not in result.stdout
    coverage = dict(re.findall(r"^  (\w+) +([\d.]+)% ", result.stdout, flags=re.MULTILINE))
    journeys = {path.stem for path in journey_files(JOURNEYS_DIR)}
    assert set(coverage) == journeys
    assert all(value == "100.0" for value in coverage.values()), coverage
    assert re.search(r"^\d+ passed, 0 failed$", result.stdout, flags=re.MULTILINE)


def test_the_backend_referral_fixture_passes_its_own_stories(cli: CliRunner) -> None:
    result = cli.invoke(app, ["test", str(BACKEND_REFERRAL_DIR), "--min-coverage", "100"])

    assert result.exit_code == 0, result.output
    assert re.search(r"^  referral +100\.0% ", result.stdout, flags=re.MULTILINE)
    assert re.search(r"^2 passed, 0 failed$", result.stdout, flags=re.MULTILINE)


def test_a_failing_expectation_prints_the_difference_and_exits_1(cli: CliRunner, tmp_path: Path) -> None:
    folder = tmp_path / "journeys"
    shutil.copytree(JOURNEYS_DIR, folder, ignore=shutil.ignore_patterns("tests"))
    (folder / "tests").mkdir()
    (folder / "tests" / "onboarding.yaml").write_text(FAILING, "utf-8")

    result = cli.invoke(app, ["test", str(folder)])

    assert result.exit_code == 1
    out = result.stdout
    assert "  PASS  converts as expected" in out
    assert "  FAIL  expects the wrong offer" in out
    assert (
        'emails[3]: expected offer_discount on day 10, got "Free shipping on your first order, Ada"'
        " (offer_free_shipping) on day 10"
    ) in out
    assert "  FAIL  expects the wrong points" in out
    assert "points: expected 150, got 100 (day 0 +100 Sign-up bonus)" in out
    assert "1 passed, 2 failed" in out
    assert re.search(r"onboarding +\d+\.\d% .*not entered: .*offer_discount", out)


def test_coverage_below_the_minimum_fails(cli: CliRunner, tmp_path: Path) -> None:
    folder = tmp_path / "journeys"
    shutil.copytree(JOURNEYS_DIR, folder, ignore=shutil.ignore_patterns("tests"))
    shutil.copy(BACKEND_REFERRAL_FILE, folder)  # two steps, with its template beside the examples'
    shutil.copytree(BACKEND_REFERRAL_TEMPLATES, folder / "templates", dirs_exist_ok=True)
    (folder / "tests").mkdir()
    (folder / "tests" / "referral.yaml").write_text(
        "stories:\n  - name: one referral\n    expect: {points: 250}\n", "utf-8"
    )

    result = cli.invoke(app, ["test", str(folder / "tests" / "referral.yaml"), "--min-coverage", "100"])
    assert result.exit_code == 0, result.output  # referral's two steps are both covered

    result = cli.invoke(app, ["test", str(folder), "--min-coverage", "100"])
    assert result.exit_code == 1
    assert "onboarding: step coverage 0.0% is below 100%" in result.output
