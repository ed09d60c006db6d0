"""Event claims under races: a batch answered 409 or 503 leaves none of its events claimed, a
cancelled claim is given back, and a 409's Retry-After says when a retry can really succeed."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from api.app import create_app
from contracts.events import CustomerEvent
from ingest.claims import STALE_CLAIM, EventClaims
from ingest.outages import TemporalUnavailable
from ingest.router import RouteResult
from simulate.sandbox import Sandbox
from store.tables import processed_events
from tests.api.conftest import AUTH, http_client
from tests.api.support import event

STALE = timedelta(minutes=2)


async def claim_elsewhere(sandbox: Sandbox, payload: dict[str, Any]) -> None:
    """Another API replica claims ``payload``'s event id: it is delivering it (or dies doing so)."""
    rows = [(payload["event_id"], payload["customer_id"], payload["name"], None)]
    assert await sandbox.store.events.claim(rows, stale_after=STALE) == {payload["event_id"]: "new"}


async def claimed_ago(sandbox: Sandbox, payload: dict[str, Any], age: timedelta) -> None:
    """Time passes: ``payload``'s claim was taken ``age`` ago."""
    async with sandbox.store.engine.begin() as conn:
        await conn.execute(
            processed_events.update()
            .where(processed_events.c.event_id == payload["event_id"])
            .values(claimed_at=datetime.now(UTC) - age)
        )


async def pending(sandbox: Sandbox) -> set[str]:
    """The claims still pending once the completions queued so far are written (after an answer)."""
    await sandbox.router.close()  # drains the claims' queue; the router goes on routing
    async with sandbox.store.engine.connect() as conn:
        rows = await conn.execute(
            sa.select(processed_events.c.event_id).where(processed_events.c.done.is_(False))
        )
        return set(rows.scalars())


def batch_of(customers: int) -> list[dict[str, Any]]:
    return [event("page_viewed", f"c{n}", properties={"n": n}) for n in range(customers)]


async def test_a_batch_answered_409_delivers_its_other_events_and_leaves_none_claimed(
    api: httpx.AsyncClient, sandbox: Sandbox
) -> None:
    events = batch_of(12)  # more customers than the batch routes at once
    held = events[5]
    later = event("page_viewed", held["customer_id"])  # after the held one: it waits, in order
    events.insert(6, later)
    await claim_elsewhere(sandbox, held)

    busy = await api.post("/v1/events/batch", json={"events": events})

    assert busy.status_code == 409
    assert busy.headers["Retry-After"] == "1"  # a fresh claim: its delivery presumably runs
    assert held["event_id"] in busy.json()["detail"]
    assert await pending(sandbox) == {held["event_id"]}  # only the one another request holds
    others = [e for e in events if e not in (held, later)]
    for payload in others:  # sent again at once: each was delivered, nothing waits for a stale claim
        again = await api.post("/v1/events", json=payload)
        assert again.status_code == 202 and again.json()["duplicate"] is True

    await sandbox.store.events.release(held["event_id"])  # that other attempt failed after all
    resent = await api.post("/v1/events/batch", json={"events": events})
    assert resent.status_code == 202
    body = resent.json()
    assert (body["accepted"], body["duplicates"]) == (2, len(others))
    assert [r["event_id"] for r in body["results"] if not r["duplicate"]] == [
        held["event_id"],
        later["event_id"],
    ]


async def test_a_batch_answered_503_leaves_none_of_its_events_claimed(
    api: httpx.AsyncClient, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One customer's delivery fails while the others are being delivered (and are cancelled)."""
    events = batch_of(6)
    router = sandbox.router
    deliver = router._deliver  # the seam where a Temporal call fails

    async def failing(ev: CustomerEvent, result: RouteResult, *rest: Any) -> None:
        if ev.customer_id == "c0":
            await asyncio.sleep(0.05)
            raise TemporalUnavailable("Temporal went away")
        await asyncio.sleep(5)  # still delivering when c0 fails: cancelled
        await deliver(ev, result, *rest)

    monkeypatch.setattr(router, "_deliver", failing)
    down = await api.post("/v1/events/batch", json={"events": events})
    monkeypatch.undo()

    assert down.status_code == 503
    assert await pending(sandbox) == set()
    resent = await api.post("/v1/events/batch", json={"events": events})
    assert resent.status_code == 202 and resent.json()["accepted"] == len(events)


async def test_a_claim_cancelled_while_it_is_written_is_given_back(sandbox: Sandbox) -> None:
    claims = EventClaims(sandbox.store)
    ev = CustomerEvent(event_id="cancelled-claim", customer_id="c", name="page_viewed")

    waiting = asyncio.create_task(claims.claim(ev))
    await asyncio.sleep(0)  # queued: its write is under way
    waiting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiting

    for _ in range(100):  # the write finishes, then the release follows it through the queue
        if await claims.claim(ev) == "new":
            break
        await asyncio.sleep(0.01)
    else:
        raise AssertionError("the cancelled claim was never given back")


async def test_a_release_survives_the_cancellation_of_its_caller(sandbox: Sandbox) -> None:
    claims = EventClaims(sandbox.store)
    ev = CustomerEvent(event_id="released-claim", customer_id="c", name="page_viewed")
    assert await claims.claim(ev) == "new"

    releasing = asyncio.create_task(claims.release(ev.event_id))
    await asyncio.sleep(0)
    releasing.cancel()
    with pytest.raises(asyncio.CancelledError):
        await releasing

    for _ in range(100):
        if await claims.claim(ev) == "new":
            break
        await asyncio.sleep(0.01)
    else:
        raise AssertionError("the release was lost with its caller")


async def test_a_409_for_an_abandoned_claim_says_when_it_can_be_taken_over(
    api: httpx.AsyncClient, sandbox: Sandbox
) -> None:
    payload = event("page_viewed", "orphan")
    await claim_elsewhere(sandbox, payload)
    await claimed_ago(sandbox, payload, timedelta(seconds=90))  # its process died long ago

    busy = await api.post("/v1/events", json=payload)

    assert busy.status_code == 409
    wait = int(busy.headers["Retry-After"])
    assert 28 <= wait <= 30  # when it is STALE_CLAIM old and can be taken over
    await claimed_ago(sandbox, payload, STALE_CLAIM + timedelta(seconds=1))
    taken_over = await api.post("/v1/events", json=payload)
    assert taken_over.status_code == 202 and taken_over.json()["duplicate"] is False


async def test_an_event_id_repeated_within_a_batch_is_delivered_once_and_the_rest_are_duplicates(
    api: httpx.AsyncClient, sandbox: Sandbox
) -> None:
    first = event("signed_up", "rio", traits={"email": "rio@example.com"})
    batch = [first, event("page_viewed", "rio"), *([first] * 500)]

    answer = await api.post("/v1/events/batch", json={"events": batch})

    body = answer.json()
    assert answer.status_code == 202
    assert (body["accepted"], body["duplicates"]) == (2, 500)
    assert body["results"][0]["started"] == ["onboarding"]
    assert all(r["duplicate"] and r["event_id"] == first["event_id"] for r in body["results"][2:])
    async with sandbox.store.engine.connect() as conn:
        claimed = await conn.scalar(sa.select(sa.func.count()).select_from(processed_events))
    assert claimed == 2


async def test_one_event_id_for_two_customers_is_refused_naming_both_events(
    api: httpx.AsyncClient, sandbox: Sandbox
) -> None:
    first = event("page_viewed", "una")
    other = {**event("page_viewed", "vic"), "event_id": first["event_id"]}

    answer = await api.post("/v1/events/batch", json={"events": [first, event("page_viewed", "una"), other]})

    assert answer.status_code == 422, answer.text
    [problem] = answer.json()["errors"]
    assert (problem["path"], problem["type"]) == ("body.events[2].event_id", "event_id_reused")
    assert "also the id of events[0], an event of another customer" in problem["message"]
    assert await pending(sandbox) == set()  # refused before anything was claimed
    async with sandbox.store.engine.connect() as conn:
        claimed = await conn.scalar(
            sa.select(sa.func.count()).where(processed_events.c.customer_id.in_(["una", "vic"]))
        )
    assert claimed == 0


async def test_a_batch_past_its_time_budget_answers_503_and_resending_delivers_each_event_once(
    sandbox: Sandbox,
) -> None:
    # A budget far below what delivering takes: each send delivers a few events, never all.
    settings = sandbox.settings.model_copy(update={"batch_seconds": 0.001})
    application = create_app(settings, client=sandbox.client, store=sandbox.store, router=sandbox.router)
    batch = [event("signed_up", "wes", traits={"email": "wes@example.com"})]
    batch += [event("page_viewed", "wes", properties={"n": n}) for n in range(12)]
    batch += [event("page_viewed", f"xia{n}") for n in range(12)]
    answers: list[httpx.Response] = []
    async with application.router.lifespan_context(application), http_client(application, AUTH) as client:
        while not answers or answers[-1].status_code != 202:
            assert len(answers) < len(batch), "every send delivers at least one event"
            answers.append(await client.post("/v1/events/batch", json={"events": batch}))

    first = answers[0]
    assert first.status_code == 503 and first.headers["Retry-After"] == "1"
    unfinished = first.json()
    assert (
        unfinished["reason"] == "batch_time_budget" and "send the whole batch again" in unfinished["detail"]
    )
    assert unfinished["delivered"] + unfinished["left"] == len(batch) and unfinished["delivered"] >= 1
    assert {a.status_code for a in answers[:-1]} == {503}
    body = answers[-1].json()
    assert body["accepted"] + body["duplicates"] == len(batch) and body["duplicates"] > 0
    assert await pending(sandbox) == set()
    async with sandbox.store.engine.connect() as conn:
        claimed = await conn.scalar(
            sa.select(sa.func.count()).where(
                processed_events.c.event_id.in_([e["event_id"] for e in batch]), processed_events.c.done
            )
        )
    assert claimed == len(batch)


async def claimed_customers(sandbox: Sandbox, event_id: str) -> list[str]:
    async with sandbox.store.engine.connect() as conn:
        rows = await conn.execute(
            sa.select(processed_events.c.customer_id).where(processed_events.c.event_id == event_id)
        )
        return list(rows.scalars())


async def test_an_event_id_used_before_by_another_customer_is_refused_not_dropped_as_a_duplicate(
    api: httpx.AsyncClient, sandbox: Sandbox
) -> None:
    first = event("signed_up", "wen", traits={"email": "wen@example.com"})
    assert (await api.post("/v1/events", json=first)).status_code == 202
    other = {**event("signed_up", "xia", traits={"email": "xia@example.com"}), "event_id": first["event_id"]}

    answer = await api.post("/v1/events", json=other)

    assert answer.status_code == 422, answer.text
    [problem] = answer.json()["errors"]
    assert (problem["path"], problem["type"]) == ("body.event_id", "event_id_reused")
    assert "used before by another event" in problem["message"]
    assert await claimed_customers(sandbox, first["event_id"]) == ["wen"]
    assert (await api.get("/v1/customers/xia")).status_code == 404  # nothing of it was written
    repeat = await api.post("/v1/events", json=first)  # the sender's retry of the first is still a duplicate
    assert repeat.status_code == 202 and repeat.json()["duplicate"] is True


async def test_an_event_id_used_before_by_another_event_of_the_customer_is_refused(
    api: httpx.AsyncClient,
) -> None:
    first = event("page_viewed", "yan")
    assert (await api.post("/v1/events", json=first)).status_code == 202

    answer = await api.post("/v1/events", json={**first, "name": "purchase_completed"})

    assert answer.status_code == 422, answer.text
    assert answer.json()["errors"][0]["type"] == "event_id_reused"


async def test_two_requests_at_once_with_one_id_for_two_customers_deliver_one_and_refuse_the_other(
    api: httpx.AsyncClient, sandbox: Sandbox
) -> None:
    first = event("page_viewed", "zed")
    other = {**event("page_viewed", "amy"), "event_id": first["event_id"]}

    answers = await asyncio.gather(api.post("/v1/events", json=first), api.post("/v1/events", json=other))

    assert sorted(a.status_code for a in answers) == [202, 422], [a.text for a in answers]
    (winner,) = await claimed_customers(sandbox, first["event_id"])
    refused = next(a for a in answers if a.status_code == 422)
    assert refused.json()["errors"][0]["type"] == "event_id_reused"
    assert winner in {"zed", "amy"}


async def test_a_batch_with_an_id_used_before_delivers_the_others_and_a_fixed_resend_completes_it(
    api: httpx.AsyncClient, sandbox: Sandbox
) -> None:
    stored = event("page_viewed", "bea")
    assert (await api.post("/v1/events", json=stored)).status_code == 202
    batch = batch_of(3)
    reuse = {**event("page_viewed", "cal"), "event_id": stored["event_id"]}
    after = event("page_viewed", "cal")  # the same customer's next event: left, to keep its order
    batch[1:1] = [reuse, after]

    answer = await api.post("/v1/events/batch", json={"events": batch})

    assert answer.status_code == 422, answer.text
    [problem] = answer.json()["errors"]
    assert (problem["path"], problem["type"]) == ("body.events[1].event_id", "event_id_reused")
    assert await claimed_customers(sandbox, after["event_id"]) == []
    for delivered in (batch[0], *batch[3:]):
        assert await claimed_customers(sandbox, delivered["event_id"]) == [delivered["customer_id"]]
    batch[1] = {**reuse, "event_id": "cal-fixed-" + reuse["event_id"]}
    resent = await api.post("/v1/events/batch", json={"events": batch})
    assert resent.status_code == 202, resent.text
    assert (resent.json()["accepted"], resent.json()["duplicates"]) == (2, 3)
    assert await pending(sandbox) == set()
