"""Indexes for the live counts of the journey page: one aggregated query per journey and version.

Each covers its part of ``StepRepository.counts`` so the query reads indexes only: step records by
journey, version, step, kind and detail (the outcome a completed step went to); deliveries by
journey, step and status (replacing the index on journey and step, a prefix of it); points
awarded by journey and step.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01
"""

from __future__ import annotations

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_step_events_journey_version_counts",
        "step_events",
        ["journey", "version", "step", "kind", "detail"],
    )
    op.create_index("ix_deliveries_journey_step_status", "deliveries", ["journey", "step", "status"])
    op.drop_index("ix_deliveries_journey_step", table_name="deliveries")
    op.create_index("ix_points_ledger_journey_step", "points_ledger", ["journey", "step", "delta"])


def downgrade() -> None:
    op.drop_index("ix_points_ledger_journey_step", table_name="points_ledger")
    op.create_index("ix_deliveries_journey_step", "deliveries", ["journey", "step"])
    op.drop_index("ix_deliveries_journey_step_status", table_name="deliveries")
    op.drop_index("ix_step_events_journey_version_counts", table_name="step_events")
