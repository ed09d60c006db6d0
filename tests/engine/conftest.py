"""Fixtures for the engine tests: a scratch folder with the example templates, and a validator."""

from __future__ import annotations

import shutil
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

from engine.errors import JourneyValidationError
from engine.loader import compile_file

REPO = Path(__file__).resolve().parents[2]
JOURNEYS = REPO / "journeys"

Problem = tuple[int, int, str, str]  # line, column, path, message


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    """A folder laid out like ``journeys/``: journey files go here, templates in ``templates/``."""
    shutil.copytree(JOURNEYS / "templates", tmp_path / "templates")
    return tmp_path


@pytest.fixture
def write(workspace: Path) -> Callable[[str, str], Path]:
    def write(text: str, name: str = "broken.yaml") -> Path:
        path = workspace / name
        path.write_text(textwrap.dedent(text).lstrip("\n"), "utf-8")
        return path

    return write


@pytest.fixture
def problems(write: Callable[[str, str], Path]) -> Callable[[str], list[Problem]]:
    """Validate a journey text that must fail; return every problem as (line, column, path, message)."""

    def problems(text: str) -> list[Problem]:
        path = write(text, "broken.yaml")
        with pytest.raises(JourneyValidationError) as info:
            compile_file(path)
        assert {error.file for error in info.value.errors} == {"broken.yaml"}
        return [(e.line, e.column, e.path, e.message) for e in info.value.errors]

    return problems
