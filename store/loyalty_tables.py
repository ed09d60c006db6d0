"""The loyalty program's tables (migration 0009 creates the same), on ``store.tables.metadata``.

- ``loyalty_programs``: each deployed program file, by version; one is active.
- ``loyalty_members``: per customer: referral code, tier state (since when, below since, when a
  downgrade falls due, whether it was warned), leaderboard opt-out.
- ``points_lots``: every earning as a lot: pending until ``available_at``, then available until
  ``expires_at``; ``remaining`` is what redemptions (first in, first out) have not consumed.
- ``period_points``: points earned per customer per leaderboard period (``week:2026-W49``,
  ``month:2026-12``), added in the award's transaction, so a board is one indexed read.
- ``reward_stock``, ``vouchers``, ``redemptions``: the catalog's counters, voucher codes (uploaded
  pools and generated codes alike) and each redemption by its idempotency key.
- ``referrals``: one row per referee (a referee has one referrer); ``referral_attempts``: every
  attempt, refused ones with their reason, by the event that made it.
- ``challenge_progress``: a customer's current round of a challenge; ``loyalty_events``: the events
  whose loyalty effects were applied (each once), with the events that emitted (``emitted``), and
  per customer the last settle's (``loyalty/settle``).
"""

from __future__ import annotations

import sqlalchemy as sa

from store.program_files import program_file_table
from store.tables import metadata
from store.types import UTCDateTime

loyalty_programs = program_file_table("loyalty_programs", name_column="program")

loyalty_members = sa.Table(
    "loyalty_members",
    metadata,
    sa.Column("customer_id", sa.String(200), primary_key=True),
    sa.Column("referral_code", sa.String(40), nullable=True, unique=True),
    sa.Column("tier", sa.String(40), nullable=True),
    sa.Column("tier_since", UTCDateTime(), nullable=True),
    sa.Column("below_since", UTCDateTime(), nullable=True),  # first review that found them below
    sa.Column("downgrade_at", UTCDateTime(), nullable=True),  # when the grace ends
    sa.Column("warned_at", UTCDateTime(), nullable=True),  # the downgrade warning for downgrade_at
    sa.Column("reviewed_at", UTCDateTime(), nullable=True),
    sa.Column("leaderboard_opt_out", sa.Boolean(), nullable=False, server_default=sa.false()),
    sa.Column("updated_at", UTCDateTime(), nullable=False),
)

points_lots = sa.Table(
    "points_lots",
    metadata,
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
    sa.Column("earned_at", UTCDateTime(), nullable=False),
    sa.Column("available_at", UTCDateTime(), nullable=False),
    sa.Column("expires_at", UTCDateTime(), nullable=True),
    sa.Column("reminded_at", UTCDateTime(), nullable=True),  # points_expiring sent
    sa.Column("settled_at", UTCDateTime(), nullable=True),  # became available/cancelled/expired
    sa.UniqueConstraint("key", name="uq_points_lots_key"),
    sa.CheckConstraint("remaining >= 0 AND remaining <= points", name="ck_points_lots_remaining"),
    sa.Index("ix_points_lots_customer_status_expires", "customer_id", "status", "expires_at"),
    sa.Index("ix_points_lots_customer_order", "customer_id", "order_ref"),
)

period_points = sa.Table(
    "period_points",
    metadata,
    sa.Column("period", sa.String(20), primary_key=True),  # week:2026-W49 | month:2026-12
    sa.Column("customer_id", sa.String(200), primary_key=True),
    sa.Column("points", sa.Integer(), nullable=False, server_default="0"),
    sa.Index("ix_period_points_board", "period", "points"),
)

reward_stock = sa.Table(
    "reward_stock",
    metadata,
    sa.Column("reward_id", sa.String(100), primary_key=True),
    sa.Column("redeemed", sa.Integer(), nullable=False, server_default="0"),
)

vouchers = sa.Table(
    "vouchers",
    metadata,
    sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
    sa.Column("reward_id", sa.String(100), nullable=False),
    sa.Column("code", sa.String(64), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),  # available (in a pool) | issued
    sa.Column("customer_id", sa.String(200), nullable=True),
    sa.Column("redemption_key", sa.String(500), nullable=True),
    sa.Column("uploaded_at", UTCDateTime(), nullable=True),
    sa.Column("issued_at", UTCDateTime(), nullable=True),
    sa.Column("expires_at", UTCDateTime(), nullable=True),
    sa.UniqueConstraint("code", name="uq_vouchers_code"),
    sa.Index("ix_vouchers_pool", "reward_id", "status", "id"),
)

redemptions = sa.Table(
    "redemptions",
    metadata,
    sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
    sa.Column("key", sa.String(500), nullable=False),
    sa.Column("customer_id", sa.String(200), nullable=False),
    sa.Column("reward_id", sa.String(100), nullable=False),
    sa.Column("cost", sa.Integer(), nullable=False),
    sa.Column("voucher_code", sa.String(64), nullable=False),
    sa.Column("balance_after", sa.Integer(), nullable=False),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Column("expires_at", UTCDateTime(), nullable=False),
    sa.UniqueConstraint("key", name="uq_redemptions_key"),
    sa.Index("ix_redemptions_customer_reward", "customer_id", "reward_id"),
)

referrals = sa.Table(
    "referrals",
    metadata,
    sa.Column("referee_id", sa.String(200), primary_key=True),
    sa.Column("referrer_id", sa.String(200), nullable=False),
    sa.Column("code", sa.String(40), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),  # linked | qualified | refused
    sa.Column("reason", sa.String(200), nullable=True),  # why refused at qualification (the cap)
    sa.Column("linked_at", UTCDateTime(), nullable=False),
    sa.Column("qualified_at", UTCDateTime(), nullable=True),
    sa.Column("qualifying_event_id", sa.String(200), nullable=True),
    sa.Index("ix_referrals_referrer", "referrer_id", "status", "qualified_at"),
)

referral_attempts = sa.Table(
    "referral_attempts",
    metadata,
    sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
    sa.Column("event_id", sa.String(200), nullable=False),
    sa.Column("code", sa.String(40), nullable=False),
    sa.Column("referrer_id", sa.String(200), nullable=True),
    sa.Column("referee_id", sa.String(200), nullable=False),
    sa.Column("outcome", sa.String(16), nullable=False),  # linked | refused
    # self_referral | existing_customer | same_email | same_phone | same_device | unknown_code | cap
    sa.Column("reason", sa.String(40), nullable=True),
    sa.Column("at", UTCDateTime(), nullable=False),
    sa.UniqueConstraint("event_id", "referee_id", name="uq_referral_attempts_event"),
    sa.Index("ix_referral_attempts_referrer", "referrer_id", "at"),
)

challenge_progress = sa.Table(
    "challenge_progress",
    metadata,
    sa.Column("customer_id", sa.String(200), primary_key=True),
    sa.Column("challenge_id", sa.String(100), primary_key=True),
    sa.Column("round", sa.Integer(), primary_key=True),
    sa.Column("count", sa.Integer(), nullable=False, server_default="0"),
    sa.Column("started_at", UTCDateTime(), nullable=False),
    sa.Column("ends_at", UTCDateTime(), nullable=False),
    sa.Column("completed_at", UTCDateTime(), nullable=True),
)

loyalty_events = sa.Table(
    "loyalty_events",
    metadata,
    sa.Column("event_id", sa.String(200), primary_key=True),
    sa.Column("customer_id", sa.String(200), primary_key=True),
    sa.Column("applied_at", UTCDateTime(), nullable=False),
    # The events its application emits (CustomerEvent as JSON), emitted again on a repeat: a retry
    # after the commit but before the emission must not lose them (migration 0012).
    sa.Column("emitted", sa.JSON(), nullable=True),
)
