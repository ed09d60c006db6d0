"""``INSERT ... ON CONFLICT DO NOTHING`` on SQLite and PostgreSQL, a savepoint elsewhere; each
dialect's own ``insert`` (imported when first asked for: a SQLite store never loads PostgreSQL's)."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

if TYPE_CHECKING:
    from sqlalchemy.dialects.postgresql import Insert as PostgresInsert
    from sqlalchemy.dialects.sqlite import Insert as SqliteInsert
    from sqlalchemy.ext.asyncio import AsyncConnection

    DialectInsert = Callable[[sa.Table], PostgresInsert | SqliteInsert]


def dialect_insert(dialect: str) -> DialectInsert:
    """``insert`` of ``dialect`` ("postgresql" or "sqlite"), with ``on_conflict_do_*``."""
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as postgres_insert

        return postgres_insert
    if dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        return sqlite_insert
    raise ValueError(f"no INSERT ... ON CONFLICT for the {dialect} dialect")


async def insert_ignore(conn: AsyncConnection, table: sa.Table, values: dict[str, Any]) -> bool:
    """Insert one row unless a unique key already holds it; True when the row was inserted.

    Never aborts the surrounding transaction, so the caller can read the existing row next.
    """
    dialect = conn.dialect.name
    if dialect in ("sqlite", "postgresql"):
        result = await conn.execute(_insert_or_nothing(dialect, table), values)
        return result.rowcount == 1
    try:
        async with conn.begin_nested():
            await conn.execute(sa.insert(table).values(**values))
    except IntegrityError:
        return False
    return True


@functools.cache
def _insert_or_nothing(dialect: str, table: sa.Table) -> sa.Insert:
    """Built once per table: the values come as parameters, so SQLAlchemy's compiled cache hits."""
    return dialect_insert(dialect)(table).on_conflict_do_nothing()


@functools.cache
def _insert_or_nothing_returning(dialect: str, table: sa.Table, key: str) -> sa.Insert:
    return _insert_or_nothing(dialect, table).returning(table.c[key])


async def insert_many_ignore(
    conn: AsyncConnection, table: sa.Table, rows: list[dict[str, Any]], key: sa.Column[Any]
) -> set[Any]:
    """Insert many rows in one statement, skipping those whose unique ``key`` exists; the keys inserted."""
    if not rows:
        return set()
    dialect = conn.dialect.name
    if dialect in ("sqlite", "postgresql"):
        # Rows as parameters of one cached statement ("insertmanyvalues" sends them as one
        # multi-row INSERT): a VALUES clause built from the rows would be compiled anew each time.
        statement = _insert_or_nothing_returning(dialect, table, key.name)
        return set((await conn.execute(statement, rows)).scalars())
    inserted = set()
    for row in rows:
        if await insert_ignore(conn, table, row):
            inserted.add(row[key.name])
    return inserted


def insert_many_ignore_sync(
    conn: sa.Connection, table: sa.Table, rows: list[dict[str, Any]], key: sa.Column[Any]
) -> set[Any]:
    """``insert_many_ignore`` for a synchronous connection (``run_sync``, ``store.sqlite_thread``),
    SQLite and PostgreSQL."""
    if not rows:
        return set()
    statement = _insert_or_nothing_returning(conn.dialect.name, table, key.name)
    return set(conn.execute(statement, rows).scalars())
