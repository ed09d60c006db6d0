"""Each customer's purchase history, kept on ingest (store.customer_history): counts, total, last
purchase and categories per customer, and the events already counted.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "customer_history",
        sa.Column("customer_id", sa.String(200), primary_key=True),
        sa.Column("purchase_count", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("purchase_total", sa.Float(), nullable=False, server_default="0"),
        sa.Column("last_purchase_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("categories", sa.JSON(), nullable=False),
    )
    op.create_table(
        "history_events",
        sa.Column("event_id", sa.String(200), primary_key=True),
        sa.Column("customer_id", sa.String(200), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("history_events")
    op.drop_table("customer_history")
