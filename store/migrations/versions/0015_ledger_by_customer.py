"""The points ledger indexed by (customer_id, id): a keyset page of one customer's ledger, newest
first (``store.wallet_read.ledger``), is one index range read in id order, with no sort and no scan
of other customers' rows. It replaces the index on customer_id alone, which it covers.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-02
"""

from __future__ import annotations

from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_points_ledger_customer_id_id", "points_ledger", ["customer_id", "id"])
    op.drop_index("ix_points_ledger_customer_id", "points_ledger")


def downgrade() -> None:
    op.create_index("ix_points_ledger_customer_id", "points_ledger", ["customer_id"])
    op.drop_index("ix_points_ledger_customer_id_id", "points_ledger")
