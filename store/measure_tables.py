"""Tables the reports read (``measurement``): each purchase's amount, and every lifecycle stage change.

``purchases`` is written on ingest, in the transaction that claims the event (``store.purchases``);
``stage_changes`` in the transaction that moves the customer (``CustomerRepository.set_stage``).
"""

from __future__ import annotations

import sqlalchemy as sa

from store.tables import metadata
from store.types import UTCDateTime

# One row per purchase event, once ever (an event claimed again adds nothing): its amount in cents.
purchases = sa.Table(
    "purchases",
    metadata,
    sa.Column("event_id", sa.String(200), primary_key=True),
    sa.Column("customer_id", sa.String(200), nullable=False),
    sa.Column("at", UTCDateTime(), nullable=False),
    sa.Column("amount_cents", sa.BigInteger(), nullable=False),
    sa.Index("ix_purchases_customer_at", "customer_id", "at"),
)

# One row per change of a customer's stage (a set_stage step or a goal's stage), from what to what.
stage_changes = sa.Table(
    "stage_changes",
    metadata,
    sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
    sa.Column("customer_id", sa.String(200), nullable=False),
    sa.Column("from_stage", sa.String(40), nullable=False),
    sa.Column("to_stage", sa.String(40), nullable=False),
    sa.Column("journey", sa.String(200), nullable=True),
    sa.Column("at", UTCDateTime(), nullable=False),
    sa.Index("ix_stage_changes_at", "at"),
    sa.Index("ix_stage_changes_customer_at", "customer_id", "at"),
)
