"""Unsubscribe links: a confirmation page, RFC 8058 one-click, and forged tokens refused."""

from __future__ import annotations

import httpx
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter

from activities.unsubscribe_tokens import make_token
from api.app import create_app
from ingest.router import EventRouter
from simulate.sandbox import Sandbox, free_port
from tests.api.support import at_step, event, eventually


async def test_the_link_in_the_welcome_email_unsubscribes_and_ends_the_journey(
    api: httpx.AsyncClient, anonymous: httpx.AsyncClient, sandbox: Sandbox
) -> None:
    await api.post("/v1/events", json=event("signed_up", "pia", traits={"email": "pia@example.com"}))
    await eventually(lambda: at_step(api, "pia", "onboarding", "wait_profile"))
    [welcome] = sandbox.outbox.messages()
    link = welcome.header("List-Unsubscribe")
    assert link is not None
    path = link.split("<https://journeys.test", 1)[1].split(">", 1)[0]

    page = await anonymous.get(path)
    still = (await api.get("/v1/customers/pia")).json()
    one_click = await anonymous.post(path, data={"List-Unsubscribe": "One-Click"})

    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    assert '<form method="post"' in page.text
    assert still["subscribed"] is True  # showing the page changes nothing
    assert one_click.status_code == 200
    assert "unsubscribed" in one_click.text
    result = await sandbox.result("onboarding", "pia")
    assert (result.outcome, result.reason) == ("exited", "unsubscribed received")
    assert (await api.get("/v1/customers/pia")).json()["subscribed"] is False


async def test_a_forged_or_malformed_token_is_refused(
    api: httpx.AsyncClient, anonymous: httpx.AsyncClient, sandbox: Sandbox
) -> None:
    await api.put("/v1/customers/quin", json={"email": "quin@example.com"})
    forged = make_token("quin", "somebody-elses-secret-0123456789")
    genuine = make_token("quin", sandbox.settings.unsubscribe_secret)
    tampered = genuine[:-2] + ("AA" if not genuine.endswith("AA") else "BB")

    for token in (forged, tampered, "not-a-token", "a.b"):
        assert (await anonymous.get(f"/unsubscribe/{token}")).status_code == 400
        assert (await anonymous.post(f"/unsubscribe/{token}")).status_code == 400
    assert (await api.get("/v1/customers/quin")).json()["subscribed"] is True


async def test_one_click_during_a_temporal_outage_still_withdraws_consent(
    api: httpx.AsyncClient, sandbox: Sandbox
) -> None:
    await api.put("/v1/customers/rae", json={"email": "rae@example.com"})
    unreachable = await Client.connect(
        f"127.0.0.1:{free_port()}", lazy=True, data_converter=pydantic_data_converter
    )
    router = EventRouter(unreachable, sandbox.store, sandbox.settings.task_queue)
    down = create_app(sandbox.settings, client=unreachable, store=sandbox.store, router=router)
    token = make_token("rae", sandbox.settings.unsubscribe_secret)

    async with down.router.lifespan_context(down):
        transport = httpx.ASGITransport(app=down)
        async with httpx.AsyncClient(transport=transport, base_url="http://api.test") as client:
            answer = await client.post(f"/unsubscribe/{token}")

    assert answer.status_code == 503 and int(answer.headers["Retry-After"]) > 0
    assert "We stopped your marketing email" in answer.text
    customer = await sandbox.store.customers.get("rae")
    assert customer is not None and customer.subscribed is False
