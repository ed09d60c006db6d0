"""Loyalty (#15): ``loyalty_events.emitted``, the events an applied event (or a customer's last
settle) emitted, so a retry after the commit emits them again instead of losing them.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("loyalty_events") as batch:
        batch.add_column(sa.Column("emitted", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("loyalty_events") as batch:
        batch.drop_column("emitted")
