"""SQLite transactions run whole in a thread of their own: one hand-off to a thread per transaction.

Through aiosqlite each statement is a few round trips to the driver's thread (cursor, execute,
fetch, close), and for a short transaction those hand-offs, not SQLite, are most of its CPU: the
event intake's transaction took about 3 ms of CPU that way and 0.7 ms run in one go with the
synchronous driver. Only for a store on a SQLite file (a second connection to the same file, with
the same pragmas and ``BEGIN IMMEDIATE`` as the store's own: ``serialise_sqlite_writes``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Concatenate, ParamSpec, TypeVar

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import URL

from store.reading import READ_ONLY

P = ParamSpec("P")
T = TypeVar("T")


def serialise_sqlite_writes(engine: sa.Engine) -> None:
    """Take SQLite's write lock at BEGIN, so read-then-write transactions never deadlock.

    pysqlite's deferred BEGIN lets two transactions read and then both fail to upgrade to a
    write; ``BEGIN IMMEDIATE`` (with a busy timeout) queues them instead. WAL keeps readers going.
    """

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        # In WAL mode NORMAL is still corruption-safe; it skips an fsync per commit.
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(conn: Any) -> None:
        # Reads (see ``reading``) stay deferred: under WAL they never wait for a writer.
        conn.exec_driver_sql("BEGIN" if conn.get_execution_options().get(READ_ONLY) else "BEGIN IMMEDIATE")


def on_a_file(url: URL) -> bool:
    """A SQLite database another connection of this process opens as the same one (not in memory)."""
    database = url.database
    return (
        url.get_backend_name() == "sqlite"
        and bool(database)
        and database != ":memory:"
        and not (database or "").startswith("file:")
    )


class SqliteThread:
    """Runs transactions on the SQLite file of ``url`` in one thread, one at a time, in call order.

    The thread and its connection start with the first transaction; ``close`` ends them.
    """

    def __init__(self, url: URL) -> None:
        self._url = url.set(drivername="sqlite+pysqlite")
        self._executor: ThreadPoolExecutor | None = None
        self._engine: sa.Engine | None = None

    async def transaction(
        self, work: Callable[Concatenate[sa.Connection, P], T], *args: P.args, **kwargs: P.kwargs
    ) -> T:
        """``work(connection, ...)`` inside one committed transaction (rolled back if it raises).

        A caller cancelled meanwhile does not stop it: the transaction ends as it would have."""
        if self._executor is None:
            self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="journeys-sqlite")

        def bound(conn: sa.Connection) -> T:
            return work(conn, *args, **kwargs)

        return await asyncio.get_running_loop().run_in_executor(self._executor, self._run, bound)

    def _run(self, work: Callable[[sa.Connection], T]) -> T:
        if self._engine is None:  # made in the thread that uses it (pysqlite's connections stay in theirs)
            self._engine = sa.create_engine(
                self._url, connect_args={"timeout": 30}, pool_size=1, max_overflow=0
            )
            serialise_sqlite_writes(self._engine)
        with self._engine.begin() as conn:
            return work(conn)

    async def close(self) -> None:
        executor, self._executor = self._executor, None
        if executor is None:
            return
        engine, self._engine = self._engine, None
        if engine is not None:
            await asyncio.get_running_loop().run_in_executor(executor, engine.dispose)
        executor.shutdown(wait=False)
