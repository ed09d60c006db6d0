"""A program-wide file deployed by version (content hash), one version active: the loyalty
program (``loyalty_programs``) and the channel policy (``channel_policies``) are stored alike, in
tables of one shape (``program_file_table``) read by one repository (``ActiveFileRepository``).

``active()`` is what workers and the API read on every event or send: one small read of the active
version, the stored source parsed again only when that version changes.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Generic, Protocol, TypeVar

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from store.inserts import insert_ignore
from store.reading import reading
from store.tables import metadata
from store.types import UTCDateTime, utcnow


def program_file_table(name: str, *, name_column: str) -> sa.Table:
    """The table of one kind of program file on ``store.tables.metadata``: each deployed version
    (``version``, the file's own name in ``name_column``, its ``source`` as written, ``active``,
    ``deployed_at``). The migrations create these tables; this is their shape for the code."""
    return sa.Table(
        name,
        metadata,
        sa.Column("version", sa.String(64), primary_key=True),
        sa.Column(name_column, sa.String(100), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("deployed_at", UTCDateTime(), nullable=False),
    )


class Versioned(Protocol):
    @property
    def version(self) -> str: ...


T = TypeVar("T", bound=Versioned)


class ActiveFileRepository(Generic[T]):
    """Versions of one kind of file in ``table`` (made by ``program_file_table`` with the same
    ``name_column``); ``parse`` reads a stored source back, ``name_of`` names an item."""

    def __init__(
        self,
        engine: AsyncEngine,
        table: sa.Table,
        *,
        name_column: str,
        name_of: Callable[[T], str],
        parse: Callable[[str, str], T],
    ) -> None:
        self._engine = engine
        self._table = table
        self._name_column = name_column
        self._name_of = name_of
        self._parse = parse
        self._cached: T | None = None

    async def deploy(self, item: T, source_text: str, *, at: datetime | None = None) -> bool:
        """Store ``item`` (its ``source_text`` as written) and make it the active version.

        Returns False when that version was already the active one (nothing changed).
        """
        table = self._table
        when = at or utcnow()
        async with self._engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                # Deploys queue here (reads go on): a row lock on the active version cannot queue
                # the first deploys, when there is none, and two of them would both end active.
                # SQLite's BEGIN IMMEDIATE already runs them one after the other.
                await conn.execute(sa.text(f'LOCK TABLE "{table.name}" IN SHARE ROW EXCLUSIVE MODE'))
            current = await conn.scalar(sa.select(table.c.version).where(table.c.active.is_(True)))
            if current == item.version:
                return False
            await insert_ignore(
                conn,
                table,
                {
                    "version": item.version,
                    self._name_column: self._name_of(item),
                    "source": source_text,
                    "active": False,
                    "deployed_at": when,
                },
            )
            await conn.execute(table.update().where(table.c.active.is_(True)).values(active=False))
            await conn.execute(
                table.update().where(table.c.version == item.version).values(active=True, deployed_at=when)
            )
        self._cached = item
        return True

    async def active(self) -> T | None:
        """The active version, or None when none was deployed."""
        table = self._table
        async with reading(self._engine).connect() as conn:
            version = await conn.scalar(sa.select(table.c.version).where(table.c.active.is_(True)))
            if version is None:
                return None
            if self._cached is not None and self._cached.version == version:
                return self._cached
            source = await conn.scalar(sa.select(table.c.source).where(table.c.version == version))
        item = self._parse(str(source), version)
        self._cached = item
        return item

    async def get(self, version: str) -> T | None:
        """One deployed version, active or not."""
        source = await self.source(version)
        return None if source is None else self._parse(source, version)

    async def source(self, version: str) -> str | None:
        """One deployed version's file as written, or None when that version was never deployed."""
        table = self._table
        async with reading(self._engine).connect() as conn:
            source = await conn.scalar(sa.select(table.c.source).where(table.c.version == version))
        return None if source is None else str(source)

    async def version_rows(self) -> list[dict[str, object]]:
        """Every deployed version (version, name, active, deployed_at), newest first."""
        table = self._table
        async with reading(self._engine).connect() as conn:
            rows = (
                await conn.execute(
                    sa.select(
                        table.c.version,
                        table.c[self._name_column],
                        table.c.active,
                        table.c.deployed_at,
                    ).order_by(table.c.deployed_at.desc(), table.c.version)
                )
            ).mappings()
            return [dict(row) for row in rows]
