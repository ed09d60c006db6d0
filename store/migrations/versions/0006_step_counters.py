"""Live counts kept on write, the version and body of each delivery, and the customer page's indexes.

- ``step_counters`` (store/counters.py), filled here from the rows already stored: step records by
  journey, version, step, kind (and outcome, and the hour of each journey entry), deliveries by
  status and points by step, all in shard 0 (which shard a count sits in does not change its sum).
- ``deliveries.version``: the journey version that sent it. Rows logged before take the version of
  the run's latest entry into that step, at or before the send.
- ``deliveries.html`` / ``deliveries.text``: an email as it was sent (empty for earlier rows).
- A customer found by email (``lower(email)``) and a customer's records in time order.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def _hour(dialect: str) -> str:
    if dialect == "postgresql":
        return "to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24')"
    return "strftime('%Y-%m-%dT%H', at)"


def upgrade() -> None:
    op.create_table(
        "step_counters",
        sa.Column("journey", sa.String(200), primary_key=True),
        sa.Column("version", sa.String(100), primary_key=True),
        sa.Column("step", sa.String(200), primary_key=True),
        sa.Column("kind", sa.String(40), primary_key=True),
        sa.Column("detail", sa.String(1000), primary_key=True),
        sa.Column("shard", sa.SmallInteger(), primary_key=True, autoincrement=False),
        sa.Column("n", sa.BigInteger(), nullable=False),
    )
    with op.batch_alter_table("deliveries") as batch:
        batch.add_column(sa.Column("version", sa.String(100), nullable=True))
        batch.add_column(sa.Column("html", sa.Text(), nullable=True))
        batch.add_column(sa.Column("text", sa.Text(), nullable=True))
    op.create_index("ix_customers_email_lower", "customers", [sa.text("lower(email)")])
    op.create_index("ix_step_events_customer_at", "step_events", ["customer_id", "at"])

    dialect = op.get_bind().dialect.name
    detail = (
        f"CASE kind WHEN 'completed' THEN detail WHEN 'journey_entered' THEN {_hour(dialect)} ELSE '' END"
    )
    op.execute(
        "INSERT INTO step_counters (journey, version, step, kind, detail, shard, n) "
        f"SELECT journey, version, COALESCE(step, ''), kind, {detail}, 0, COUNT(*) FROM step_events "
        f"GROUP BY journey, version, COALESCE(step, ''), kind, {detail}"
    )

    # The version of the run's latest entry into the step, at or before the row was written.
    # (A run's records carry the customer id its workflow id is made of: indexed by journey and customer.)
    def version_at(table: str, at: str) -> str:
        return (
            "(SELECT e.version FROM step_events e"
            f" WHERE e.journey = {table}.journey AND e.customer_id = {table}.customer_id"
            f" AND e.kind = 'entered' AND e.step = {table}.step AND e.at <= {table}.{at}"
            " ORDER BY e.at DESC, e.id DESC LIMIT 1)"
        )

    op.execute(f"UPDATE deliveries SET version = {version_at('deliveries', 'at')}")
    op.execute(
        "INSERT INTO step_counters (journey, version, step, kind, detail, shard, n) "
        "SELECT journey, version, step, 'send:' || status, '', 0, COUNT(*) FROM deliveries "
        "WHERE version IS NOT NULL GROUP BY journey, version, step, status"
    )
    op.execute(
        "INSERT INTO step_counters (journey, version, step, kind, detail, shard, n) "
        "SELECT journey, version, step, 'points', '', 0, SUM(delta) FROM ("
        f" SELECT points_ledger.journey, points_ledger.step, points_ledger.delta,"
        f" {version_at('points_ledger', 'created_at')} AS version FROM points_ledger"
        " WHERE points_ledger.journey IS NOT NULL AND points_ledger.step IS NOT NULL"
        ") awarded WHERE version IS NOT NULL GROUP BY journey, version, step"
    )


def downgrade() -> None:
    op.drop_index("ix_step_events_customer_at", table_name="step_events")
    op.drop_index("ix_customers_email_lower", table_name="customers")
    with op.batch_alter_table("deliveries") as batch:
        batch.drop_column("text")
        batch.drop_column("html")
        batch.drop_column("version")
    op.drop_table("step_counters")
