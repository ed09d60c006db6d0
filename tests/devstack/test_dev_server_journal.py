"""The dev server ``journeys up`` starts keeps its SQLite database in write-ahead-log mode."""

from __future__ import annotations

import sqlite3
import subprocess
import time
from pathlib import Path

from config.settings import Settings
from devstack.parts import temporal_part
from tests.support import free_port

STARTUP_SECONDS = 60


def test_the_dev_server_database_is_in_wal_mode(tmp_path: Path) -> None:
    settings = Settings(
        data_dir=tmp_path,
        temporal_address=f"127.0.0.1:{free_port()}",
        temporal_ui_port=free_port(),
    )
    part = temporal_part(settings)
    database = tmp_path / "temporal.db"
    server = subprocess.Popen(part.argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + STARTUP_SECONDS
        mode = ""
        while mode != "wal" and time.monotonic() < deadline and server.poll() is None:
            time.sleep(0.2)
            if database.exists():
                with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as connection:
                    mode = connection.execute("PRAGMA journal_mode").fetchone()[0]
        assert mode == "wal", (
            f"journal mode {mode!r}; the dev server {'ran' if server.poll() is None else 'stopped'}"
        )
    finally:
        server.terminate()
        server.wait(timeout=30)
