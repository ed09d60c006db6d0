"""Event intake in one transaction: the claim, the customer's traits when the claim is new, and the
snapshot the router reads; duplicates and repeats write nothing."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.engine import make_url

from store import Store
from store.events import Claim
from store.sqlite_thread import on_a_file

STALE = timedelta(minutes=2)


def signup(event_id: str, customer_id: str, **traits: object) -> Claim:
    return Claim(event_id, customer_id, "signed_up", traits=traits or None, customer=True)


async def test_a_new_claim_writes_its_traits_and_answers_the_customer_as_written(store: Store) -> None:
    await store.customers.upsert("ada", {"plan": "free", "city": "London"})
    await store.points.award("ada-welcome", "ada", 40, "welcome")
    (claimed,) = await store.events.intake(
        [signup("e1", "ada", email="ada@example.com", first_name="Ada", plan="pro")], stale_after=STALE
    )
    assert claimed.state == "new"
    assert claimed.customer is not None
    assert (claimed.customer.email, claimed.customer.first_name) == ("ada@example.com", "Ada")
    assert claimed.customer.traits == {"plan": "pro", "city": "London"}  # merged, not replaced
    assert claimed.customer.points == 40
    assert claimed.customer == await store.customers.snapshot("ada")


async def test_a_duplicate_or_a_repeat_writes_no_traits(store: Store) -> None:
    first = await store.events.intake([signup("e1", "bob", first_name="Bob")], stale_after=STALE)
    assert [c.state for c in first] == ["new"]
    repeat = await store.events.intake([signup("e1", "bob", first_name="Robert")], stale_after=STALE)
    assert [(c.state, c.customer) for c in repeat] == [("pending", None)]
    done = await store.events.intake(
        [signup("e1", "bob", first_name="Bobby")], stale_after=STALE, complete_first=["e1"]
    )
    assert [(c.state, c.customer) for c in done] == [("done", None)]
    customer = await store.customers.get("bob")
    assert customer is not None and customer.first_name == "Bob"


async def test_many_claims_in_one_write_each_get_their_own_answer_in_order(store: Store) -> None:
    await store.events.intake([signup("old", "cleo")], stale_after=STALE, complete_first=[])
    await store.events.intake([], stale_after=STALE, complete_first=["old"])
    answers = await store.events.intake(
        [
            signup("a", "cleo", first_name="Cleo"),
            signup("a", "cleo", first_name="Not Cleo"),  # the same event id again: pending, not written
            signup("old", "cleo", first_name="Old"),  # delivered before: a duplicate
            signup("b", "cleo", last_name="Jones", tier_hint="gold"),  # a later event of the customer
            Claim("c", "dora", "page_viewed"),  # no traits, no snapshot asked for
            Claim("d", "nobody", "page_viewed", customer=True),  # a customer the store does not know
        ],
        stale_after=STALE,
    )
    assert [c.state for c in answers] == ["new", "pending", "done", "new", "new", "new"]
    cleo = answers[3].customer
    assert cleo is not None and (cleo.first_name, cleo.last_name) == ("Cleo", "Jones")
    assert cleo.traits == {"tier_hint": "gold"}
    assert answers[0].customer == cleo  # read once the write was done
    assert answers[4].customer is None
    nobody = answers[5].customer
    assert nobody is not None and not nobody.exists and not nobody.subscribed
    assert await store.customers.get("dora") is None  # an event without traits creates no customer


async def test_a_release_in_the_same_write_lets_a_claim_of_the_event_be_new(store: Store) -> None:
    assert [c.state for c in await store.events.intake([signup("r", "eve")], stale_after=STALE)] == ["new"]
    again = await store.events.intake(
        [signup("r", "eve", first_name="Eve")], stale_after=STALE, release_first=["r"]
    )
    assert [c.state for c in again] == ["new"]
    eve = await store.customers.get("eve")
    assert eve is not None and eve.first_name == "Eve"


async def test_a_stale_claim_taken_over_writes_the_traits(store: Store) -> None:
    await store.events.intake([signup("s", "finn", first_name="Finn")], stale_after=STALE)
    (taken,) = await store.events.intake(
        [signup("s", "finn", first_name="Finnegan")], stale_after=timedelta(0)
    )
    assert taken.state == "new"
    assert taken.customer is not None and taken.customer.first_name == "Finnegan"


def test_only_a_sqlite_file_gets_a_thread_of_its_own() -> None:
    """A second connection sees the same database only on a file: elsewhere the intake runs on the
    store's own connection (PostgreSQL among the backends above)."""
    assert on_a_file(make_url("sqlite+aiosqlite:////tmp/journeys.db"))
    for url in (
        "sqlite+aiosqlite://",
        "sqlite+aiosqlite:///:memory:",
        "sqlite:///file:x?mode=memory&uri=true",
    ):
        assert not on_a_file(make_url(url))
    assert not on_a_file(make_url("postgresql+asyncpg://u@localhost/journeys"))
