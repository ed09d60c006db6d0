"""The ``journeys`` command line and the channel policy: validate, deploy, channels-schema."""

from __future__ import annotations

import asyncio
import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli.main import app
from engine.channels.loader import load_policy
from engine.channels.schema import json_schema
from engine.errors import JourneyValidationError
from provision.deploy import deploy_directory
from store import Store
from tests.engine.channels.test_policy_file import example

JOURNEYS = Path(__file__).resolve().parents[2] / "journeys"
runner = CliRunner()


def test_channels_schema_prints_the_policy_files_schema() -> None:
    result = runner.invoke(app, ["channels-schema"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == json_schema()


def test_validate_checks_a_folders_policy_and_the_file_itself(tmp_path: Path) -> None:
    folder = tmp_path / "journeys"
    shutil.copytree(JOURNEYS, folder)
    file = folder / "channels.yaml"
    file.write_text(example(), "utf-8")
    policy = load_policy(file)
    ok = f"ok  {file}  (channel policy main v{policy.version})"
    whole = runner.invoke(app, ["validate", str(folder)])
    assert whole.exit_code == 0, whole.output
    assert ok in whole.stdout.splitlines()
    alone = runner.invoke(app, ["validate", str(file)])
    assert alone.exit_code == 0 and alone.stdout.splitlines() == [ok]

    broken = example().replace("percent: 5 ", "percent: 75 ")
    file.write_text(broken, "utf-8")
    line = next(n for n, row in enumerate(broken.splitlines(), 1) if "percent: 75" in row)
    result = runner.invoke(app, ["validate", str(file)])
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        f"{file}:{line}:12 control_group.percent: Input should be less than or equal to 50 (got 75)",
        "1 problem(s) in 1 file(s)",
    ]


def test_deploy_takes_the_policy_with_the_journeys_or_nothing(tmp_path: Path) -> None:
    folder = tmp_path / "journeys"
    shutil.copytree(JOURNEYS, folder)
    url = f"sqlite+aiosqlite:///{tmp_path / 'journeys.db'}"
    (folder / "channels.yaml").write_text("policy: main\nchannels: {email: {caps: {per_dya: 1}}}\n", "utf-8")
    result = runner.invoke(app, ["validate", str(folder)])
    assert result.exit_code == 1 and 'did you mean "per_day"?' in result.stderr
    with pytest.raises(JourneyValidationError) as refused:
        asyncio.run(deploy_directory(folder, url, deployed_by="test"))
    assert [error.path for error in refused.value.errors] == ["channels.email.caps.per_dya"]
    assert not (tmp_path / "journeys.db").exists()  # nothing deployed: not even the store was opened

    (folder / "channels.yaml").write_text(example(), "utf-8")
    deployed = asyncio.run(deploy_directory(folder, url, deployed_by="test"))
    [policy] = [item for item in deployed if item.kind == "channel policy"]
    assert (policy.journey, policy.new) == ("main", True)

    async def active() -> str | None:
        store = Store(url)
        try:
            found = await store.channel_policies.active()
            return found.version if found else None
        finally:
            await store.close()

    assert asyncio.run(active()) == policy.version
