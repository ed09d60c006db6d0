"""Segments: per-customer behaviour aggregates kept on ingest (store.behaviour), the events already
counted, and segment membership (store.segments).

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "customer_behaviour",
        sa.Column("customer_id", sa.String(200), primary_key=True),
        sa.Column("event", sa.String(200), primary_key=True),
        sa.Column("count", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("total", sa.Float(), nullable=False, server_default="0"),
        sa.Column("first_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("days", sa.JSON(), nullable=False),
        sa.Column("categories", sa.JSON(), nullable=False),
    )
    op.create_index("ix_customer_behaviour_event_last_at", "customer_behaviour", ["event", "last_at"])
    op.create_table(
        "behaviour_events",
        sa.Column("event_id", sa.String(200), primary_key=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "segment_members",
        sa.Column("segment", sa.String(100), primary_key=True),
        sa.Column("customer_id", sa.String(200), primary_key=True),
        sa.Column("entered_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("exited_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("entries", sa.Integer(), nullable=False),
        sa.Column("announced", sa.Boolean(), nullable=False),
    )
    op.create_index("ix_segment_members_segment_exited_at", "segment_members", ["segment", "exited_at"])


def downgrade() -> None:
    op.drop_index("ix_segment_members_segment_exited_at", "segment_members")
    op.drop_table("segment_members")
    op.drop_table("behaviour_events")
    op.drop_index("ix_customer_behaviour_event_last_at", "customer_behaviour")
    op.drop_table("customer_behaviour")
