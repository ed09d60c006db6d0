"""Safe defaults: nothing listens beyond loopback while a secret still has its development value."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from config.exposure import development_secrets, exposure_problems, is_loopback
from config.settings import Settings

ROOT = Path(__file__).resolve().parents[2]


def production(api_keys: list[str] | None = None) -> Settings:
    """Settings whose secrets were all changed (``api_keys`` as given)."""
    return Settings(
        _env_file=None,
        api_keys=api_keys or ["a-long-random-production-key"],
        unsubscribe_secret="production-unsubscribe-secret-0123",
        webhook_secret="production-webhook-secret-0123",
        session_secret="production-session-secret-0123",
    )


@pytest.mark.parametrize(
    ("host", "loopback"),
    [("127.0.0.1", True), ("127.8.9.10", True), ("::1", True), ("[::1]", True), ("localhost", True),
     ("0.0.0.0", False), ("::", False), ("10.0.0.5", False), ("api.example.com", False)],
)  # fmt: skip
def test_loopback_is_only_this_machine(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


def test_each_development_secret_is_named_by_its_setting() -> None:
    lines = development_secrets(Settings(_env_file=None))
    assert [line.split()[0] for line in lines] == [
        "JOURNEYS_API_KEYS",
        "JOURNEYS_UNSUBSCRIBE_SECRET",
        "JOURNEYS_WEBHOOK_SECRET",
        "JOURNEYS_SESSION_SECRET",
    ]
    assert development_secrets(production()) == []
    rotated = production(api_keys=["new-key", "dev-key-change-me"])
    assert [line.split()[0] for line in development_secrets(rotated)] == ["JOURNEYS_API_KEYS"]


def test_only_exposed_listeners_with_development_secrets_are_refused() -> None:
    dev = Settings(_env_file=None)
    assert exposure_problems(dev, {"API": ("127.0.0.1", 8000)}) == []
    assert exposure_problems(production(), {"API": ("0.0.0.0", 8000)}) == []
    refused = exposure_problems(dev, {"API": ("0.0.0.0", 8000), "Outbox": ("127.0.0.1", 1025)})
    assert refused[0] == (
        "refusing to listen beyond loopback (API on 0.0.0.0:8000) with a development secret:"
    )
    assert len(refused) == 5


def _journeys(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("JOURNEYS_")}
    return subprocess.run(
        [sys.executable, "-m", "cli", *args],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize(
    ("command", "setting"),
    [("api", "JOURNEYS_API_HOST"), ("smtp", "JOURNEYS_SMTP_HOST"), ("up", "JOURNEYS_API_HOST")],
)
def test_a_process_listening_beyond_loopback_with_the_dev_secrets_does_not_start(
    command: str, setting: str, tmp_path: Path
) -> None:
    done = _journeys(command, env={setting: "0.0.0.0", "JOURNEYS_DATA_DIR": str(tmp_path / "data")})

    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert lines[0].startswith(f"journeys {command}: refusing to listen beyond loopback (")
    assert [line.split(": ", 1)[1].split()[0] for line in lines[1:]] == [
        "JOURNEYS_API_KEYS",
        "JOURNEYS_UNSUBSCRIBE_SECRET",
        "JOURNEYS_WEBHOOK_SECRET",
        "JOURNEYS_SESSION_SECRET",
    ]
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "data").exists(), "nothing was started"
