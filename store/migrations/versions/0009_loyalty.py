"""The loyalty program (engine.loyalty): programs, members, lots, period points, the catalog's
stock, vouchers and redemptions, referrals and their attempts, challenge progress, applied events;
and the earning rule on each ledger row.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "loyalty_programs",
        sa.Column("version", sa.String(64), primary_key=True),
        sa.Column("program", sa.String(100), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("deployed_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "loyalty_members",
        sa.Column("customer_id", sa.String(200), primary_key=True),
        sa.Column("referral_code", sa.String(40), nullable=True, unique=True),
        sa.Column("tier", sa.String(40), nullable=True),
        sa.Column("tier_since", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "below_since", sa.DateTime(timezone=True), nullable=True
        ),  # first review that found them below
        sa.Column("downgrade_at", sa.DateTime(timezone=True), nullable=True),  # when the grace ends
        sa.Column(
            "warned_at", sa.DateTime(timezone=True), nullable=True
        ),  # the downgrade warning for downgrade_at
        sa.Column("reviewed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("leaderboard_opt_out", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "points_lots",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("key", sa.String(500), nullable=False),  # the earning's idempotency key
        sa.Column("customer_id", sa.String(200), nullable=False),
        sa.Column("rule", sa.String(100), nullable=True),  # the earning rule; None for journey awards
        sa.Column("reason", sa.String(500), nullable=False),
        sa.Column("points", sa.Integer(), nullable=False),
        sa.Column("remaining", sa.Integer(), nullable=False),
        # pending | available | cancelled | expired | spent
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("order_ref", sa.String(200), nullable=True),  # ties a refund to this lot
        sa.Column("event_id", sa.String(200), nullable=True),
        sa.Column("earned_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("available_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reminded_at", sa.DateTime(timezone=True), nullable=True),  # points_expiring sent
        sa.Column(
            "settled_at", sa.DateTime(timezone=True), nullable=True
        ),  # became available/cancelled/expired
        sa.UniqueConstraint("key", name="uq_points_lots_key"),
        sa.CheckConstraint("remaining >= 0 AND remaining <= points", name="ck_points_lots_remaining"),
    )
    op.create_table(
        "period_points",
        sa.Column("period", sa.String(20), primary_key=True),  # week:2026-W49 | month:2026-12
        sa.Column("customer_id", sa.String(200), primary_key=True),
        sa.Column("points", sa.Integer(), nullable=False, server_default="0"),
    )
    op.create_table(
        "reward_stock",
        sa.Column("reward_id", sa.String(100), primary_key=True),
        sa.Column("redeemed", sa.Integer(), nullable=False, server_default="0"),
    )
    op.create_table(
        "vouchers",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("reward_id", sa.String(100), nullable=False),
        sa.Column("code", sa.String(64), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),  # available (in a pool) | issued
        sa.Column("customer_id", sa.String(200), nullable=True),
        sa.Column("redemption_key", sa.String(500), nullable=True),
        sa.Column("uploaded_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.UniqueConstraint("code", name="uq_vouchers_code"),
    )
    op.create_table(
        "redemptions",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("key", sa.String(500), nullable=False),
        sa.Column("customer_id", sa.String(200), nullable=False),
        sa.Column("reward_id", sa.String(100), nullable=False),
        sa.Column("cost", sa.Integer(), nullable=False),
        sa.Column("voucher_code", sa.String(64), nullable=False),
        sa.Column("balance_after", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("key", name="uq_redemptions_key"),
    )
    op.create_table(
        "referrals",
        sa.Column("referee_id", sa.String(200), primary_key=True),
        sa.Column("referrer_id", sa.String(200), nullable=False),
        sa.Column("code", sa.String(40), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),  # linked | qualified | refused
        sa.Column("reason", sa.String(200), nullable=True),  # why refused at qualification (the cap)
        sa.Column("linked_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("qualified_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("qualifying_event_id", sa.String(200), nullable=True),
    )
    op.create_table(
        "referral_attempts",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("event_id", sa.String(200), nullable=False),
        sa.Column("code", sa.String(40), nullable=False),
        sa.Column("referrer_id", sa.String(200), nullable=True),
        sa.Column("referee_id", sa.String(200), nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),  # linked | refused
        # self_referral | existing_customer | same_email | same_phone | same_device | unknown_code | cap
        sa.Column("reason", sa.String(40), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("event_id", "referee_id", name="uq_referral_attempts_event"),
    )
    op.create_table(
        "challenge_progress",
        sa.Column("customer_id", sa.String(200), primary_key=True),
        sa.Column("challenge_id", sa.String(100), primary_key=True),
        sa.Column("round", sa.Integer(), primary_key=True),
        sa.Column("count", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_table(
        "loyalty_events",
        sa.Column("event_id", sa.String(200), primary_key=True),
        sa.Column("customer_id", sa.String(200), primary_key=True),
        sa.Column("applied_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index(
        "ix_points_lots_customer_status_expires", "points_lots", ["customer_id", "status", "expires_at"]
    )
    op.create_index("ix_points_lots_customer_order", "points_lots", ["customer_id", "order_ref"])
    op.create_index("ix_period_points_board", "period_points", ["period", "points"])
    op.create_index("ix_vouchers_pool", "vouchers", ["reward_id", "status", "id"])
    op.create_index("ix_redemptions_customer_reward", "redemptions", ["customer_id", "reward_id"])
    op.create_index("ix_referrals_referrer", "referrals", ["referrer_id", "status", "qualified_at"])
    op.create_index("ix_referral_attempts_referrer", "referral_attempts", ["referrer_id", "at"])
    op.add_column("points_ledger", sa.Column("rule", sa.String(100), nullable=True))


def downgrade() -> None:
    op.drop_column("points_ledger", "rule")
    op.drop_table("loyalty_events")
    op.drop_table("challenge_progress")
    op.drop_table("referral_attempts")
    op.drop_table("referrals")
    op.drop_table("redemptions")
    op.drop_table("vouchers")
    op.drop_table("reward_stock")
    op.drop_table("period_points")
    op.drop_table("points_lots")
    op.drop_table("loyalty_members")
    op.drop_table("loyalty_programs")
