"""The initial schema: customers, points, deliveries, step events, processed events, journeys.

Revision ID: 0001
Revises:
Create Date: 2025-01-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

Timestamp = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "customers",
        sa.Column("id", sa.String(200), primary_key=True),
        sa.Column("email", sa.String(320), nullable=True),
        sa.Column("first_name", sa.String(200), nullable=False, server_default=""),
        sa.Column("last_name", sa.String(200), nullable=False, server_default=""),
        sa.Column("locale", sa.String(35), nullable=False, server_default="en"),
        sa.Column("timezone", sa.String(64), nullable=False, server_default="UTC"),
        sa.Column("stage", sa.String(40), nullable=False, server_default="reach"),
        sa.Column("subscribed", sa.Boolean(), nullable=False, server_default=sa.true()),
        sa.Column("unsubscribed_at", Timestamp, nullable=True),
        sa.Column("traits", sa.JSON(), nullable=False),
        sa.Column("tier", sa.String(40), nullable=True),
        sa.Column("badges", sa.JSON(), nullable=False),
        sa.Column("created_at", Timestamp, nullable=False),
        sa.Column("updated_at", Timestamp, nullable=False),
    )
    op.create_table(
        "points_ledger",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("key", sa.String(500), nullable=False),
        sa.Column("customer_id", sa.String(200), nullable=False),
        sa.Column("delta", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(500), nullable=False),
        sa.Column("journey", sa.String(200), nullable=True),
        sa.Column("step", sa.String(200), nullable=True),
        sa.Column("balance_after", sa.Integer(), nullable=False),
        sa.Column("lifetime_after", sa.Integer(), nullable=False),
        sa.Column("tier_before", sa.String(40), nullable=True),
        sa.Column("tier_after", sa.String(40), nullable=True),
        sa.Column("badge", sa.String(100), nullable=True),
        sa.Column("badge_new", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("created_at", Timestamp, nullable=False),
        sa.UniqueConstraint("key", name="uq_points_ledger_key"),
    )
    op.create_index("ix_points_ledger_customer_id", "points_ledger", ["customer_id"])
    op.create_table(
        "points_balances",
        sa.Column("customer_id", sa.String(200), primary_key=True),
        sa.Column("balance", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("lifetime", sa.Integer(), nullable=False, server_default="0"),
        sa.CheckConstraint("balance >= 0", name="ck_points_balances_not_negative"),
    )
    op.create_table(
        "deliveries",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("key", sa.String(500), nullable=False),
        sa.Column("channel", sa.String(20), nullable=False),
        sa.Column("customer_id", sa.String(200), nullable=False),
        sa.Column("journey", sa.String(200), nullable=False),
        sa.Column("step", sa.String(200), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("reason", sa.String(500), nullable=True),
        sa.Column("recipient", sa.String(500), nullable=True),
        sa.Column("subject", sa.String(1000), nullable=True),
        sa.Column("message_id", sa.String(500), nullable=True),
        sa.Column("at", Timestamp, nullable=False),
        sa.UniqueConstraint("key", name="uq_deliveries_key"),
    )
    op.create_index("ix_deliveries_customer_id", "deliveries", ["customer_id"])
    op.create_index("ix_deliveries_journey_step", "deliveries", ["journey", "step"])
    op.create_table(
        "step_events",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("journey", sa.String(200), nullable=False),
        sa.Column("version", sa.String(100), nullable=False),
        sa.Column("workflow_id", sa.String(500), nullable=False),
        sa.Column("customer_id", sa.String(200), nullable=False),
        sa.Column("step", sa.String(200), nullable=True),
        sa.Column("kind", sa.String(30), nullable=False),
        sa.Column("detail", sa.String(1000), nullable=False, server_default=""),
        sa.Column("at", Timestamp, nullable=False),
        sa.UniqueConstraint("key", name="uq_step_events_key"),
    )
    op.create_index("ix_step_events_journey_step", "step_events", ["journey", "step", "kind"])
    op.create_index("ix_step_events_journey_customer", "step_events", ["journey", "customer_id", "kind"])
    op.create_table(
        "processed_events",
        sa.Column("event_id", sa.String(200), primary_key=True),
        sa.Column("customer_id", sa.String(200), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("at", Timestamp, nullable=False),
    )
    op.create_index("ix_processed_events_customer_id", "processed_events", ["customer_id"])
    op.create_table(
        "journey_versions",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("version", sa.String(100), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("plan", sa.JSON(), nullable=False),
        sa.Column("deployed_at", Timestamp, nullable=False),
        sa.Column("is_current", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.UniqueConstraint("name", "version", name="uq_journey_versions_name_version"),
    )
    op.create_table(
        "journey_state",
        sa.Column("name", sa.String(200), primary_key=True),
        sa.Column("paused", sa.Boolean(), nullable=False, server_default=sa.false()),
    )


def downgrade() -> None:
    for table in (
        "journey_state",
        "journey_versions",
        "processed_events",
        "step_events",
        "deliveries",
        "points_balances",
        "points_ledger",
        "customers",
    ):
        op.drop_table(table)
