"""The journey drawn in Chromium: one node per step with its kind and label, every way out with its
label, nothing overlapping in any example journey, shortened conditions in full on hover and focus."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.ui.live_server import LiveServer
from tests.ui.reading import BOXES, open_journey, overlaps, text_spills

KIND_WORDS = {
    "send_email": "Email",
    "send_webhook": "Webhook",
    "wait_for": "Wait for event",
    "award": "Award",
    "set_stage": "Set stage",
    "split": "A/B split",
    "exit": "Exit",
    "branch": "Branch",
}
# The labels of onboarding's ways out that say something besides their share, as the plan reads.
ONBOARDING_LABELS = {
    ("wait_profile", "profile_bonus"): "profile_completed",
    ("wait_profile", "nudge_profile"): "timeout 3d",
    ("wait_purchase", "first_purchase_bonus"): "purchase_completed",
    ("wait_purchase", "pick_offer"): "timeout 7d",
    ("wait_offer", "first_purchase_bonus"): "purchase_completed",
    ("wait_offer", "not_activated"): "timeout 7d",
    ("pick_offer", "offer_discount"): "discount 45%",
    ("pick_offer", "offer_free_shipping"): "free_shipping 45%",
    ("pick_offer", "__end"): "control 10%",
}


def plan_of(server: LiveServer, name: str) -> dict[str, Any]:
    plan: dict[str, Any] = server.api.get(f"/v1/journeys/{name}").json()["plan"]
    return plan


def test_onboarding_has_one_node_per_step_with_its_kind_and_label(page: Page, server: LiveServer) -> None:
    plan = plan_of(server, "onboarding")
    open_journey(page, "onboarding")

    drawn = page.locator(".journey-diagram [data-step]")
    assert drawn.evaluate_all("gs => gs.map(g => g.dataset.step)") == [n["id"] for n in plan["nodes"]]
    for node in plan["nodes"]:
        group = page.locator(f'.journey-diagram [data-step="{node["id"]}"]')
        assert group.get_attribute("data-kind") == node["kind"]
        expect(group.locator("[data-kind-label]")).to_have_text(KIND_WORDS[node["kind"]])
        expect(group.locator("[data-title]")).to_have_text(node["id"])
        assert group.locator(".icon").count() == 1
    welcome = page.locator(".journey-diagram [data-step=welcome] [data-summary]")
    expect(welcome).to_have_text("template welcome")
    expect(page.locator(".journey-diagram [data-step=wait_profile] [data-summary]")).to_have_text(
        "profile_completed · up to 3d"
    )
    entry = page.locator(".journey-diagram [data-entry]")
    expect(entry.locator("[data-title]")).to_have_text("signed_up")
    expect(entry.locator("[data-summary]")).to_have_text("everyone · once")
    expect(page.locator("[data-card=goal]")).to_contain_text("purchase_completed within 14d")
    expect(page.locator("[data-card=exit_on]")).to_contain_text("unsubscribed")


def test_onboarding_draws_every_way_out_with_its_label(page: Page, server: LiveServer) -> None:
    open_journey(page, "onboarding")
    embedded = "JSON.parse(document.getElementById('diagram-data').textContent).edges"
    edges: list[dict[str, Any]] = page.evaluate(embedded)

    lines = page.locator(".journey-diagram [data-edge-line]")
    # The entry, then 19 ways out of 14 steps: three waits for an event (2 each), the split (2
    # variants and the control group), ten steps with one next, and the exit step with none.
    assert lines.count() == len(edges) == 20
    labels = {
        (g["source"], g["target"]): g["text"]
        for g in page.locator(".journey-diagram [data-edge]").evaluate_all(
            "gs => gs.map(g => ({source: g.dataset.source, target: g.dataset.target,"
            " text: (g.querySelector('[data-label]') || {}).textContent || ''}))"
        )
    }
    step_edges = [e for e in edges if e["kind"] != "entry"]
    assert len(labels) == len(step_edges)  # every way out of a step is labelled (with its share at least)
    assert {k: v for k, v in labels.items() if v} == ONBOARDING_LABELS
    assert page.locator(".journey-diagram .e-timeout path.line").count() == 3  # timeouts are dashed


@pytest.mark.parametrize("journey", ["onboarding", "winback", "engagement", "referral_native"])
def test_no_two_nodes_or_labels_overlap_and_no_text_spills(page: Page, journey: str) -> None:
    open_journey(page, journey)

    boxes = page.evaluate(BOXES)
    assert len(boxes) > 3
    assert overlaps(boxes) == []
    assert text_spills(page) == []


def test_a_shortened_condition_reads_in_full_on_hover_and_on_focus(page: Page) -> None:
    open_journey(page, "engagement")
    label = page.locator('.journey-diagram [data-edge-kind="case"]')
    tooltip = page.locator("#diagram-tooltip")

    expect(label.locator("[data-label]")).to_have_text("event.properties.tier ==…")
    expect(tooltip).to_be_hidden()
    label.hover()
    expect(tooltip).to_be_visible()
    expect(tooltip).to_have_text("if event.properties.tier == 'gold'")
    page.mouse.move(0, 0)
    expect(tooltip).to_be_hidden()
    label.focus()
    expect(tooltip).to_have_text("if event.properties.tier == 'gold'")
    assert label.get_attribute("aria-describedby") == "diagram-tooltip"


def test_the_steps_are_also_a_list_with_their_numbers(page: Page, server: LiveServer) -> None:
    open_journey(page, "onboarding")

    items = page.locator("#step-list > li")
    assert items.count() == len(plan_of(server, "onboarding")["nodes"])
    expect(items.nth(1)).to_contain_text("welcome")
    expect(items.nth(1)).to_contain_text("waiting")
    expect(items.nth(1)).to_contain_text("sent")
