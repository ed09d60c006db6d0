"""Fixtures for tests that write journey files: a scratch folder laid out like ``journeys/``."""

from __future__ import annotations

import shutil
import textwrap
from pathlib import Path
from typing import Protocol

import pytest

JOURNEYS = Path(__file__).resolve().parents[2] / "journeys"


class WriteJourney(Protocol):
    """Writes a journey text (dedented) into the workspace and returns its path."""

    def __call__(self, text: str, name: str = "broken.yaml") -> Path: ...


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    """A folder laid out like ``journeys/``: journey files go here, templates in ``templates/``."""
    shutil.copytree(JOURNEYS / "templates", tmp_path / "templates")
    return tmp_path


@pytest.fixture
def write(workspace: Path) -> WriteJourney:
    def write(text: str, name: str = "broken.yaml") -> Path:
        path = workspace / name
        path.write_text(textwrap.dedent(text).lstrip("\n"), "utf-8")
        return path

    return write
