"""The results panel of the journey page in the browser: twelve customers through an A/B-tested
offer (a split with a 20% control group, an email per variant), some opening, clicking and buying;
the panel shows per step and variant what the test knows happened, and per split each arm's
customers and conversions with the interval, uplift and verdict the API computes. Screenshot at
1280x800."""

from __future__ import annotations

import re
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, expect

from engine.loader import compile_file
from simulate.sandbox import Sandbox
from tests.ui.live_server import LiveServer, live_server
from tests.ui.reading import scroll_to, until
from tests.ui.test_ui_accessibility import serious
from workflows.timing import pick_variant

JOURNEY = "spring_offer"
SPRING_OFFER = """
    journey: spring_offer
    description: Which first-order incentive sells more, against a control group with no offer.
    stage: conversion
    trigger: {event: offer_requested}
    entry: once
    goal: {event: purchase_completed, within: 7d}
    steps:
      - id: pick
        split:
          variants:
            - {name: discount, weight: 50, next: mail_discount}
            - {name: free_shipping, weight: 50, next: mail_shipping}
          control: 20
      - {id: mail_discount, send: {email: spring_discount}, next: wait_buy}
      - {id: mail_shipping, send: {email: spring_shipping}}
      - id: wait_buy
        wait_for: {event: purchase_completed, timeout: 7d}
      - {id: done, exit: offer over}
    """
# Each email with a link to the shop, so a click can be counted.
TEMPLATES = {
    name: {
        "subject.txt": f"{offer}, {{{{ customer.first_name }}}}",
        "body.html": (
            '{% extends "_layout.html" %}{% block content %}'
            f'<p>{offer}: <a href="https://shop.example/spring">the spring range</a>.</p>{{% endblock %}}'
        ),
        "body.txt": f"{offer}: https://shop.example/spring\n",
    }
    for name, offer in (("spring_discount", "10% off"), ("spring_shipping", "Free shipping"))
}
CUSTOMERS = [f"s{n:02d}" for n in range(12)]
ARMS = ("discount", "free_shipping")
MAIL_STEP = {"discount": "mail_discount", "free_shipping": "mail_shipping"}


def arm_of(customer_id: str) -> str:
    index = pick_variant(JOURNEY, "pick", customer_id, [50, 50], 20)
    return "control" if index < 0 else ARMS[index]


def number(customer_id: str) -> int:
    return int(customer_id[1:])


def opens(customer_id: str) -> bool:
    return number(customer_id) % 2 == 0


def clicks(customer_id: str) -> bool:
    return number(customer_id) % 4 == 0


def buys(customer_id: str) -> bool:
    return number(customer_id) % 3 == 0


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with live_server(tmp_path_factory.mktemp("ui-results"), own_journeys=True) as running:
        for name, parts in TEMPLATES.items():
            folder = running.journeys_dir / "templates" / name
            folder.mkdir()
            for part, text in parts.items():
                (folder / part).write_text(text, "utf-8")
        file = running.journeys_dir / f"{JOURNEY}.yaml"
        file.write_text(textwrap.dedent(SPRING_OFFER).lstrip("\n"), "utf-8")

        async def deploy(sandbox: Sandbox) -> None:
            await sandbox.store.deployments.deploy(compile_file(file), source=file.read_text("utf-8"))
            await sandbox.router.reload()

        running.call(deploy)
        yield running


def results(server: LiveServer) -> dict[str, Any]:
    answer = server.api.get(f"/v1/journeys/{JOURNEY}/results")
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


def step_of(body: dict[str, Any], step: str) -> dict[str, Any]:
    found: list[dict[str, Any]] = [s for s in body["steps"] if s["step"] == step]
    [one] = found
    return one


def tracking_path(html: str, kind: str) -> str:
    found = re.search(rf'"https?://[^"/]+(/t/{kind}/[^"]+)"', html)
    assert found, f"no /t/{kind}/ link in the email"
    return found.group(1)


@pytest.fixture(scope="module")
def story(server: LiveServer) -> dict[str, Any]:
    """Every customer offered, emails opened and clicked, purchases made; the API's answer after."""
    mailed = [c for c in CUSTOMERS if arm_of(c) != "control"]
    for c in CUSTOMERS:
        server.event("offer_requested", c, traits={"email": f"{c}@example.com", "first_name": c.upper()})
    until(lambda: results(server)["totals"]["delivered"] == len(mailed), what="every offer delivered")
    with httpx.Client(base_url=server.url) as mail_client:
        for message in server.outbox.messages():
            [address] = message.recipients
            customer_id = address.split("@")[0]
            assert message.html is not None
            if opens(customer_id):
                assert mail_client.get(tracking_path(message.html, "o")).status_code == 200
            if clicks(customer_id):
                assert mail_client.get(tracking_path(message.html, "c")).status_code == 302
    until(
        lambda: step_of(results(server), "wait_buy")["entered"] == len(mailed),
        what="every offered customer waiting to buy",
    )
    buyers = [c for c in CUSTOMERS if buys(c)]
    for c in buyers:
        server.event("purchase_completed", c, properties={"revenue": 20 + number(c)})
    mailed_buyers = [c for c in buyers if c in mailed]
    until(
        lambda: results(server)["totals"]["converted"] == len(mailed_buyers),
        what="the purchases of offered customers counted as conversions",
    )
    return results(server)


PANEL_ROWS = """() => Object.fromEntries(
  [...document.querySelectorAll('[data-table=results] tr[data-result-step]')].map((tr) => [
    tr.dataset.resultStep + (tr.dataset.resultVariant ? '/' + tr.dataset.resultVariant : ''),
    Object.fromEntries([...tr.querySelectorAll('td[data-col]')].map(
      (td) => [td.dataset.col, td.textContent.trim().split(/\\s+/)[0]]))]))"""


def panel_rows(page: Page) -> dict[str, dict[str, str]]:
    """Each row of the results table (``step`` or ``step/variant``): its first word per column."""
    found: dict[str, dict[str, str]] = page.evaluate(PANEL_ROWS)
    return found


MAIL_COLUMNS = ("entered", "sent", "delivered", "opened", "clicked")


def test_the_panel_shows_what_each_step_and_variant_did(
    page: Page, server: LiveServer, story: dict[str, Any], artifacts: Path
) -> None:
    page.goto(f"/ui/journeys/{JOURNEY}")
    expect(page.locator("#results")).to_have_attribute("data-loaded", "true")

    rows = panel_rows(page)
    assert rows["pick"]["entered"] == str(len(CUSTOMERS)) and "sent" not in rows["pick"]  # sends nothing
    assert rows["pick"]["no-message"] == "sends"  # "sends no message" to a screen reader, "—" to the eye
    for arm in ARMS:
        mine = [c for c in CUSTOMERS if arm_of(c) == arm]
        mail = rows[MAIL_STEP[arm]]
        opened, clicked = sum(opens(c) or clicks(c) for c in mine), sum(clicks(c) for c in mine)
        assert [mail[col] for col in MAIL_COLUMNS] == [
            str(n) for n in (len(mine), len(mine), len(mine), opened, clicked)
        ], arm
        variant_row = rows[f"{MAIL_STEP[arm]}/{arm}"]  # the variant row of its own email
        assert [variant_row[col] for col in MAIL_COLUMNS] == [mail[col] for col in MAIL_COLUMNS], arm
        assert rows[f"wait_buy/{arm}"]["converted"] == str(sum(buys(c) for c in mine)), arm
    offered_buyers = [c for c in CUSTOMERS if buys(c) and arm_of(c) != "control"]
    assert rows["wait_buy"]["converted"] == rows["all"]["converted"] == str(len(offered_buyers))
    assert rows["all"]["goal_revenue"] == f"{sum(20 + number(c) for c in offered_buyers):,.2f}"

    [split] = story["splits"]
    for arm in split["arms"]:
        row = page.locator(f'[data-split="pick"] tr[data-arm="{arm["variant"]}"]')
        mine = [c for c in CUSTOMERS if arm_of(c) == arm["variant"]]
        expect(row.locator("[data-col=customers]")).to_have_text(str(len(mine)))
        expect(row.locator("[data-col=converted]")).to_have_text(str(sum(buys(c) for c in mine)))
        expect(row.locator("[data-col=rate]")).to_have_text(f"{arm['conversion_rate'] * 100:.1f}%")
        low, high = arm["interval"]["low"] * 100, arm["interval"]["high"] * 100
        expect(row.locator("[data-col=interval]")).to_contain_text(f"{low:.1f}% \N{EN DASH} {high:.1f}%")
        verdict = "baseline" if arm["comparison"] is None else arm["comparison"]["verdict"]
        expect(row.locator(".verdict")).to_have_text(verdict)
        comparison = arm["comparison"]
        if comparison and comparison["verdict"] == "inconclusive" and comparison["more_needed_per_arm"]:
            expect(row.locator(".verdict-text")).to_contain_text(
                f"about {comparison['more_needed_per_arm']:,} more customers per arm"
            )
    assert serious(page) == []
    scroll_to(page, "#results")
    page.screenshot(path=str(artifacts / "journey-results-panel.png"))


def test_refresh_reloads_the_panel_by_keyboard(page: Page, story: dict[str, Any]) -> None:
    page.goto(f"/ui/journeys/{JOURNEY}")
    expect(page.locator("#results")).to_have_attribute("data-loaded", "true")
    page.evaluate("document.querySelector('[data-table=results]').setAttribute('data-old', '1')")
    page.get_by_role("button", name="Refresh results").focus()
    page.keyboard.press("Enter")
    expect(page.locator("[data-table=results][data-old]")).to_have_count(0)
    expect(page.locator("[data-table=results]")).to_be_visible()


def test_a_journey_nobody_entered_says_what_brings_results(page: Page, story: dict[str, Any]) -> None:
    page.goto("/ui/journeys/referral_native")
    expect(page.locator("#results")).to_have_attribute("data-loaded", "true")
    expect(page.locator('[data-empty="results"]')).to_contain_text(
        "No customer has entered referral_native yet"
    )
    assert serious(page) == []
