"""``docker-compose.yml`` is valid for Debian's docker-compose (no Docker engine needed for
``config``), shows the production topology, and refuses to run without each required secret."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
SECRETS = {
    "POSTGRES_PASSWORD": "compose-test-password",
    "JOURNEYS_API_KEYS": '["compose-test-key"]',
    "JOURNEYS_UNSUBSCRIBE_SECRET": "compose-test-unsubscribe-secret",
    "JOURNEYS_WEBHOOK_SECRET": "compose-test-webhook-secret",
    "JOURNEYS_SESSION_SECRET": "compose-test-session-secret",
}
LONG_RUNNING = ["temporal-db", "store-db", "temporal", "temporal-ui", "mailpit", "api", "worker"]

pytestmark = pytest.mark.skipif(shutil.which("docker-compose") is None, reason="docker-compose not installed")


def compose_config(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if k not in SECRETS and not k.startswith("JOURNEYS_")}
    command = ["docker-compose", "--project-directory", str(ROOT), "-f", str(ROOT / "docker-compose.yml")]
    return subprocess.run(
        [*command, "config"],
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_the_compose_file_passes_docker_compose_config_with_the_secrets_set() -> None:
    result = compose_config(SECRETS)
    assert result.returncode == 0, result.stderr
    config: dict[str, Any] = yaml.safe_load(result.stdout)
    services = config["services"]
    assert set(LONG_RUNNING) | {"setup"} == set(services)
    assert services["temporal"]["image"].startswith("temporalio/auto-setup:")
    assert services["temporal"]["environment"]["DB"] == "postgres12"
    assert services["mailpit"]["image"].startswith("axllent/mailpit:")
    for name in ("api", "worker"):
        assert services[name]["deploy"]["replicas"] >= 2
        assert services[name]["depends_on"]["setup"]["condition"] == "service_completed_successfully"
        assert services[name]["depends_on"]["temporal"]["condition"] == "service_healthy"
        assert services[name]["build"]["context"] == str(ROOT)
    for name, service in services.items():
        for dependency, how in service.get("depends_on", {}).items():
            if how["condition"] == "service_healthy":
                assert "healthcheck" in services[dependency], f"{name} waits on {dependency}'s healthcheck"
    store_url = services["api"]["environment"]["DATABASE_URL"]
    assert store_url.startswith("postgresql://journeys:compose-test-password@store-db:5432/")


@pytest.mark.parametrize("missing", sorted(SECRETS))
def test_a_missing_secret_fails_with_its_message(missing: str) -> None:
    result = compose_config({k: v for k, v in SECRETS.items() if k != missing})
    assert result.returncode != 0
    assert f"set {missing}" in result.stderr


def test_the_image_installs_the_package_make_run_installs() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert dockerfile.startswith("#") and "FROM python:3.11-slim" in dockerfile
    assert "RUN pip install ." in dockerfile and "COPY pyproject.toml" in dockerfile
    packages = sorted(
        path.parent.name for path in ROOT.glob("*/__init__.py") if path.parent.name not in {"tests", "bench"}
    )
    assert "engine" in packages and "cli" in packages
    for package in packages:
        assert f"COPY {package} {package}" in dockerfile
    pyproject = (ROOT / "pyproject.toml").read_text()
    assert all(f'"{package}*"' in pyproject for package in packages), "the image copies every package"
