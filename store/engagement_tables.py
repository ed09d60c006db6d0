"""The tables of engagement tracking (store.engagement) and suppressed addresses (store.suppressions)."""

from __future__ import annotations

import sqlalchemy as sa

from store.tables import metadata
from store.types import UTCDateTime

# One row per email sent with tracking: what the engagement counts are counted for, and the totals.
tracked_messages = sa.Table(
    "tracked_messages",
    metadata,
    sa.Column("message", sa.String(40), primary_key=True),  # activities.tracking_tokens.message_ref
    sa.Column("key", sa.String(500), nullable=False),  # the delivery's idempotency key
    sa.Column("customer_id", sa.String(200), nullable=False),
    sa.Column("journey", sa.String(200), nullable=False),
    sa.Column("version", sa.String(100), nullable=False),
    sa.Column("step", sa.String(200), nullable=False),
    sa.Column("variants", sa.JSON(), nullable=False),  # split -> the variant the run was given
    sa.Column("at", UTCDateTime(), nullable=False),
    sa.Column("opens", sa.Integer(), nullable=False, server_default="0"),
    sa.Column("first_opened_at", UTCDateTime(), nullable=True),
    sa.Column("clicks", sa.Integer(), nullable=False, server_default="0"),
    sa.Column("first_clicked_at", UTCDateTime(), nullable=True),
    sa.Index("ix_tracked_messages_journey_step", "journey", "version", "step"),
    sa.Index("ix_tracked_messages_customer_id", "customer_id"),
)

# The links of a tracked email by number: the only place a click redirect takes its target from.
delivery_links = sa.Table(
    "delivery_links",
    metadata,
    sa.Column("message", sa.String(40), primary_key=True),
    sa.Column("link", sa.Integer(), primary_key=True),
    sa.Column("url", sa.Text(), nullable=False),
)

# Each open and click (the first EVENTS_PER_MESSAGE of a message; its totals keep counting).
engagement = sa.Table(
    "engagement",
    metadata,
    sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
    sa.Column("message", sa.String(40), nullable=False),
    sa.Column("kind", sa.String(10), nullable=False),  # open | click
    sa.Column("link", sa.Integer(), nullable=True),  # a click's link number
    sa.Column("at", UTCDateTime(), nullable=False),
    sa.Index("ix_engagement_message", "message"),
)

# Addresses no email goes to after a bounce or complaint, by the SHA-256 of the lower-cased address
# (so erasing a customer leaves the suppression without keeping the address).
suppressions = sa.Table(
    "suppressions",
    metadata,
    sa.Column("address", sa.String(64), primary_key=True),
    sa.Column("kind", sa.String(20), nullable=False),  # bounce | complaint
    sa.Column("reason", sa.String(500), nullable=True),
    sa.Column("message_id", sa.String(500), nullable=True),
    sa.Column("at", UTCDateTime(), nullable=False),
)
