"""Fixtures for tests that write journey files: a scratch folder laid out like ``journeys/``."""

from __future__ import annotations

import shutil
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

JOURNEYS = Path(__file__).resolve().parents[2] / "journeys"


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
