"""The deploy history: who made which version of a journey current, and when (deploy or rollback).

Versions deployed before this migration get one ``deploy`` row each, at the time they were first
deployed, naming nobody (``deployed_by`` is NULL: it was not recorded then).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "deploy_history",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("journey", sa.String(200), nullable=False),
        sa.Column("version", sa.String(100), nullable=False),
        sa.Column("deployed_by", sa.String(100), nullable=True),
        sa.Column("action", sa.String(20), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_deploy_history_journey_at", "deploy_history", ["journey", "at"])
    op.execute(
        "INSERT INTO deploy_history (journey, version, deployed_by, action, at) "
        "SELECT name, version, NULL, 'deploy', deployed_at FROM journey_versions ORDER BY deployed_at, id"
    )


def downgrade() -> None:
    op.drop_index("ix_deploy_history_journey_at", table_name="deploy_history")
    op.drop_table("deploy_history")
