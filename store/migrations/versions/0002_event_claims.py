"""Event claims have two states: pending while the event is delivered, done after.

A repeat of a pending event is told to retry (the first attempt may still fail and release it);
a repeat of a done event is a duplicate. ``claimed_at`` lets a claim abandoned by a crashed
process be taken over.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "processed_events", sa.Column("done", sa.Boolean(), nullable=False, server_default=sa.true())
    )
    op.add_column("processed_events", sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    op.drop_column("processed_events", "claimed_at")
    op.drop_column("processed_events", "done")
