"""POST /v1/webhooks/bounces over HTTP: a bounce suppresses the address (its customers are
unsubscribed), a repeat changes nothing, and the next email to the address is skipped with the
reason, also for a customer who was not there when it bounced."""

from __future__ import annotations

import httpx
import sqlalchemy as sa

from store.engagement_tables import suppressions
from store.suppressions import address_key, suppression_of
from tests.api.tracking.conftest import Tracked


async def test_a_bounce_suppresses_the_address_and_the_next_send_is_skipped(tracked: Tracked) -> None:
    sandbox = tracked.sandbox
    await sandbox.event("promo_requested", "fay", traits={"email": "fay@example.com", "first_name": "Fay"})
    await sandbox.result("promo", "fay")
    [first] = tracked.email_to("fay@example.com")
    report = {
        "email": "Fay@Example.com",
        "type": "bounce",
        "reason": "550 5.1.1 mailbox unknown",
        "message_id": first.message_id,
    }

    answer = await tracked.http.post("/v1/webhooks/bounces", json=report)
    repeated = await tracked.http.post("/v1/webhooks/bounces", json={**report, "type": "complaint"})

    assert answer.status_code == 200, answer.text
    assert answer.json() == {"suppressed": "bounce", "duplicate": False, "customers": 1}
    assert repeated.json() == {"suppressed": "bounce", "duplicate": True, "customers": 1}
    fay = await sandbox.store.customers.get("fay")
    assert fay is not None and fay.subscribed is False
    await sandbox.event("promo_requested", "fay")
    await sandbox.event("promo_requested", "fay-2", traits={"email": "FAY@example.com", "first_name": "F"})
    await sandbox.result("promo", "fay")
    await sandbox.result("promo", "fay-2")  # a customer added after the bounce: the address is what counts
    assert len(tracked.email_to("fay@example.com")) == 1 and tracked.email_to("FAY@example.com") == []
    for customer_id in ("fay", "fay-2"):
        last = (await sandbox.store.deliveries.for_customer(customer_id))[-1]
        assert (last.status, last.reason) == ("skipped", "suppressed: bounce"), customer_id


async def test_a_report_needs_a_key_and_a_bounded_body(tracked: Tracked) -> None:
    async with httpx.AsyncClient(base_url=tracked.base_url) as anonymous:
        assert (
            await anonymous.post("/v1/webhooks/bounces", json={"email": "x@y.z", "type": "bounce"})
        ).status_code == 401
    for body in (
        {"email": "not-an-address", "type": "bounce"},
        {"email": "a@b.c", "type": "soft"},
        {"email": "a@b.c", "type": "bounce", "reason": "x" * 501},
        {"email": f"{'a' * 320}@b.c", "type": "bounce"},
        {"email": "a@b.c", "type": "bounce", "extra": 1},
        {"email": "a\x00@b.c", "type": "bounce"},  # PostgreSQL refuses NUL: never an address we sent to
        {"email": "a@b.c\n", "type": "bounce"},
    ):
        answer = await tracked.http.post("/v1/webhooks/bounces", json=body)
        assert answer.status_code == 422, body
        assert answer.json()["errors"], body


async def test_a_multi_line_diagnostic_is_kept_as_one_line_and_the_address_suppressed(
    tracked: Tracked,
) -> None:
    report = {
        "email": "gus@example.com",
        "type": "bounce",
        "reason": "550-5.1.1 no such user\r\n550 5.1.1 gone\x00",
    }

    answer = await tracked.http.post("/v1/webhooks/bounces", json={**report, "message_id": "<m\x00@x>"})

    assert answer.status_code == 200, answer.text
    async with tracked.sandbox.store.engine.connect() as conn:
        query = sa.select(suppressions.c.reason, suppressions.c.message_id).where(
            suppressions.c.address == address_key("gus@example.com")
        )
        row = (await conn.execute(query)).one()
    assert tuple(row) == ("550-5.1.1 no such user  550 5.1.1 gone ", "<m @x>")
    assert await suppression_of(tracked.sandbox.store.engine, "gus@example.com") == "bounce"
