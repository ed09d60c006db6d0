"""The CLI starts at once: loading it (what `journeys --help` does) imports no part a command
imports when it runs — the simulator, Temporal, the store, the engine."""

from __future__ import annotations

import json
import subprocess
import sys

HEAVY = ("simulate.runner", "temporalio", "sqlalchemy", "engine.loader", "jinja2", "fastapi", "rich.progress")


def loaded_after(code: str) -> set[str]:
    probe = f"import sys, json\n{code}\nprint(json.dumps(sorted(sys.modules)))"
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60
    )
    return set(json.loads(done.stdout.splitlines()[-1]))


def test_loading_the_cli_imports_no_command_s_dependencies() -> None:
    loaded = loaded_after("import cli.main")
    assert [name for name in HEAVY if name in loaded] == []


def test_help_lists_every_command_without_importing_them() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "cli", "--help"], capture_output=True, text=True, check=True, timeout=60
    )
    for command in ("validate", "simulate", "test", "deploy", "diff", "export", "history", "up"):
        assert command in done.stdout, command
