"""SQLite statements run on the event loop's own thread, for a throwaway store in shared memory.

Through aiosqlite every driver call (cursor, execute, fetch, close, commit) is a hand-off to the
driver's thread and back; with a simulation's store on ``/dev/shm`` a statement takes microseconds,
so those hand-offs, not SQLite, were most of the store's CPU: a third of a simulated story's. Here
the same aiosqlite connection runs each call where it is awaited instead. A statement then blocks
the loop while it runs, and a wait for SQLite's write lock (the busy timeout) too: right for a
simulation, which owns its store, and never for a store that others share (the API, the worker).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Awaitable, Callable
from typing import Any

import aiosqlite

BUSY_TIMEOUT_SECONDS = 30.0


class InlineConnection(aiosqlite.Connection):
    """An aiosqlite connection whose calls run at once on the caller's thread (see the module)."""

    async def _execute(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        if not self._running or not self._connection:
            raise ValueError("Connection closed")
        return fn(*args, **kwargs)


def inline_creator(database: str) -> Callable[[], Awaitable[InlineConnection]]:
    """``async_creator`` for ``create_async_engine``: connections to the SQLite file ``database``
    with the settings aiosqlite's dialect gives a file (``check_same_thread`` off, a busy timeout)."""

    def connector() -> sqlite3.Connection:
        return sqlite3.connect(database, timeout=BUSY_TIMEOUT_SECONDS, check_same_thread=False)

    async def create() -> InlineConnection:
        connection = InlineConnection(connector, iter_chunk_size=64)
        connection._thread.daemon = True  # as aiosqlite's dialect does: it only opens and closes here
        await connection
        return connection

    return create
