"""The tables, as SQLAlchemy Core metadata (migrations in ``store/migrations`` create the same)."""

from __future__ import annotations

import sqlalchemy as sa

from store.types import UTCDateTime

metadata = sa.MetaData()

customers = sa.Table(
    "customers",
    metadata,
    sa.Column("id", sa.String(200), primary_key=True),
    sa.Column("email", sa.String(320), nullable=True),
    sa.Column("first_name", sa.String(200), nullable=False, server_default=""),
    sa.Column("last_name", sa.String(200), nullable=False, server_default=""),
    sa.Column("locale", sa.String(35), nullable=False, server_default="en"),
    sa.Column("timezone", sa.String(64), nullable=False, server_default="UTC"),
    sa.Column("stage", sa.String(40), nullable=False, server_default="reach"),
    sa.Column("subscribed", sa.Boolean(), nullable=False, server_default=sa.true()),
    sa.Column("unsubscribed_at", UTCDateTime(), nullable=True),
    sa.Column("traits", sa.JSON(), nullable=False),
    sa.Column("tier", sa.String(40), nullable=True),
    sa.Column("badges", sa.JSON(), nullable=False),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Column("updated_at", UTCDateTime(), nullable=False),
)
# Find a customer by email, whatever its case.
sa.Index("ix_customers_email_lower", sa.func.lower(customers.c.email))

points_ledger = sa.Table(
    "points_ledger",
    metadata,
    sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
    sa.Column("key", sa.String(500), nullable=False),
    sa.Column("customer_id", sa.String(200), nullable=False),
    sa.Column("delta", sa.Integer(), nullable=False),
    sa.Column("reason", sa.String(500), nullable=False),
    sa.Column("journey", sa.String(200), nullable=True),
    sa.Column("step", sa.String(200), nullable=True),
    sa.Column("rule", sa.String(100), nullable=True),  # the loyalty earning rule, when one earned it
    # The outcome of the award, so a repeated call returns exactly what the first one did.
    sa.Column("balance_after", sa.Integer(), nullable=False),
    sa.Column("lifetime_after", sa.Integer(), nullable=False),
    sa.Column("tier_before", sa.String(40), nullable=True),
    sa.Column("tier_after", sa.String(40), nullable=True),
    sa.Column("badge", sa.String(100), nullable=True),
    sa.Column("badge_new", sa.Boolean(), nullable=False, server_default=sa.false()),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.UniqueConstraint("key", name="uq_points_ledger_key"),
    sa.Index("ix_points_ledger_journey_step", "journey", "step", "delta"),  # points per step, index only
    sa.Index("ix_points_ledger_customer_id_id", "customer_id", "id"),  # a customer's ledger by keyset
)

points_balances = sa.Table(
    "points_balances",
    metadata,
    sa.Column("customer_id", sa.String(200), primary_key=True),
    sa.Column("balance", sa.Integer(), nullable=False, server_default="0"),
    sa.Column("lifetime", sa.Integer(), nullable=False, server_default="0"),
    sa.CheckConstraint("balance >= 0", name="ck_points_balances_not_negative"),
)

deliveries = sa.Table(
    "deliveries",
    metadata,
    sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
    sa.Column("key", sa.String(500), nullable=False),
    sa.Column("channel", sa.String(20), nullable=False),
    sa.Column("customer_id", sa.String(200), nullable=False),
    sa.Column("journey", sa.String(200), nullable=False),
    sa.Column("step", sa.String(200), nullable=False),
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("reason", sa.String(500), nullable=True),
    sa.Column("recipient", sa.String(500), nullable=True),
    sa.Column("subject", sa.String(1000), nullable=True),
    sa.Column("message_id", sa.String(500), nullable=True),
    sa.Column("at", UTCDateTime(), nullable=False),
    # The journey version that sent it (rows logged before migration 0006 carry the one found then).
    sa.Column("version", sa.String(100), nullable=True),
    # An email as it was sent (the rendered HTML and text), for the customer page; erased with them.
    sa.Column("html", sa.Text(), nullable=True),
    sa.Column("text", sa.Text(), nullable=True),
    sa.UniqueConstraint("key", name="uq_deliveries_key"),
    sa.Index("ix_deliveries_journey_step_status", "journey", "step", "status"),  # sends per step and outcome
    sa.Index("ix_deliveries_customer_at", "customer_id", "at"),  # a customer's emails, newest first
)

# An email on its way: written (committed) before the SMTP exchange, deleted with the delivery log
# entry. One left behind means an attempt stopped when the message may have reached the server.
send_intents = sa.Table(
    "send_intents",
    metadata,
    sa.Column("key", sa.String(500), primary_key=True),
    sa.Column("channel", sa.String(20), nullable=False),
    sa.Column("message_id", sa.String(500), nullable=True),
    sa.Column("at", UTCDateTime(), nullable=False),
)

# A send that failed and is being retried (SMTP down, a webhook answering 503): one row per
# idempotency key, kept until the send is logged (sent, failed, skipped), for "retrying" counts.
send_retries = sa.Table(
    "send_retries",
    metadata,
    sa.Column("key", sa.String(500), primary_key=True),
    sa.Column("channel", sa.String(20), nullable=False),
    sa.Column("journey", sa.String(100), nullable=False),
    sa.Column("version", sa.String(100), nullable=False),
    sa.Column("step", sa.String(100), nullable=False),
    sa.Column("customer_id", sa.String(200), nullable=False),
    sa.Column("reason", sa.String(500), nullable=False),
    sa.Column("attempts", sa.Integer(), nullable=False),
    sa.Column("since", UTCDateTime(), nullable=False),
    sa.Column("updated_at", UTCDateTime(), nullable=False),
    sa.Index("ix_send_retries_journey_step", "journey", "version", "step"),
)

step_events = sa.Table(
    "step_events",
    metadata,
    sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
    # A digest of workflow id, kind, step, time and detail: a retried record_steps adds nothing.
    sa.Column("key", sa.String(64), nullable=False),
    sa.Column("journey", sa.String(200), nullable=False),
    sa.Column("version", sa.String(100), nullable=False),
    sa.Column("workflow_id", sa.String(500), nullable=False),
    sa.Column("customer_id", sa.String(200), nullable=False),
    sa.Column("step", sa.String(200), nullable=True),
    sa.Column("kind", sa.String(30), nullable=False),
    sa.Column("detail", sa.String(1000), nullable=False, server_default=""),
    sa.Column("at", UTCDateTime(), nullable=False),
    sa.UniqueConstraint("key", name="uq_step_events_key"),
    sa.Index("ix_step_events_journey_step", "journey", "step", "kind"),
    sa.Index("ix_step_events_journey_customer", "journey", "customer_id", "kind"),
    # The live counts of one version (StepRepository.counts), read from this index alone.
    sa.Index("ix_step_events_journey_version_counts", "journey", "version", "step", "kind", "detail"),
    sa.Index("ix_step_events_customer_at", "customer_id", "at"),  # a customer's timeline
)

# Live counts kept on write (store/counters.py): one row per journey, version, step, kind, detail
# and shard, added to in the transaction that inserts the rows it counts.
step_counters = sa.Table(
    "step_counters",
    metadata,
    sa.Column("journey", sa.String(200), primary_key=True),
    sa.Column("version", sa.String(100), primary_key=True),
    sa.Column("step", sa.String(200), primary_key=True),
    sa.Column("kind", sa.String(40), primary_key=True),
    sa.Column("detail", sa.String(1000), primary_key=True),
    sa.Column("shard", sa.SmallInteger(), primary_key=True, autoincrement=False),
    sa.Column("n", sa.BigInteger(), nullable=False),
)

processed_events = sa.Table(
    "processed_events",
    metadata,
    sa.Column("event_id", sa.String(200), primary_key=True),
    sa.Column("customer_id", sa.String(200), nullable=False, index=True),
    sa.Column("name", sa.String(100), nullable=False),
    sa.Column("at", UTCDateTime(), nullable=False),
    # pending (False) while the event is being delivered, done (True) after; see store/events.py
    sa.Column("done", sa.Boolean(), nullable=False, server_default=sa.true()),
    sa.Column("claimed_at", UTCDateTime(), nullable=True),
)

journey_versions = sa.Table(
    "journey_versions",
    metadata,
    sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("version", sa.String(100), nullable=False),
    sa.Column("source", sa.Text(), nullable=False),
    sa.Column("plan", sa.JSON(), nullable=False),
    sa.Column("deployed_at", UTCDateTime(), nullable=False),
    sa.Column("is_current", sa.Boolean(), nullable=False, server_default=sa.false()),
    sa.UniqueConstraint("name", "version", name="uq_journey_versions_name_version"),
)

journey_state = sa.Table(
    "journey_state",
    metadata,
    sa.Column("name", sa.String(200), primary_key=True),
    sa.Column("paused", sa.Boolean(), nullable=False, server_default=sa.false()),
)

# Who made which version current, and when: one row per deploy or rollback (a deploy of the version
# already current changes nothing and adds none). Rows from before migration 0007 name nobody.
deploy_history = sa.Table(
    "deploy_history",
    metadata,
    sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
    sa.Column("journey", sa.String(200), nullable=False),
    sa.Column("version", sa.String(100), nullable=False),
    sa.Column("deployed_by", sa.String(100), nullable=True),
    sa.Column("action", sa.String(20), nullable=False),  # deploy | rollback
    sa.Column("at", UTCDateTime(), nullable=False),
    sa.Index("ix_deploy_history_journey_at", "journey", "at"),
)
