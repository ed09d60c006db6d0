"""Tables of the channel policy (``engine.channels``).

- ``channel_policies``: each deployed policy file, by version; one is active.
- ``send_counts``: marketing sends per customer, channel and period (``day:2026-12-02``,
  ``week:2026-W49``, in the customer's time zone); a send takes a slot by a conditional update
  (``count < limit``), so two sends racing for the last slot cannot both have it.
- ``counted_sends``: the sends that hold a slot, by idempotency key, with the periods they count
  in: a retry of the same key finds its slot instead of taking another.
"""

from __future__ import annotations

import sqlalchemy as sa

from store.program_files import program_file_table
from store.tables import metadata
from store.types import UTCDateTime

channel_policies = program_file_table("channel_policies", name_column="policy")

send_counts = sa.Table(
    "send_counts",
    metadata,
    sa.Column("customer_id", sa.String(200), primary_key=True),
    sa.Column("channel", sa.String(20), primary_key=True),
    sa.Column("period", sa.String(20), primary_key=True),
    sa.Column("count", sa.Integer(), nullable=False, server_default="0"),
)

counted_sends = sa.Table(
    "counted_sends",
    metadata,
    sa.Column("key", sa.String(500), primary_key=True),
    sa.Column("customer_id", sa.String(200), nullable=False),
    sa.Column("channel", sa.String(20), nullable=False),
    sa.Column("periods", sa.JSON(), nullable=False),
    sa.Column("at", UTCDateTime(), nullable=False),
)
