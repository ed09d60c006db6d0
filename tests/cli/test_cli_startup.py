"""The CLI starts at once: loading it (what `journeys --help` does) imports no part a command
imports when it runs — the simulator, Temporal, the store, the engine — and each command imports
only what it uses (`validate` no Temporal or store; `simulate` of one story no HTTP client, no
PostgreSQL dialect, no migrations, no progress bar)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HEAVY = ("simulate.runner", "temporalio", "sqlalchemy", "engine.loader", "jinja2", "fastapi", "rich.progress")
# What validating journeys never needs: the engine is all it runs.
NOT_FOR_VALIDATE = (
    "asyncio",  # validating runs no event loop
    "temporalio",
    "sqlalchemy",
    "simulate.runner",
    "store",
    "httpx",
    "fastapi",
    "rich.progress",
)
# What a one-story simulation never needs: it sends no webhook (httpx, with its CLI extras rich and
# pygments), runs on SQLite, creates its tables without Alembic and draws no progress bar.
NOT_FOR_SIMULATE = (
    "httpx",
    "rich",
    "pygments",
    "sqlalchemy.dialects.postgresql",
    "asyncpg",
    "alembic",
    "fastapi",
    "uvicorn",
)


def loaded_after(code: str) -> set[str]:
    probe = f"import sys, json\n{code}\nprint(json.dumps(sorted(sys.modules)))"
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=120, cwd=ROOT
    )
    return set(json.loads(done.stdout.splitlines()[-1]))


def loaded_by_command(*argv: str) -> set[str]:
    """The modules loaded once ``journeys ARGV`` has run (in a process of its own)."""
    run = (
        "from cli.main import app\n"
        "try:\n"
        f"    app({list(argv)!r}, prog_name='journeys', standalone_mode=False)\n"
        "except SystemExit:\n"
        "    pass"
    )
    return loaded_after(run)


def present(names: tuple[str, ...], loaded: set[str]) -> list[str]:
    return [name for name in names if name in loaded]


def test_loading_the_cli_imports_no_command_s_dependencies() -> None:
    loaded = loaded_after("import cli.main")
    assert present(HEAVY, loaded) == []


def test_help_imports_no_command_s_dependencies() -> None:
    loaded = loaded_by_command("--help")
    assert "typer" in loaded
    assert present(HEAVY, loaded) == []


def test_validate_imports_the_engine_and_not_temporal_or_the_store() -> None:
    loaded = loaded_by_command("validate", "journeys")
    assert "engine.loader" in loaded
    assert present(NOT_FOR_VALIDATE, loaded) == []


def test_simulate_of_one_story_imports_only_what_it_runs() -> None:
    loaded = loaded_by_command("simulate", "journeys/onboarding.yaml", "-e", "2d profile_completed")
    assert {"temporalio.testing", "simulate.runner", "store.database"} <= loaded  # it did simulate
    assert present(NOT_FOR_SIMULATE, loaded) == []


def test_help_lists_every_command_without_importing_them() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "cli", "--help"], capture_output=True, text=True, check=True, timeout=60
    )
    for command in ("validate", "simulate", "test", "deploy", "diff", "export", "history", "up"):
        assert command in done.stdout, command


def test_simulate_of_an_invalid_journey_reports_it_before_importing_the_simulator(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("journey: broken\nsteps: []\n", encoding="utf-8")
    loaded = loaded_by_command("simulate", str(broken))
    assert "engine.loader" in loaded
    assert present(("simulate.runner", "store", "sqlalchemy", "temporalio.testing"), loaded) == []
