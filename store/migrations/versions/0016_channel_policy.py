"""Channel policy: deployed policy files, marketing sends per customer, channel and period, and the
sends that hold a slot (by idempotency key).

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "channel_policies",
        sa.Column("version", sa.String(64), primary_key=True),
        sa.Column("policy", sa.String(100), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("deployed_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "send_counts",
        sa.Column("customer_id", sa.String(200), primary_key=True),
        sa.Column("channel", sa.String(20), primary_key=True),
        sa.Column("period", sa.String(20), primary_key=True),
        sa.Column("count", sa.Integer(), nullable=False, server_default="0"),
    )
    op.create_table(
        "counted_sends",
        sa.Column("key", sa.String(500), primary_key=True),
        sa.Column("customer_id", sa.String(200), nullable=False),
        sa.Column("channel", sa.String(20), nullable=False),
        sa.Column("periods", sa.JSON(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("counted_sends")
    op.drop_table("send_counts")
    op.drop_table("channel_policies")
