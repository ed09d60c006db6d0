"""Deploying a folder of journeys (``journeys deploy``, ``setup`` and ``up``): all or nothing, and
the deploy history names the command that did it."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from engine.errors import JourneyValidationError
from engine.loader import journey_files
from provision.deploy import deploy_directory
from store import Store
from tests.support.journey_files import JOURNEYS

JOURNEY_NAMES = sorted(file.stem for file in journey_files(JOURNEYS))


async def test_the_history_names_the_command_and_a_second_run_adds_nothing(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'journeys.db'}"

    first = await deploy_directory(JOURNEYS, url, deployed_by="journeys setup")
    again = await deploy_directory(JOURNEYS, url, deployed_by="journeys up")

    assert [(d.journey, d.kind, d.new) for d in first] == [
        *((n, "journey", True) for n in JOURNEY_NAMES),
        ("rewards", "loyalty program", True),
    ]
    assert not any(d.new for d in again)
    store = Store(url)
    try:
        history = await store.deployments.history("onboarding")
        stored = await store.deployments.get("onboarding")
    finally:
        await store.close()
    assert [(r.deployed_by, r.action, r.is_current) for r in history] == [("journeys setup", "deploy", True)]
    assert stored is not None and stored.source == (JOURNEYS / "onboarding.yaml").read_text("utf-8")


async def test_a_folder_with_one_invalid_journey_deploys_none(tmp_path: Path) -> None:
    folder = tmp_path / "journeys"
    shutil.copytree(JOURNEYS, folder)
    (folder / "winback.yaml").write_text("journey: winback\n", "utf-8")
    url = f"sqlite+aiosqlite:///{tmp_path / 'journeys.db'}"

    with pytest.raises(JourneyValidationError):
        await deploy_directory(folder, url, deployed_by="cli")

    store = Store(url)
    try:
        await store.migrate()
        assert await store.deployments.names() == []
    finally:
        await store.close()


async def test_the_loyalty_program_is_deployed_with_the_journeys_once(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'journeys.db'}"
    await deploy_directory(JOURNEYS, url, deployed_by="cli")
    again = await deploy_directory(JOURNEYS, url, deployed_by="cli")
    assert [(d.journey, d.new) for d in again if d.kind == "loyalty program"] == [("rewards", False)]
    store = Store(url)
    try:
        active = await store.loyalty_programs.active()
        versions = await store.loyalty_programs.versions()
    finally:
        await store.close()
    assert active is not None and active.source.program == "rewards"
    assert len(versions) == 1


async def test_an_invalid_loyalty_program_deploys_nothing_and_is_positioned(tmp_path: Path) -> None:
    folder = tmp_path / "journeys"
    shutil.copytree(JOURNEYS, folder)
    text = (folder / "loyalty.yaml").read_text("utf-8").replace("threshold: 1000,", "threshhold: 1000,")
    (folder / "loyalty.yaml").write_text(text, "utf-8")
    url = f"sqlite+aiosqlite:///{tmp_path / 'journeys.db'}"

    with pytest.raises(JourneyValidationError) as info:
        await deploy_directory(folder, url, deployed_by="cli")

    messages = [str(error) for error in info.value.errors]
    assert any('unknown key "threshhold"; did you mean "threshold"?' in m for m in messages), messages
    assert all(m.startswith(f"{folder / 'loyalty.yaml'}:") for m in messages)
    store = Store(url)
    try:
        await store.migrate()
        assert await store.deployments.names() == []
        assert await store.loyalty_programs.active() is None
    finally:
        await store.close()


async def test_a_broken_segment_file_deploys_nothing_and_is_named(tmp_path: Path) -> None:
    folder = tmp_path / "journeys"
    shutil.copytree(JOURNEYS, folder)
    (folder / "segments" / "vip.yaml").write_text("segment: vip\nwher: customer.points > 1\n", "utf-8")
    url = f"sqlite+aiosqlite:///{tmp_path / 'journeys.db'}"

    with pytest.raises(JourneyValidationError) as caught:
        await deploy_directory(folder, url, deployed_by="cli")

    assert [str(error) for error in caught.value.errors] == [
        f'{folder / "segments" / "vip.yaml"}:1:1 where: "where" is required',
        f'{folder / "segments" / "vip.yaml"}:2:1 wher: unknown key "wher"; did you mean "where"?',
    ]
    store = Store(url)
    try:
        await store.migrate()
        assert await store.deployments.names() == []
    finally:
        await store.close()
