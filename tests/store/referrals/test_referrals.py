"""Referrals: codes, linking with every guard recorded, the referrer rewarded once, the cap."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import sqlalchemy as sa

from store import Store, referrals
from store.loyalty_outcome import Outcome
from store.loyalty_tables import referral_attempts
from store.loyalty_tables import referrals as referrals_table
from tests.store.referrals.programs import (
    T0,
    balance_and_lots,
    event,
    in_tx,
    ledger_keys,
    program,
    seen_event,
)

PROGRAM = program()


async def code_of(store: Store, customer_id: str) -> str:
    return await in_tx(store, lambda conn: referrals.code_for(conn, customer_id, T0))


async def apply(
    store: Store, customer_id: str, name: str, event_id: str, at: Any = T0, **properties: Any
) -> Outcome:
    happened = event(event_id, customer_id, name, at, **properties)
    return await in_tx(store, lambda conn: referrals.on_event(conn, PROGRAM, customer_id, happened, at))


async def attempts(store: Store) -> list[tuple[str, str, str | None]]:
    async with store.engine.connect() as conn:
        rows = await conn.execute(
            sa.select(
                referral_attempts.c.referee_id, referral_attempts.c.outcome, referral_attempts.c.reason
            ).order_by(referral_attempts.c.id)
        )
        return [(str(row.referee_id), str(row.outcome), row.reason) for row in rows]


async def test_a_code_is_made_once_short_unambiguous_and_read_case_blind(store: Store) -> None:
    first = await code_of(store, "ada")
    assert first == await code_of(store, "ada")
    assert len(first) == referrals.CODE_LENGTH and set(first) <= set(referrals.ALPHABET)
    assert not set(first) & set("01OI")
    assert len(referrals.ALPHABET) ** referrals.CODE_LENGTH >= 2**40
    codes = {await code_of(store, f"c{n}") for n in range(50)}
    assert len(codes) == 50
    spaced = f"{first[:4].lower()}-{first[4:]} "
    assert referrals.normalise_code(spaced) == first
    outcome = await apply(store, "bob", "signed_up", "s1", referral_code=spaced)
    assert outcome.events == []
    assert await attempts(store) == [("bob", "linked", None)]


async def test_the_referrer_is_rewarded_once_on_the_first_qualifying_purchase(store: Store) -> None:
    code = await code_of(store, "ada")
    await apply(store, "bob", "signed_up", "s1", referral_code=code)
    small = await apply(store, "bob", "purchase_completed", "p0", T0 + timedelta(hours=1), total=10)
    assert small.events == []  # does not meet where: not qualifying, the next one may
    first = await apply(store, "bob", "purchase_completed", "p1", T0 + timedelta(hours=2), total=5000)
    again = await apply(store, "bob", "purchase_completed", "p1", T0 + timedelta(hours=2), total=5000)
    later = await apply(store, "bob", "purchase_completed", "p2", T0 + timedelta(hours=3), total=5000)
    assert [(e.name, e.customer_id, e.properties) for e in first.events] == [
        ("referral_qualified", "ada", {"referee": "bob", "referrer": "ada"}),
        (
            "points_earned",
            "ada",
            {
                "points": 500,
                "rule": "referral_referrer",
                "available_at": (T0 + timedelta(hours=2)).isoformat(),
                "pending": False,
            },
        ),
        (
            "points_earned",
            "bob",
            {
                "points": 200,
                "rule": "referral_referee",
                "available_at": (T0 + timedelta(hours=2)).isoformat(),
                "pending": False,
            },
        ),
    ]
    assert first.events[0].event_id == "loyalty/referral_qualified/bob"
    assert again.events == [] and later.events == []
    assert await ledger_keys(store, "ada") == ["referral/bob/referrer"]
    assert await ledger_keys(store, "bob") == ["referral/bob/referee"]
    assert await balance_and_lots(store, "ada") == (500, 500)
    assert await balance_and_lots(store, "bob") == (200, 200)
    customer = await store.customers.get("ada")
    assert customer is not None and customer.badges == ["ambassador"]
    view = await in_tx(store, lambda conn: referrals.referrals_view(conn, "ada"))
    assert [(r.customer_id, r.status) for r in view.referees] == [("bob", "qualified")]
    assert view.code == code and view.refused == []


async def test_a_repeated_signup_changes_nothing_and_says_the_same(store: Store) -> None:
    code = await code_of(store, "ada")
    refused = [await apply(store, "ada", "signed_up", "s1", referral_code=code) for _ in range(2)]
    assert refused[0].events == refused[1].events
    assert [e.properties["reason"] for e in refused[0].events] == ["self_referral"]
    await apply(store, "bob", "signed_up", "s2", referral_code=code)
    await apply(store, "bob", "signed_up", "s2", referral_code=code)
    assert await attempts(store) == [("ada", "refused", "self_referral"), ("bob", "linked", None)]


async def test_unknown_code_and_self_referral_are_refused_and_recorded(store: Store) -> None:
    code = await code_of(store, "ada")
    unknown = await apply(store, "bob", "signed_up", "s1", referral_code="ZZZZZZZZZ")
    selfish = await apply(store, "ada", "signed_up", "s2", referral_code=code)
    nonsense = await apply(store, "cy", "signed_up", "s3", referral_code=["not", "a", "code"])
    assert [(e.name, e.customer_id, e.properties["reason"]) for e in unknown.events + selfish.events] == [
        ("referral_refused", "bob", "unknown_code"),
        ("referral_refused", "ada", "self_referral"),
    ]
    assert nonsense.events[0].properties["reason"] == "unknown_code"
    assert await attempts(store) == [
        ("bob", "refused", "unknown_code"),
        ("ada", "refused", "self_referral"),
        ("cy", "refused", "unknown_code"),
    ]
    # Refused referees are not linked: their purchases reward nobody.
    await apply(store, "bob", "purchase_completed", "p1", total=5000)
    assert await ledger_keys(store, "ada") == []


async def test_an_existing_customer_is_refused(store: Store) -> None:
    code = await code_of(store, "ada")
    await seen_event(store, "bob", "earlier", T0 - timedelta(days=3))
    await seen_event(store, "cy", "after", T0 + timedelta(seconds=1))  # after the sign-up: still new
    await store.points.award("journey-award", "dee", 10, "Welcome", at=T0 - timedelta(days=1))
    await store.customers.upsert("eve", {"email": "eve@example.com"})  # identified only: still new
    outcomes = {
        who: await apply(store, who, "signed_up", f"s-{who}", referral_code=code)
        for who in ("bob", "cy", "dee", "eve")
    }
    assert {who: [e.properties["reason"] for e in o.events] for who, o in outcomes.items()} == {
        "bob": ["existing_customer"],
        "cy": [],
        "dee": ["existing_customer"],
        "eve": [],
    }
    # A second sign-up of a linked referee (another event id, same time) is refused too.
    again = await apply(store, "cy", "signed_up", "s-cy-2", referral_code=code)
    assert [e.properties["reason"] for e in again.events] == ["existing_customer"]
    async with store.engine.connect() as conn:
        linked = await conn.scalar(
            sa.select(referrals_table.c.referrer_id).where(referrals_table.c.referee_id == "cy")
        )
    assert linked == "ada"


async def test_same_email_phone_or_device_as_the_referrer_is_refused(store: Store) -> None:
    await store.customers.upsert(
        "ada", {"email": "Ada@Example.com", "phone": "+44 20 7946 0000", "device_hash": "dev-1"}
    )
    code = await code_of(store, "ada")
    await store.customers.upsert("bob", {"email": "  ada@example.COM "})
    await store.customers.upsert("cy", {"email": "cy@example.com", "phone": "0044 (20) 7946-0000"})
    await store.customers.upsert("dee", {"email": "dee@example.com", "device_hash": "dev-1"})
    await store.customers.upsert("eve", {"email": "eve@example.com", "phone": "+1 555 0100"})
    reasons = {}
    for who in ("bob", "cy", "dee", "eve", "fay"):
        extra = {"device_hash": "dev-1"} if who == "fay" else {}
        outcome = await apply(store, who, "signed_up", f"s-{who}", referral_code=code, **extra)
        reasons[who] = [e.properties["reason"] for e in outcome.events]
    assert reasons == {
        "bob": ["same_email"],
        "cy": ["same_phone"],
        "dee": ["same_device"],  # the trait
        "eve": [],
        "fay": ["same_device"],  # the sign-up event's property
    }
    view = await in_tx(store, lambda conn: referrals.referrals_view(conn, "ada"))
    assert sorted((a.referee_id, a.reason) for a in view.refused) == [
        ("bob", "same_email"),
        ("cy", "same_phone"),
        ("dee", "same_device"),
        ("fay", "same_device"),
    ]
    assert [r.customer_id for r in view.referees] == ["eve"]


async def test_phone_and_email_normalisation() -> None:
    assert referrals.normalise_email("  A.B+x@Gmail.COM ") == "a.b+x@gmail.com"
    assert referrals.normalise_phone("+44 20 7946 0000") == referrals.normalise_phone("0044-20-7946-0000")
    assert referrals.normalise_phone("+44 20 7946 0000") == "442079460000"
    assert referrals.normalise_phone("12-3") is None
    assert referrals.normalise_phone(None) is None


async def test_the_cap_per_referrer_per_period(store: Store) -> None:
    code = await code_of(store, "ada")
    outcomes = []
    for n, who in enumerate(("r1", "r2", "r3")):
        await apply(store, who, "signed_up", f"s-{who}", referral_code=code)
        at = T0 + timedelta(days=n)
        outcomes.append(await apply(store, who, "purchase_completed", f"p-{who}", at, total=5000))
    assert [[e.name for e in o.events if e.name != "points_earned"] for o in outcomes] == [
        ["referral_qualified"],
        ["referral_qualified"],
        ["referral_refused"],
    ]
    assert outcomes[2].events[0].properties == {"reason": "cap", "code": code, "referrer": "ada"}
    assert await balance_and_lots(store, "ada") == (1000, 1000)
    assert await balance_and_lots(store, "r3") == (0, 0)  # no referee reward either
    # Refused for good: a later purchase of r3 changes nothing.
    later = await apply(store, "r3", "purchase_completed", "p-r3-2", T0 + timedelta(days=40), total=5000)
    assert later.events == []
    # Past the period, another referee counts again.
    await apply(store, "r4", "signed_up", "s-r4", T0 + timedelta(days=31), referral_code=code)
    fourth = await apply(store, "r4", "purchase_completed", "p-r4", T0 + timedelta(days=31), total=5000)
    assert [e.name for e in fourth.events] == ["referral_qualified", "points_earned", "points_earned"]
    view = await in_tx(store, lambda conn: referrals.referrals_view(conn, "ada"))
    assert {(r.customer_id, r.status, r.reason) for r in view.referees} == {
        ("r1", "qualified", None),
        ("r2", "qualified", None),
        ("r3", "refused", "cap"),
        ("r4", "qualified", None),
    }
    assert [(a.referee_id, a.reason) for a in view.refused] == [("r3", "cap")]


async def test_two_qualifying_events_at_once_reward_once(store: Store) -> None:
    code = await code_of(store, "ada")
    await apply(store, "bob", "signed_up", "s1", referral_code=code)
    results = await asyncio.gather(
        *(apply(store, "bob", "purchase_completed", f"p{n}", total=5000) for n in range(4))
    )
    assert sum(e.name == "referral_qualified" for outcome in results for e in outcome.events) == 1
    assert await ledger_keys(store, "ada") == ["referral/bob/referrer"]
    assert await balance_and_lots(store, "ada") == (500, 500)


async def test_the_cap_holds_when_referees_qualify_at_once(store: Store) -> None:
    code = await code_of(store, "ada")
    for n in range(4):
        await apply(store, f"r{n}", "signed_up", f"s{n}", referral_code=code)
    await asyncio.gather(
        *(apply(store, f"r{n}", "purchase_completed", f"p{n}", total=5000) for n in range(4))
    )
    view = await in_tx(store, lambda conn: referrals.referrals_view(conn, "ada"))
    assert sorted(r.status for r in view.referees) == ["qualified", "qualified", "refused", "refused"]
    assert await balance_and_lots(store, "ada") == (1000, 1000)


async def test_no_referral_section_means_nothing_happens(store: Store) -> None:
    bare = program("program: bare\ntiers:\n  levels:\n    - {name: member, threshold: 0}\n")
    happened = event("s1", "bob", "signed_up", referral_code="X")
    outcome = await in_tx(store, lambda conn: referrals.on_event(conn, bare, "bob", happened, T0))
    settled = await in_tx(store, lambda conn: referrals.settle(conn, bare, "bob", T0))
    assert outcome == Outcome() and settled == Outcome()
    assert (await apply(store, "bob", "signed_up", "s2")).events == []  # no code: no attempt
    assert await attempts(store) == []
