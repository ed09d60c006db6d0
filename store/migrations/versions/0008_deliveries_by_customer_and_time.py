"""A customer's deliveries in time order from the index (the customer page lists the newest
first): ``deliveries(customer_id, at)`` replaces the index on ``customer_id`` alone, its prefix.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01
"""

from __future__ import annotations

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_deliveries_customer_at", "deliveries", ["customer_id", "at"])
    op.drop_index("ix_deliveries_customer_id", table_name="deliveries")


def downgrade() -> None:
    op.create_index("ix_deliveries_customer_id", "deliveries", ["customer_id"])
    op.drop_index("ix_deliveries_customer_at", table_name="deliveries")
