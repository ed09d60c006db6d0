"""Customers: upsert merges traits, stages move, consent and erasure stick."""

from __future__ import annotations

from datetime import UTC, datetime

from contracts.activities import DeliveryResult
from store import Store
from store.deliveries import SentBody
from tests.support.loyalty_program import deploy_tiers


async def test_upsert_creates_and_merges_traits(store: Store) -> None:
    created = await store.customers.upsert(
        "cust-1", {"email": "ada@example.com", "first_name": "Ada", "plan": "pro", "city": "London"}
    )
    assert created.email == "ada@example.com"
    assert created.first_name == "Ada"
    assert created.traits == {"plan": "pro", "city": "London"}
    assert created.stage == "reach" and created.subscribed

    merged = await store.customers.upsert("cust-1", {"last_name": "Lovelace", "city": "Paris", "age": 36})
    assert merged.email == "ada@example.com"  # keys not given are kept
    assert (merged.first_name, merged.last_name) == ("Ada", "Lovelace")
    assert merged.traits == {"plan": "pro", "city": "Paris", "age": 36}
    assert merged.created_at == created.created_at
    assert merged.updated_at >= created.updated_at
    assert merged.created_at.tzinfo is not None


async def test_locale_and_timezone_are_columns_with_defaults(store: Store) -> None:
    customer = await store.customers.upsert("cust-2", {"locale": "id", "timezone": "Asia/Jakarta"})
    assert (customer.locale, customer.timezone) == ("id", "Asia/Jakarta")
    assert customer.traits == {}
    customer = await store.customers.upsert("cust-2", {"locale": None})
    assert customer.locale == "en"


async def test_snapshot_of_unknown_customer_does_not_exist(store: Store) -> None:
    snapshot = await store.customers.snapshot("nobody")
    assert snapshot.id == "nobody"
    assert not snapshot.exists
    assert await store.customers.get("nobody") is None


async def test_snapshot_carries_points_tier_and_badges(store: Store) -> None:
    await store.customers.upsert("cust-3", {"email": "c3@example.com", "first_name": "Grace"})
    await deploy_tiers(store)
    await store.points.award("k1", "cust-3", 120, "Sign-up", badge="newcomer")
    snapshot = await store.customers.snapshot("cust-3")
    assert snapshot.exists
    assert (snapshot.points, snapshot.lifetime_points, snapshot.tier) == (120, 120, "bronze")
    assert snapshot.badges == ["newcomer"]
    assert snapshot.as_context()["name"] == "Grace"


async def test_set_stage_returns_previous_and_new(store: Store) -> None:
    await store.customers.upsert("cust-4", {"email": "c4@example.com"})
    assert await store.customers.set_stage("cust-4", "acquisition") == ("reach", "acquisition")
    assert await store.customers.set_stage("cust-4", "conversion") == ("acquisition", "conversion")
    customer = await store.customers.get("cust-4")
    assert customer is not None and customer.stage == "conversion"


async def test_unsubscribe_is_remembered_even_before_the_customer_is_known(store: Store) -> None:
    await store.customers.unsubscribe("cust-5")
    await store.customers.upsert("cust-5", {"email": "c5@example.com"})
    customer = await store.customers.get("cust-5")
    assert customer is not None
    assert not customer.subscribed
    assert customer.unsubscribed_at is not None
    first = customer.unsubscribed_at
    await store.customers.unsubscribe("cust-5")
    again = await store.customers.get("cust-5")
    assert again is not None and again.unsubscribed_at == first


async def test_forget_erases_personal_data_and_keeps_anonymous_books(store: Store) -> None:
    await store.customers.upsert("cust-6", {"email": "c6@example.com", "first_name": "Alan", "phone": "+44"})
    await store.points.award(
        "forget-k1", "cust-6", 50, "Bonus", journey="onboarding", version="v1", step="bonus"
    )
    sent = DeliveryResult(status="sent", channel="email", recipient="c6@example.com", subject="Hi Alan")
    body = SentBody(html="<p>Hi Alan</p>", text="Hi Alan")
    at = datetime(2030, 1, 1, tzinfo=UTC)
    key = "journey/onboarding/cust-6/e1/welcome/1"
    await store.deliveries.record(
        key,
        sent,
        customer_id="cust-6",
        journey="onboarding",
        version="v1",
        step="welcome",
        at=at,
        message=body,
    )
    assert (await store.deliveries.sent_message(key)) is not None
    assert await store.customers.forget("cust-6") is True
    assert await store.customers.get("cust-6") is None
    assert await store.points.ledger("cust-6") == []
    assert await store.deliveries.sent_message(key) is None  # the email's bodies named them
    stats = await store.steps.stats("onboarding")
    assert stats.steps["bonus"].points_awarded == 50  # the books still add up
    assert stats.steps["welcome"].sends == 1
    assert await store.customers.forget("cust-6") is False


async def test_column_traits_are_stored_as_text(store: Store) -> None:
    customer = await store.customers.upsert("cust-7", {"first_name": 42, "email": None, "nested": {"a": [1]}})
    assert customer.first_name == "42"
    assert customer.email is None
    assert customer.traits == {"nested": {"a": [1]}}
