"""The channel policy over HTTP: read (404 before any), deployed by version (again: new false),
every problem a positioned 422 that changes nothing, written to JOURNEYS_SAVE_DIR when it is set."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
from fastapi import FastAPI

from api.app import create_app
from simulate.sandbox import Sandbox
from tests.api.conftest import AUTH, http_client

REPO = Path(__file__).resolve().parents[3]
YAML = {"Content-Type": "application/yaml"}


def example() -> str:
    found = re.search(r"```yaml\n(.*?)```", (REPO / "docs" / "channels.md").read_text(), re.S)
    assert found is not None
    return found.group(1)


async def test_the_policy_is_read_and_deployed(api: httpx.AsyncClient) -> None:
    assert (await api.get("/v1/channels/policy")).status_code == 404
    text = example()
    first = await api.put("/v1/channels/policy", content=text, headers=YAML)
    again = await api.put("/v1/channels/policy", content=text, headers=YAML)
    assert first.status_code == 200 and first.json()["new"] is True and again.json()["new"] is False
    body = (await api.get("/v1/channels/policy")).json()
    assert (body["policy"], body["version"], body["source"]) == ("main", first.json()["version"], text)
    assert body["definition"]["channels"]["email"]["caps"] == {"per_day": 1, "per_week": 2}
    assert body["definition"]["control_group"] == {"percent": 5.0, "salt": "winter-2026"}

    broken = await api.put("/v1/channels/policy", content=text.replace("salt:", "slat:"), headers=YAML)
    assert broken.status_code == 422
    errors = broken.json()["errors"]
    unknown = [e for e in errors if e["path"] == "control_group.slat"]
    assert unknown and unknown[0]["file"] == "channels.yaml" and unknown[0]["line"] > 1
    assert 'did you mean "salt"?' in unknown[0]["message"]
    assert (await api.get("/v1/channels/policy")).json()["version"] == first.json()["version"]
    not_yaml = await api.put("/v1/channels/policy", content=b"\xff\xfe", headers=YAML)
    assert not_yaml.status_code == 422


async def test_a_deploy_writes_channels_yaml_into_the_save_folder(sandbox: Sandbox, tmp_path: Path) -> None:
    folder = tmp_path / "checkout"
    folder.mkdir()
    settings = sandbox.settings.model_copy(update={"journeys_save_dir": folder})
    app: FastAPI = create_app(settings, client=sandbox.client, store=sandbox.store, router=sandbox.router)
    text = "policy: quiet\nchannels:\n  email:\n    quiet_hours: {start: '22:00', end: '07:00'}\n"
    async with app.router.lifespan_context(app), http_client(app, AUTH) as api:
        deployed = (await api.put("/v1/channels/policy", content=text, headers=YAML)).json()
    assert (deployed["saved_to"], deployed["save_error"]) == (str(folder / "channels.yaml"), None)
    assert (folder / "channels.yaml").read_text("utf-8") == text
