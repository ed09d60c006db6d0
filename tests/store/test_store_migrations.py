"""Migrations: ``migrate()`` is repeatable, and the migrated schema is exactly the table metadata."""

from __future__ import annotations

import warnings
from pathlib import Path

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.engine import Connection

import store as store_package
from config.settings import Settings
from store import Store
from store.tables import metadata

# The newest migration by its file name (0001_…, 0002_…): the one a migrated store must be at.
NEWEST = max(Path(store_package.__file__).parent.glob("migrations/versions/0*.py")).name.split("_")[0]


# Indexes on an expression, which SQLAlchemy cannot reflect: compared by name instead.
EXPRESSION_INDEXES = {"ix_customers_email_lower"}


def _not_an_expression_index(
    obj: object, name: str | None, kind: str, reflected: bool, other: object
) -> bool:
    return not (kind == "index" and name in EXPRESSION_INDEXES)


def differences(connection: Connection) -> list[object]:
    opts = {"compare_type": True, "include_object": _not_an_expression_index}
    context = MigrationContext.configure(connection, opts=opts)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Skipped unsupported reflection of expression-based index")
        warnings.filterwarnings("ignore", "autogenerate skipping metadata-specified expression-based index")
        return list(compare_metadata(context, metadata))


def index_names(connection: Connection) -> set[str]:
    if connection.dialect.name == "sqlite":
        query = "SELECT name FROM sqlite_master WHERE type = 'index'"
    else:
        query = "SELECT indexname FROM pg_indexes WHERE schemaname = current_schema()"
    return {str(name) for name in connection.execute(sa.text(query)).scalars()}


async def test_the_migrated_schema_matches_the_tables(store: Store) -> None:
    await store.migrate()  # a second run is a no-op
    async with store.engine.connect() as conn:
        assert await conn.scalar(sa.text("SELECT version_num FROM alembic_version")) == NEWEST
        assert await conn.run_sync(differences) == []
        assert EXPRESSION_INDEXES <= await conn.run_sync(index_names)


async def test_the_default_store_is_a_sqlite_file_under_the_data_folder(tmp_path: Path) -> None:
    settings = Settings(_env_file=None, database_url="", data_dir=tmp_path / "nested" / "data")
    store = Store(settings.store_url())
    try:
        await store.migrate()
        assert store.dialect == "sqlite"
        assert (tmp_path / "nested" / "data" / "journeys.db").is_file()
    finally:
        await store.close()
