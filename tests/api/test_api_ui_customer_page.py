"""The customer pages over HTTP: sign-in first (viewers may read); find by id, then by email
whatever its case; the page of a customer who went through onboarding (ledger, badges, runs with
the step they are at, the timeline, the email as sent in a sandboxed frame, the Temporal UI link);
a page in the UI's style for an unknown customer; hostile traits escaped; a customer with 10,000
step records shown within bounds."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from html import unescape
from typing import Any
from urllib.parse import quote, unquote

import httpx
import pytest_asyncio
from fastapi import FastAPI

from activities.loyalty import LoyaltyActivities
from api.ui import customer_timeline, customer_view
from contracts.events import CustomerEvent
from contracts.loyalty_activities import ApplyEventRequest
from contracts.records import RecordKind, StepRecord
from simulate.sandbox import Sandbox
from tests.api.conftest import EDITOR_KEY, VIEWER_KEY, deploy_example_program, http_client
from tests.api.support import at_step, event, eventually
from tests.support.ui_session import sign_in


@pytest_asyncio.fixture(loop_scope="session")
async def editor(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with http_client(app) as browser:
        await sign_in(browser, EDITOR_KEY)
        yield browser


async def signed_up(api: httpx.AsyncClient, customer_id: str, **traits: Any) -> None:
    body = event("signed_up", customer_id, traits={"email": f"{customer_id}@example.com", **traits})
    assert (await api.post("/v1/events", json=body)).status_code == 202
    await eventually(lambda: at_step(api, customer_id, "onboarding", "wait_profile"))


def attribute(html: str, selector_attribute: str, name: str) -> str:
    """The value of attribute ``name`` on the first element that has ``selector_attribute``."""
    found = re.search(rf"<[^>]*\b{selector_attribute}\b[^>]*>", html)
    assert found, f"no element with {selector_attribute}"
    value = re.search(rf'\b{name}="([^"]*)"', found.group(0))
    assert value, f"no {name} on {found.group(0)}"
    return unescape(value.group(1))


def timeline_items(html: str) -> list[str]:
    return re.findall(r'<li class="t-[a-z]+" data-item-kind="([a-z]+)">', html)


async def test_the_customer_pages_need_sign_in(anonymous: httpx.AsyncClient) -> None:
    for path in ("/ui/customers", "/ui/customers/ada", "/ui/customers/ada/messages?key=k"):
        answer = await anonymous.get(path)
        assert answer.status_code == 303, path
        assert answer.headers["location"].startswith("/ui/sign-in?next=/ui/customers")
    assert (await anonymous.get("/ui/customers/ada/messages/html?key=k")).status_code == 303


async def test_an_unknown_customer_gets_a_page_in_the_ui_style(editor: httpx.AsyncClient) -> None:
    for customer_id, shown in (("nobody", "nobody"), ("%20padded", " padded"), ("x" * 201, "x" * 201)):
        answer = await editor.get(f"/ui/customers/{customer_id}")
        assert answer.status_code == 404, customer_id
        assert answer.headers["content-type"].startswith("text/html")
        assert f"No customer with id “{shown}”." in unescape(answer.text)
        assert 'aria-current="page">Customers</a>' in answer.text  # the pages' own layout and nav
        assert 'id="find-customer"' in answer.text  # and a way to look again
        assert "script-src 'self'" in answer.headers["content-security-policy"]


async def test_find_by_id_then_by_email_whatever_its_case(
    api: httpx.AsyncClient, editor: httpx.AsyncClient
) -> None:
    await api.put("/v1/customers/gus", json={"email": "Gus@Example.com", "first_name": "Gus"})
    await api.put("/v1/customers/gus@example.com", json={"email": "someone@example.com"})
    for twin in ("tam", "tom"):
        await api.put(f"/v1/customers/{twin}", json={"email": "twins@example.com"})

    by_id = await editor.get("/ui/customers", params={"q": "gus@example.com"})
    by_email = await editor.get("/ui/customers", params={"q": "  GUS@example.COM "})
    several = await editor.get("/ui/customers", params={"q": "twins@example.com"})
    nobody = await editor.get("/ui/customers", params={"q": "nobody@example.com"})
    empty = await editor.get("/ui/customers")

    assert by_id.status_code == 303 and by_id.headers["location"] == "/ui/customers/gus%40example.com"
    assert by_email.status_code == 303 and by_email.headers["location"] == "/ui/customers/gus"
    assert several.status_code == 200
    assert '<a href="/ui/customers/tam">tam</a>' in several.text
    assert '<a href="/ui/customers/tom">tom</a>' in several.text
    assert "2 customers with the email “twins@example.com”" in unescape(several.text)
    assert nobody.status_code == 200
    assert "No customer with id or email “nobody@example.com”." in unescape(nobody.text)
    assert "data-not-found" not in empty.text and 'id="find-customer"' in empty.text


async def test_a_customer_in_onboarding_has_ledger_badges_runs_timeline_and_links(
    api: httpx.AsyncClient, editor: httpx.AsyncClient
) -> None:
    await signed_up(api, "ida", first_name="Ida", plan="pro")
    await api.post("/v1/events", json=event("profile_completed", "ida"))
    await eventually(lambda: at_step(api, "ida", "onboarding", "wait_purchase"))

    answer = await editor.get("/ui/customers/ida")

    assert answer.status_code == 200
    text = unescape(answer.text)
    assert "Ida" in text and "ida@example.com" in text and "acquisition" in text
    ledger = re.findall(r'<tr data-delta="(-?\d+)">', answer.text)
    assert ledger == ["50", "100"]  # newest first: the profile bonus, then the sign-up bonus
    assert "Profile completed" in text and "Sign-up bonus" in text
    assert re.search(r'data-kpi="points">150<', answer.text)
    assert "newcomer" in re.search(r"<ul class=\"badges\" data-badges>(.*?)</ul>", answer.text, re.S).group(1)  # type: ignore[union-attr]
    assert "pro" in re.search(r"data-traits>(.*?)</dl>", answer.text, re.S).group(1)  # type: ignore[union-attr]
    assert attribute(answer.text, "data-run-diagram", "data-here") == "wait_purchase"
    assert attribute(answer.text, "data-run-diagram", "data-here-label") == "here now"
    version = (await api.get("/v1/journeys/onboarding")).json()["version"]
    assert attribute(answer.text, "data-run-journey", "data-run-version") == version
    assert attribute(answer.text, "data-temporal", "href") == (
        "http://127.0.0.1:8233/namespaces/default/workflows/journey%2Fonboarding%2Fida"
    )
    assert attribute(answer.text, "run-link", "href") == (
        f"/ui/journeys/onboarding?version={version}&step=wait_purchase"
    )
    diagrams = re.search(r'<script type="application/json" id="diagrams-data">(.*?)</script>', answer.text)
    assert diagrams and '"wait_purchase"' in diagrams.group(1)
    kinds = timeline_items(answer.text)
    assert kinds[0] == "step" and {"journey", "step", "email", "points"} <= set(kinds)
    assert "Welcome aboard, Ida!" in text
    assert "data-timeline-more" not in answer.text  # everything fits
    panel = await editor.get("/ui/journeys/onboarding/steps/wait_purchase")
    waiting = re.search(r'<a href="(/ui/customers/ida)">ida</a>', panel.text)
    assert waiting, "the step panel links the customers waiting there"
    assert (await editor.get(waiting.group(1))).status_code == 200


async def test_an_email_opens_as_it_was_sent_in_a_sandboxed_frame(
    api: httpx.AsyncClient, editor: httpx.AsyncClient
) -> None:
    await signed_up(api, "jo", first_name="Jo")
    await signed_up(api, "kit", first_name="Kit")

    customer_page = await editor.get("/ui/customers/jo")
    link = attribute(customer_page.text, "data-message", "href")
    message = await editor.get(link)
    key = link.split("key=", 1)[1]
    framed = await editor.get(f"/ui/customers/jo/messages/html?key={key}")
    elsewhere = await editor.get(f"/ui/customers/kit/messages?key={key}")
    framed_elsewhere = await editor.get(f"/ui/customers/kit/messages/html?key={key}")
    unknown = await editor.get("/ui/customers/jo/messages?key=nope")

    assert message.status_code == 200
    assert "Welcome aboard, Jo!" in unescape(message.text)
    assert attribute(message.text, "message-frame", "sandbox") == ""
    src = attribute(message.text, "message-frame", "src")
    assert unquote(src) == f"/ui/customers/jo/messages/html?key={unquote(key)}"
    assert "Jo" in re.search(r"data-message-text>(.*?)</pre>", message.text, re.S).group(1)  # type: ignore[union-attr]
    assert framed.status_code == 200 and "Jo" in framed.text
    policy = framed.headers["content-security-policy"]
    assert "sandbox" in policy and "default-src 'none'" in policy and "script-src" not in policy
    assert elsewhere.status_code == framed_elsewhere.status_code == unknown.status_code == 404
    assert "Welcome aboard" not in framed_elsewhere.text


async def test_viewers_may_read_a_customer(app: FastAPI, api: httpx.AsyncClient) -> None:
    await api.put("/v1/customers/lu", json={"email": "lu@example.com"})
    async with http_client(app) as viewer:
        await sign_in(viewer, VIEWER_KEY)
        answer = await viewer.get("/ui/customers/lu")

    assert answer.status_code == 200
    assert "has not entered any journey yet" in answer.text
    assert "No points yet." in answer.text and "No badges yet." in answer.text
    # No name: the page is headed by the id, which is then not repeated under it; the name is "not given".
    ids = re.search(r'<p class="lead customer-ids">(.*?)</p>', answer.text, re.S)
    assert ids is not None and ids.group(1).strip() == "lu@example.com"
    assert re.search(r'<dt>Name</dt><dd class="muted">not given</dd>', answer.text)


async def test_hostile_traits_and_ids_are_text_not_markup(
    api: httpx.AsyncClient, editor: httpx.AsyncClient
) -> None:
    hostile = '<script>alert("x")</script>'
    customer_id = '<i onclick="x">&?a=1#'
    traits = {"first_name": hostile, "bio": '"><img src=x onerror=alert(1)>', "nested": {"k": "</script>"}}
    put = await api.put(f"/v1/customers/{quote(customer_id, safe='')}", json=traits)
    assert put.status_code == 200, put.text

    found = await editor.get("/ui/customers", params={"q": customer_id})
    answer = await editor.get(found.headers["location"])

    assert found.headers["location"] == "/ui/customers/%3Ci%20onclick%3D%22x%22%3E%26%3Fa%3D1%23"
    assert answer.status_code == 200
    assert "<script" not in answer.text  # no journeys: the page has no script at all, and none injected
    assert "<img src=x" not in answer.text and "<i onclick" not in answer.text
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in answer.text
    assert "&#34;&gt;&lt;img src=x onerror=alert(1)&gt;" in answer.text
    assert "&lt;i onclick=&#34;x&#34;&gt;&amp;?a=1#" in answer.text
    assert "&lt;/script&gt;" in answer.text


async def test_a_customer_with_10000_step_records_is_shown_within_bounds(
    sandbox: Sandbox, api: httpx.AsyncClient, editor: httpx.AsyncClient
) -> None:
    await api.put("/v1/customers/max", json={"email": "max@example.com"})
    version = (await api.get("/v1/journeys/onboarding")).json()["version"]
    start = datetime(2026, 1, 1, tzinfo=UTC)
    records = []
    for entry in range(2_000):  # five records an entry: entered, two steps, left
        at = start + timedelta(minutes=entry)
        base = {"journey": "onboarding", "version": version, "workflow_id": "journey/onboarding/max"}
        parts: list[tuple[str | None, RecordKind, str]] = [
            (None, "journey_entered", "signed_up"),
            ("joined", "entered", "set_stage"),
            ("joined", "completed", "welcome"),
            ("welcome", "entered", "send_email"),
            ("welcome", "journey_exited", "exited: bench"),
        ]
        records += [
            StepRecord(**base, customer_id="max", step=step, kind=kind, detail=detail, at=at)
            for step, kind, detail in parts
        ]
    await sandbox.store.steps.record(records)
    for n in range(40):
        await sandbox.store.points.award(
            f"max-{n}", "max", n + 1, f"award {n}", at=start + timedelta(hours=n)
        )

    first = await editor.get("/ui/customers/max")
    older = attribute(first.text, "data-ledger-older", "href")
    second = await editor.get(older)

    assert first.status_code == 200
    assert len(timeline_items(first.text)) == customer_timeline.LIMIT
    more = 10_000 + 40 - customer_timeline.LIMIT
    assert f"{more:,} older items are not shown" in first.text
    assert len(re.findall(r'class="run-card', first.text)) == customer_view.RUNS_SHOWN
    assert "entered onboarding 2,000 times; the newest 3 are shown" in first.text
    assert attribute(first.text, "data-run-diagram", "data-here") == "welcome"
    assert attribute(first.text, "data-run-diagram", "data-here-label") == "left here"
    page_one = re.findall(r'<tr data-delta="(-?\d+)">', first.text)
    page_two = re.findall(r'<tr data-delta="(-?\d+)">', second.text)
    size = customer_view.LEDGER_PAGE
    assert page_one == [str(40 - n) for n in range(size)]  # newest first, one page
    assert page_two == [str(40 - size - n) for n in range(size)]
    assert "data-ledger-newest" in second.text


async def test_without_a_loyalty_program_the_loyalty_box_says_so(
    sandbox: Sandbox, api: httpx.AsyncClient, editor: httpx.AsyncClient
) -> None:
    await api.put("/v1/customers/noa", json={"email": "noa@example.com"})

    before = await editor.get("/ui/customers/noa")
    await deploy_example_program(sandbox)
    after = await editor.get("/ui/customers/noa")

    assert before.status_code == 200 == after.status_code
    assert "data-no-program" in before.text and "data-wallet=" not in before.text
    assert "No loyalty program is deployed" in before.text
    assert "data-no-program" not in after.text
    assert re.search(r'data-wallet="available">0<', after.text)
    assert "100 more points to reach bronze" in after.text


async def test_a_ledger_cursor_out_of_bounds_is_a_422_not_an_error(editor: httpx.AsyncClient) -> None:
    for cursor in ("0", str(2**63), "x"):
        answer = await editor.get("/ui/customers/anyone", params={"ledger_before": cursor})
        assert answer.status_code == 422, cursor


async def test_a_ledger_entry_names_its_rule_and_the_campaign_of_the_day_it_was_earned(
    sandbox: Sandbox, api: httpx.AsyncClient, editor: httpx.AsyncClient
) -> None:
    """A purchase on Black Friday (2026-11-27 to 30: purchase points x2) becomes available 14 days
    later, outside the campaign; its entry still names the campaign of the day it was earned."""
    await deploy_example_program(sandbox)
    await api.put("/v1/customers/bf", json={"email": "bf@example.com"})
    loyalty = LoyaltyActivities(sandbox.store, sandbox.router)
    earned = datetime(2026, 11, 28, 10, tzinfo=UTC)
    purchase = CustomerEvent(
        event_id="bf-order", customer_id="bf", name="purchase_completed", properties={"total": 1_000_000}
    )
    await loyalty.apply_event(ApplyEventRequest(customer_id="bf", event=purchase, at=earned))
    await loyalty.settle_at("bf", earned + timedelta(days=15))

    text = unescape((await editor.get("/ui/customers/bf")).text)

    [row] = re.findall(r'<tr data-delta="200" data-rule="purchase">(.*?)</tr>', text, re.S)
    assert "rule purchase · campaign black_friday \u00d72" in row  # 100 points, doubled
