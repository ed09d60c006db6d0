"""Engagement tracking: tracked emails and their links, opens and clicks; suppressed addresses.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "tracked_messages",
        sa.Column("message", sa.String(40), primary_key=True),
        sa.Column("key", sa.String(500), nullable=False),
        sa.Column("customer_id", sa.String(200), nullable=False),
        sa.Column("journey", sa.String(200), nullable=False),
        sa.Column("version", sa.String(100), nullable=False),
        sa.Column("step", sa.String(200), nullable=False),
        sa.Column("variants", sa.JSON(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("opens", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("first_opened_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("clicks", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("first_clicked_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_tracked_messages_journey_step", "tracked_messages", ["journey", "version", "step"])
    op.create_index("ix_tracked_messages_customer_id", "tracked_messages", ["customer_id"])
    op.create_table(
        "delivery_links",
        sa.Column("message", sa.String(40), primary_key=True),
        sa.Column("link", sa.Integer(), primary_key=True),
        sa.Column("url", sa.Text(), nullable=False),
    )
    op.create_table(
        "engagement",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("message", sa.String(40), nullable=False),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("link", sa.Integer(), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_engagement_message", "engagement", ["message"])
    op.create_table(
        "suppressions",
        sa.Column("address", sa.String(64), primary_key=True),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("reason", sa.String(500), nullable=True),
        sa.Column("message_id", sa.String(500), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("suppressions")
    op.drop_index("ix_engagement_message", "engagement")
    op.drop_table("engagement")
    op.drop_table("delivery_links")
    op.drop_index("ix_tracked_messages_customer_id", "tracked_messages")
    op.drop_index("ix_tracked_messages_journey_step", "tracked_messages")
    op.drop_table("tracked_messages")
