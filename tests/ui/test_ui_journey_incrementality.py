"""The journey page's results panel against the global control group, in the browser: a channel
policy with a 30% control group, twenty-four customers through a journey with a goal, the control
group's welcome emails withheld, two in three treated customers buying and one in three of the
control group; the panel shows treated and control
with the numbers the test knows, the uplift's interval and the verdict the API computes.
Screenshot at 1280x800."""

from __future__ import annotations

import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from engine.channels.loader import validate_policy_text
from engine.loader import compile_file
from simulate.sandbox import Sandbox
from tests.ui.live_server import LiveServer, live_server
from tests.ui.reading import scroll_to, until
from tests.ui.test_ui_accessibility import serious

JOURNEY = "nudge"
NUDGE = """
    journey: nudge
    description: A welcome email, and a week to buy; measured against the global control group.
    stage: conversion
    trigger: {event: offer_requested}
    entry: once
    goal: {event: purchase_completed, within: 7d}
    steps:
      - {id: mail, send: {email: welcome}}
      - id: wait_buy
        wait_for: {event: purchase_completed, timeout: 7d}
      - {id: done, exit: week over}
    """
POLICY = "policy: main\ncontrol_group: {percent: 30, salt: ui-incrementality}\n"
CUSTOMERS = [f"n{n:02d}" for n in range(24)]


def control_group() -> list[str]:
    policy, errors = validate_policy_text(POLICY, "channels.yaml")
    assert policy is not None, errors
    return [c for c in CUSTOMERS if policy.in_control_group(c)]


CONTROL = control_group()
TREATED = [c for c in CUSTOMERS if c not in CONTROL]
BUYERS = set(TREATED[::3] + TREATED[1::3] + CONTROL[::3])


def buys(customer_id: str) -> bool:
    return customer_id in BUYERS


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with live_server(tmp_path_factory.mktemp("ui-incrementality"), own_journeys=True) as running:
        file = running.journeys_dir / f"{JOURNEY}.yaml"
        file.write_text(textwrap.dedent(NUDGE).lstrip("\n"), "utf-8")
        policy, errors = validate_policy_text(POLICY, "channels.yaml")
        assert policy is not None, errors

        async def deploy(sandbox: Sandbox) -> None:
            await sandbox.store.channel_policies.deploy(policy, POLICY)
            await sandbox.store.deployments.deploy(compile_file(file), source=file.read_text("utf-8"))
            await sandbox.router.reload()

        running.call(deploy)
        yield running


def results(server: LiveServer) -> dict[str, Any]:
    answer = server.api.get(f"/v1/journeys/{JOURNEY}/results")
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


def waiting(body: dict[str, Any]) -> int:
    [step] = [s for s in body["steps"] if s["step"] == "wait_buy"]
    entered: int = step["entered"]
    return entered


@pytest.fixture(scope="module")
def story(server: LiveServer) -> dict[str, Any]:
    """Every customer entered; the control group's emails withheld; every other customer buys."""
    for c in CUSTOMERS:
        server.event("offer_requested", c, traits={"email": f"{c}@example.com", "first_name": c.upper()})
    until(lambda: waiting(results(server)) == len(CUSTOMERS), what="every customer waiting to buy")
    for c in filter(buys, CUSTOMERS):
        server.event("purchase_completed", c, properties={"revenue": 30})
    until(
        lambda: results(server)["totals"]["converted"] == sum(map(buys, CUSTOMERS)),
        what="every purchase counted as a conversion",
    )
    return results(server)


def test_the_panel_compares_treated_customers_with_the_control_group(
    page: Page, server: LiveServer, story: dict[str, Any], artifacts: Path
) -> None:
    found = story["incrementality"]
    assert CONTROL and TREATED  # 30% of 24, give or take: both sides have customers
    mailed = {r for m in server.outbox.messages() for r in m.recipients}
    assert mailed == {f"{c}@example.com" for c in TREATED}  # the control group got no email
    sides = {"treated": TREATED, "control": CONTROL}

    page.goto(f"/ui/journeys/{JOURNEY}")
    expect(page.locator("#results")).to_have_attribute("data-loaded", "true")
    box = page.locator("[data-incrementality]")
    expect(box.get_by_role("heading")).to_contain_text("30% of customers get no marketing message")
    for side, members in sides.items():
        row = box.locator(f'tr[data-side="{side}"]')
        expect(row.locator("[data-col=customers]")).to_have_text(str(len(members)))
        expect(row.locator("[data-col=converted]")).to_have_text(str(sum(map(buys, members))))
        rate = sum(map(buys, members)) / len(members)
        expect(row.locator("[data-col=rate]")).to_have_text(f"{rate * 100:.1f}%")
        low, high = found[side]["interval"]["low"] * 100, found[side]["interval"]["high"] * 100
        expect(row.locator("[data-col=interval]")).to_contain_text(f"{low:.1f}% \N{EN DASH} {high:.1f}%")
    comparison = found["comparison"]
    treated = box.locator('tr[data-side="treated"]')
    expect(treated.locator(".verdict")).to_have_text(comparison["verdict"])
    uplift = comparison["absolute_uplift"] * 100
    interval = comparison["absolute_interval"]
    expect(treated.locator(".verdict-text")).to_contain_text(
        f"{uplift:+.1f} points against the control group (95% interval "
        f"{interval['low'] * 100:+.1f} points to {interval['high'] * 100:+.1f} points), "
        f"p = {comparison['p_value']:.3f}"
    )
    if comparison["more_needed_per_arm"]:
        expect(treated.locator(".verdict-text")).to_contain_text(
            f"about {comparison['more_needed_per_arm']:,} more"
        )
    expect(box.locator('tr[data-side="control"] .verdict')).to_have_text("baseline")
    assert serious(page) == []
    scroll_to(page, "[data-incrementality]")
    page.screenshot(path=str(artifacts / "journey-results-incrementality.png"))
