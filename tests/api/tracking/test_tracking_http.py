"""Opens and clicks of a received email are counted for its message, step and split variant; a link
redirects only to the URL the email had; forged, foreign and unknown links are refused with no
redirect; a journey with ``tracking: false`` mails its links as written and no pixel."""

from __future__ import annotations

import re

import sqlalchemy as sa

from activities.tracking_tokens import click_token, message_ref, open_token
from store import counters
from store.engagement import events_of, message_engagement, step_counts, variant_detail
from store.engagement_tables import tracked_messages
from tests.api.tracking.conftest import SECRET, Tracked
from workflows.timing import pick_variant

SALE = "https://shop.example/sale?c={}&u=1"
HELP = "https://shop.example/help"


async def mail(tracked: Tracked, journey: str, customer_id: str) -> tuple[str, str]:
    """Run ``journey`` for a new customer and answer the HTML and text of the email they got."""
    event = f"{journey}_requested"
    traits = {"email": f"{customer_id}@example.com", "first_name": customer_id.title()}
    await tracked.sandbox.event(event, customer_id, traits=traits)
    await tracked.sandbox.result(journey, customer_id)
    [received] = tracked.email_to(f"{customer_id}@example.com")
    assert received.html is not None and received.text is not None
    return received.html, received.text


def hrefs(html: str) -> list[str]:
    return re.findall(r'<a href="([^"]+)"', html)


def pixel_of(html: str) -> str:
    [src] = re.findall(r'<img src="([^"]+)" width="1" height="1"', html)
    return str(src)


async def message_of(tracked: Tracked, customer_id: str) -> str:
    t = tracked_messages.c
    async with tracked.sandbox.store.engine.connect() as conn:
        key = await conn.scalar(sa.select(t.key).where(t.customer_id == customer_id))
    assert key is not None
    return message_ref(str(key))


async def test_an_open_and_a_click_are_counted_for_the_message_step_and_variant(tracked: Tracked) -> None:
    html, text = await mail(tracked, "promo", "ann")
    variant = "ab"[pick_variant("promo", "pick", "ann", [50, 50], 0)]
    step = f"mail_{variant}"
    sale, help_link, unsubscribe = hrefs(html)
    assert sale.startswith(f"{tracked.base_url}/t/c/") and help_link.startswith(f"{tracked.base_url}/t/c/")
    assert unsubscribe.startswith(f"{tracked.base_url}/unsubscribe/")  # never rewritten
    assert "shop.example" not in html and "shop.example" not in text
    assert sale in text  # one link, one number, in both parts

    opened = await tracked.http.get(pixel_of(html))
    clicked = await tracked.http.get(sale)
    again = await tracked.http.get(sale)

    assert opened.status_code == 200 and opened.headers["content-type"] == "image/gif"
    assert opened.content.startswith(b"GIF89a") and "no-store" in opened.headers["cache-control"]
    assert clicked.status_code == 302 and clicked.headers["location"] == SALE.format("ann")
    assert again.headers["location"] == SALE.format("ann")
    message = await message_of(tracked, "ann")
    found = await message_engagement(tracked.sandbox.store.engine, message)
    assert found is not None
    assert (found.journey, found.step, found.variants) == ("promo", step, {"pick": variant})
    assert (found.opens, found.clicks) == (1, 2)
    assert found.first_opened_at is not None and found.first_clicked_at is not None
    kept = await events_of(tracked.sandbox.store.engine, message)
    assert [(kind, link) for kind, link, _ in kept] == [("open", None), ("click", 0), ("click", 0)]
    async with tracked.sandbox.store.engine.connect() as conn:
        counts = await step_counts(conn, "promo", found.version)
    once = {counters.OPENED: 1, counters.CLICKED: 1}  # messages opened and clicked, not clicks
    assert counts == {(step, ""): once, (step, variant_detail("pick", variant)): once}


async def test_a_click_without_the_pixel_counts_as_an_open_too(tracked: Tracked) -> None:
    html, _ = await mail(tracked, "promo", "ben")
    assert (await tracked.http.get(hrefs(html)[1])).headers["location"] == HELP
    found = await message_engagement(tracked.sandbox.store.engine, await message_of(tracked, "ben"))
    assert found is not None and (found.opens, found.clicks) == (0, 1)
    assert found.first_opened_at == found.first_clicked_at


async def test_tampered_foreign_and_unknown_links_are_refused_without_a_redirect(tracked: Tracked) -> None:
    cal_html, _ = await mail(tracked, "promo", "cal")
    dot_html, _ = await mail(tracked, "promo", "dot")
    cal, dot = await message_of(tracked, "cal"), await message_of(tracked, "dot")
    cal_sale = hrefs(cal_html)[0]
    token = cal_sale.rsplit("/", 1)[1]
    payload, signature = token.split(".")
    dot_payload = hrefs(dot_html)[0].rsplit("/", 1)[1].split(".")[0]
    tampered = f"{payload}.{signature[:-1]}{'A' if signature[-1] != 'A' else 'B'}"
    refused = {
        "tampered": f"/t/c/{tampered}",
        "another message's link 0 with this signature": f"/t/c/{dot_payload}.{signature}",
        "a link the message does not have": f"/t/c/{click_token(cal, 7, SECRET)}",
        "a message never sent": f"/t/c/{click_token(message_ref('promo/nobody/x/mail_a/1'), 0, SECRET)}",
        "signed with another secret": f"/t/c/{click_token(cal, 0, 'another-secret-0123456789')}",
        "an open token": f"/t/c/{open_token(cal, SECRET)}",
        "too long": f"/t/c/{token}{'A' * 200}",
        "not a token": "/t/c/not-a-token",
        "a forged pixel": f"/t/o/{open_token(dot, 'another-secret-0123456789')}",
        "a pixel of a message never sent": f"/t/o/{open_token(message_ref('nobody'), SECRET)}",
    }
    for why, path in refused.items():
        answer = await tracked.http.get(path)
        assert answer.status_code == 404, why
        assert "location" not in answer.headers and "not valid" in answer.text, why
    # A URL in the request is not where a click goes: the target is the one the email had.
    smuggled = await tracked.http.get(cal_sale, params={"url": "https://evil.example/"})
    assert smuggled.status_code == 302 and smuggled.headers["location"] == SALE.format("cal")
    for message, clicks in ((cal, 1), (dot, 0)):
        found = await message_engagement(tracked.sandbox.store.engine, message)
        assert found is not None and (found.opens, found.clicks) == (0, clicks)


async def test_a_journey_with_tracking_off_mails_its_links_as_written_and_no_pixel(tracked: Tracked) -> None:
    html, text = await mail(tracked, "receipt", "eve")
    assert hrefs(html)[:2] == ["https://shop.example/sale?c=eve&amp;u=1", HELP]
    assert "/t/c/" not in html + text and "/t/o/" not in html and "<img" not in html
    assert SALE.format("eve") in text
    async with tracked.sandbox.store.engine.connect() as conn:
        rows = await conn.scalar(
            sa.select(sa.func.count())
            .select_from(tracked_messages)
            .where(tracked_messages.c.customer_id == "eve")
        )
    assert rows == 0


async def test_erasing_the_customer_removes_the_links_and_keeps_the_counts(tracked: Tracked) -> None:
    html, _ = await mail(tracked, "promo", "gus")
    message = await message_of(tracked, "gus")
    assert (await tracked.http.get(hrefs(html)[0])).status_code == 302

    assert (await tracked.http.delete("/v1/customers/gus")).status_code == 200
    after = await tracked.http.get(hrefs(html)[0])

    assert after.status_code == 404 and "location" not in after.headers  # the URLs went with the customer
    found = await message_engagement(tracked.sandbox.store.engine, message)
    assert found is not None and (found.opens, found.clicks) == (0, 1)
