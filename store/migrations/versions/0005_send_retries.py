"""Sends being retried: one row per idempotency key until the send is logged, for the "retrying"
counts of the journey stats and the journeys page.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "send_retries",
        sa.Column("key", sa.String(500), primary_key=True),
        sa.Column("channel", sa.String(20), nullable=False),
        sa.Column("journey", sa.String(100), nullable=False),
        sa.Column("version", sa.String(100), nullable=False),
        sa.Column("step", sa.String(100), nullable=False),
        sa.Column("customer_id", sa.String(200), nullable=False),
        sa.Column("reason", sa.String(500), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("since", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_send_retries_journey_step", "send_retries", ["journey", "version", "step"])


def downgrade() -> None:
    op.drop_index("ix_send_retries_journey_step", table_name="send_retries")
    op.drop_table("send_retries")
