"""A page of a customer's ledger is read through the (customer_id, id) index, on SQLite and PostgreSQL:
the plan of the very query ``store.wallet_read.ledger`` runs (``EXPLAIN QUERY PLAN``, ``EXPLAIN``)
names the index and never passes over the whole table or its primary key; SQLite reads the index in
id order (no sort). PostgreSQL may still sort the rows it found there when they are few (its choice)."""

from __future__ import annotations

import sqlalchemy as sa

from store import Store
from store.tables import points_ledger
from store.wallet_read import ledger, ledger_query
from tests.store.rewards.programs import T0

INDEX = "ix_points_ledger_customer_id_id"
ROWS = 20_000
EVERY = 250  # one row in 250 is the paged customer's: more than a page, a small part of a busy table
OTHERS = 1999


def ledger_rows() -> list[dict[str, object]]:
    rows = []
    for i in range(ROWS):
        customer = "c0" if i % EVERY == 0 else f"c{1 + i % OTHERS}"
        rows.append(
            {
                "key": f"grant/{i}",
                "customer_id": customer,
                "delta": 10,
                "reason": "Test grant",
                "balance_after": i,
                "lifetime_after": i,
                "created_at": T0,
            }
        )
    return rows


async def query_plan(store: Store, after: int | None) -> str:
    query = ledger_query(after, 51).params(customer_id="c0")
    async with store.engine.connect() as conn:
        sql = str(query.compile(dialect=conn.dialect, compile_kwargs={"literal_binds": True}))
        if conn.dialect.name == "sqlite":
            rows = await conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}")
            return "\n".join(str(row[-1]) for row in rows)
        rows = await conn.exec_driver_sql(f"EXPLAIN {sql}")
        return "\n".join(str(row[0]) for row in rows)


async def test_a_ledger_page_reads_the_customer_id_index_in_id_order(store: Store) -> None:
    async with store.engine.begin() as conn:
        await conn.execute(points_ledger.insert(), ledger_rows())
        if conn.dialect.name == "postgresql":
            await conn.execute(sa.text("ANALYZE points_ledger"))  # the planner sees the real spread
    first = await ledger(store.engine, "c0", None, 10)
    assert [entry.balance_after for entry in first.entries] == [ROWS - EVERY * n for n in range(1, 11)]
    for after in (None, first.next):
        plan = await query_plan(store, after)
        assert INDEX in plan, plan
        assert "points_ledger_pkey" not in plan and "Seq Scan" not in plan, plan  # not a pass over all
        assert "SCAN points_ledger" not in plan and "TEMP B-TREE" not in plan, plan  # SQLite: no sort
