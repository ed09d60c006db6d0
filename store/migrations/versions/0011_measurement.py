"""Measurement (#16): each purchase's amount (``purchases``) and every stage change
(``stage_changes``, seeded with one change per customer already out of the default stage, at their
last update: the history before this migration is not known).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "purchases",
        sa.Column("event_id", sa.String(200), primary_key=True),
        sa.Column("customer_id", sa.String(200), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("amount_cents", sa.BigInteger(), nullable=False),
    )
    op.create_index("ix_purchases_customer_at", "purchases", ["customer_id", "at"])
    op.create_table(
        "stage_changes",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("customer_id", sa.String(200), nullable=False),
        sa.Column("from_stage", sa.String(40), nullable=False),
        sa.Column("to_stage", sa.String(40), nullable=False),
        sa.Column("journey", sa.String(200), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_stage_changes_at", "stage_changes", ["at"])
    op.create_index("ix_stage_changes_customer_at", "stage_changes", ["customer_id", "at"])
    op.execute(
        "INSERT INTO stage_changes (customer_id, from_stage, to_stage, journey, at) "
        "SELECT id, 'reach', stage, NULL, updated_at FROM customers WHERE stage <> 'reach'"
    )


def downgrade() -> None:
    op.drop_table("stage_changes")
    op.drop_table("purchases")
