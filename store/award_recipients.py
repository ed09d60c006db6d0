"""Who receives a journey's award when it names a related customer (``award: {to: referrer}``)."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from store.loyalty_tables import referrals
from store.reading import reading
from store.tables import customers

# A referral the program refused (the cap) makes nobody the referrer; nor does an id the store
# does not hold as a customer (an award never creates one).
_REFERRER = (
    sa.select(referrals.c.referrer_id)
    .select_from(referrals.join(customers, customers.c.id == referrals.c.referrer_id))
    .where(
        referrals.c.referee_id == sa.bindparam("customer_id"), referrals.c.status.in_(("linked", "qualified"))
    )
)


async def referrer_of(engine: AsyncEngine, customer_id: str) -> str | None:
    """The customer who referred ``customer_id``, or None."""
    async with reading(engine).connect() as conn:
        found = await conn.scalar(_REFERRER, {"customer_id": customer_id})
    return None if found is None else str(found)
