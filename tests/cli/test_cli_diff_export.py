"""``journeys diff``, ``journeys export`` and ``journeys history`` against a real store (SQLite) in
which customers really wait at a step: a Sandbox (time-skipping Temporal, the real workflow and
activities) signs them up first, then the commands run on what it left behind."""

from __future__ import annotations

import asyncio
import json
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli.main import app
from config.settings import get_settings
from engine.loader import journey_files, load_directory
from simulate.sandbox import Sandbox
from store import Store
from tests.support.journey_files import JOURNEYS

runner = CliRunner()
ONBOARDING = (JOURNEYS / "onboarding.yaml").read_text("utf-8")
PROFILE_STEPS = """  - id: wait_profile
    wait_for: {event: profile_completed, timeout: 3d}
    on_timeout: nudge_profile
  - {id: profile_bonus, award: {points: 50, reason: Profile completed}, next: wait_purchase}
  - {id: nudge_profile, send: {email: complete_your_profile}}
"""
WITHOUT_PROFILE = ONBOARDING.replace(PROFILE_STEPS, "")


@dataclass(frozen=True)
class Deployed:
    folder: Path  # a copy of journeys/, the journeys folder of the settings
    url: str  # the store
    version: str  # onboarding's current version


async def _fill(folder: Path, url: str, workdir: Path) -> str:
    """Deploy every journey of ``folder`` with its YAML and let two customers reach wait_profile."""
    plans = load_directory(folder)
    async with Sandbox.open(plans, workdir=workdir, database_url=url) as sandbox:
        for plan, file in zip(plans, journey_files(folder), strict=True):
            await sandbox.store.deployments.publish(plan, file.read_text("utf-8"), deployed_by="cli")
        for name in ("amy", "ben"):
            await sandbox.event("signed_up", name, traits={"email": f"{name}@example.com"})
        version = next(plan.version for plan in plans if plan.journey == "onboarding")
        for _ in range(600):
            counts = await sandbox.store.steps.counts("onboarding", version)
            if counts.steps.get("wait_profile") and counts.steps["wait_profile"].waiting == 2:
                return version
            await asyncio.sleep(0.05)
        raise AssertionError("the customers never reached wait_profile")


@pytest.fixture
def deployed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Deployed]:
    folder = tmp_path / "journeys"
    shutil.copytree(JOURNEYS, folder)
    url = f"sqlite+aiosqlite:///{tmp_path / 'journeys.db'}"
    version = asyncio.run(_fill(folder, url, tmp_path / "sandbox"))
    monkeypatch.setenv("JOURNEYS_DATABASE_URL", url)
    monkeypatch.setenv("JOURNEYS_JOURNEYS_DIR", str(folder))
    monkeypatch.chdir(tmp_path)  # no .env of the developer's
    get_settings.cache_clear()
    yield Deployed(folder, url, version)
    get_settings.cache_clear()


def test_diff_of_the_deployed_file_changes_nothing_and_exits_0(deployed: Deployed) -> None:
    result = runner.invoke(app, ["diff", str(deployed.folder / "onboarding.yaml")])

    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        f"journey onboarding: deployed {deployed.version}, this file {deployed.version}",
        "",
        "customers in flight:",
        f"  version {deployed.version} (current): 2 in flight; waiting at wait_profile 2",
        "",
        f"No change: this is the current version ({deployed.version}).",
    ]


def test_diff_of_a_change_shows_the_yaml_the_plan_and_the_customers_and_exits_1(deployed: Deployed) -> None:
    file = deployed.folder / "onboarding.yaml"
    file.write_text(WITHOUT_PROFILE, "utf-8")

    result = runner.invoke(app, ["diff", str(file)])

    assert result.exit_code == 1, result.output
    out = result.stdout
    assert f"--- onboarding.yaml@{deployed.version}\n+++ {file}\n" in out
    assert "-  - id: wait_profile\n-    wait_for: {event: profile_completed, timeout: 3d}\n" in out
    assert "\nplan:\n  - step wait_profile\n  - step profile_bonus\n  - step nudge_profile\n" in out
    assert "  ~ step signup_bonus: next 'wait_profile' -> 'wait_purchase'\n" in out
    assert "  - edge wait_profile -> nudge_profile on timeout\n" in out
    assert f"  version {deployed.version} (current): 2 in flight; waiting at wait_profile 2\n" in out
    sentence = (
        f"removes `wait_profile`, where 2 customers wait: they finish on version {deployed.version}; "
        "new entrants get the new version"
    )
    assert f"  - {sentence}\n" in out
    assert "\n2 customers are in flight; 2 of them wait at steps this change removes or changes." in out

    as_json = runner.invoke(app, ["diff", "--json", str(file)])
    review = json.loads(as_json.stdout)
    assert as_json.exit_code == 1
    assert (review["current"], review["changed"]) == (deployed.version, True)
    assert review["impact"]["sentences"] == [sentence]
    assert review["impact"]["versions"][0]["waiting"] == {"wait_profile": 2}


def test_diff_of_a_comment_is_no_change_to_the_plan(deployed: Deployed) -> None:
    file = deployed.folder / "onboarding.yaml"
    file.write_text(ONBOARDING + "# a note for the team\n", "utf-8")

    result = runner.invoke(app, ["diff", str(file)])

    assert result.exit_code == 0, result.output
    assert "the YAML differs only in comments or layout: a deploy changes nothing\n" in result.stdout
    assert "+# a note for the team\n" in result.stdout


def test_diff_of_a_journey_not_deployed_yet_exits_1(deployed: Deployed) -> None:
    file = deployed.folder / "onboarding_two.yaml"
    file.write_text(ONBOARDING.replace("journey: onboarding", "journey: onboarding_two"), "utf-8")

    result = runner.invoke(app, ["diff", str(file)])

    assert result.exit_code == 1, result.output
    assert "journey onboarding_two: deployed (none), this file " in result.stdout
    assert "plan: a new journey of 15 steps\n" in result.stdout
    assert "A new journey: everyone who enters from now on gets the new version" in result.stdout


def test_diff_of_an_invalid_or_missing_file_exits_2(deployed: Deployed) -> None:
    broken = deployed.folder / "onboarding.yaml"
    broken.write_text(ONBOARDING.replace("on_timeout: nudge_profile", "on_timeout: nowhere"), "utf-8")

    invalid = runner.invoke(app, ["diff", str(broken)])
    missing = runner.invoke(app, ["diff", str(deployed.folder / "nope.yaml")])
    binary = deployed.folder / "binary.yaml"
    binary.write_bytes(b"journey: caf\xe9\n")
    undecodable = runner.invoke(app, ["diff", str(binary)])

    assert invalid.exit_code == 2 and invalid.stdout == ""
    assert 'onboarding.yaml:17:17 steps[3].on_timeout: goes to step "nowhere", which does not exist' in (
        invalid.stderr
    )
    assert "problem(s); nothing to compare" in invalid.stderr
    assert (missing.exit_code, missing.stderr) == (2, f"{deployed.folder / 'nope.yaml'}: no such file\n")
    assert undecodable.exit_code == 2
    assert "binary.yaml:1:13 the file is not valid UTF-8" in undecodable.stderr


def test_diff_with_a_store_that_cannot_be_read_exits_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("JOURNEYS_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'never-migrated.db'}")
    monkeypatch.chdir(tmp_path)
    get_settings.cache_clear()
    try:
        result = runner.invoke(app, ["diff", str(JOURNEYS / "onboarding.yaml")])
    finally:
        get_settings.cache_clear()

    assert result.exit_code == 2
    assert result.stderr.startswith("cannot read the store (")
    assert "is it migrated (journeys deploy, journeys setup)?" in result.stderr


def test_export_writes_what_is_deployed_and_refuses_to_overwrite_a_file_that_differs(
    deployed: Deployed, tmp_path: Path
) -> None:
    out = tmp_path / "exported"
    names = sorted(path.stem for path in journey_files(JOURNEYS))  # every example journey is deployed

    fresh = runner.invoke(app, ["export", str(out)])
    in_place = runner.invoke(app, ["export"])  # the journeys folder: every file is what is deployed

    assert fresh.exit_code == 0, fresh.output
    assert sorted(p.name for p in out.iterdir()) == [f"{name}.yaml" for name in names]
    for name in names:
        assert (out / f"{name}.yaml").read_text("utf-8") == (JOURNEYS / f"{name}.yaml").read_text("utf-8")
    assert any(
        line.startswith(f"wrote  {out / 'onboarding.yaml'}  (onboarding ")
        for line in fresh.stdout.splitlines()
    )
    assert in_place.exit_code == 0
    assert [line.split()[0] for line in in_place.stdout.splitlines()] == ["same"] * len(names)

    (out / "onboarding.yaml").write_text(WITHOUT_PROFILE, "utf-8")
    (out / "winback.yaml").unlink()
    refused = runner.invoke(app, ["export", str(out)])

    assert refused.exit_code == 1
    assert refused.stderr.splitlines() == [
        f"{out / 'onboarding.yaml'} differs from the deployed onboarding {deployed.version}",
        "1 file(s) differ: nothing was written (--force overwrites)",
    ]
    assert not (out / "winback.yaml").exists()
    assert (out / "onboarding.yaml").read_text("utf-8") == WITHOUT_PROFILE

    forced = runner.invoke(app, ["export", str(out), "--force"])

    assert forced.exit_code == 0, forced.output
    assert (out / "onboarding.yaml").read_text("utf-8") == ONBOARDING
    assert (out / "winback.yaml").is_file()
    assert f"over   {out / 'onboarding.yaml'}  (onboarding {deployed.version})" in forced.stdout
    assert sorted(p.name for p in out.iterdir()) == [f"{name}.yaml" for name in names]  # no temporary file


def test_history_lists_who_deployed_each_version(deployed: Deployed) -> None:
    (deployed.folder / "onboarding.yaml").write_text(WITHOUT_PROFILE, "utf-8")
    deploy = runner.invoke(app, ["deploy"])
    assert deploy.exit_code == 0, deploy.output
    v2 = next(line.split()[2] for line in deploy.stdout.splitlines() if " onboarding " in f" {line} ")

    result = runner.invoke(app, ["history", "onboarding"])
    unknown = runner.invoke(app, ["history", "nothing_here"])

    assert result.exit_code == 0, result.output
    rows = [line.split("  ")[1:] for line in result.stdout.splitlines()]
    assert [[part.strip() for part in row if part.strip()] for row in rows] == [
        ["deploy", v2, "cli", "(current)"],
        ["deploy", deployed.version, "(not recorded)"],  # the sandbox deployed it first, naming nobody
    ]
    assert (unknown.exit_code, unknown.stderr) == (1, "no journey 'nothing_here' has been deployed\n")

    async def current() -> str | None:
        store = Store(deployed.url)
        try:
            plan = await store.deployments.current("onboarding")
            return plan.version if plan else None
        finally:
            await store.close()

    assert asyncio.run(current()) == v2
