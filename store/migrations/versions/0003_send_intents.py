"""Send intents: an email is noted before the SMTP exchange, so a retry can tell that an earlier
attempt may have delivered it (the message went out, the delivery log entry was never written).

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "send_intents",
        sa.Column("key", sa.String(500), primary_key=True),
        sa.Column("channel", sa.String(20), nullable=False),
        sa.Column("message_id", sa.String(500), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("send_intents")
