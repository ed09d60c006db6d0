"""Saving from the editor in Chromium, on a copy of the journeys folder: the review panel reports
the customers waiting at a step the new version removes; Save deploys version 2, which the journey
page then offers beside version 1, and the history names who saved it; a template edit with an
undefined variable shows the error in its tab and blocks Save, and a good one is saved into the
templates folder with the journey."""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.ui.live_server import LiveServer, live_server
from tests.ui.reading import current_step, until
from tests.ui.test_ui_accessibility import serious
from tests.ui.test_ui_editor import open_editor

NUDGE = "  - {id: nudge_profile, send: {email: complete_your_profile}}\n"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """This module saves: its own product, on its own copy of the journeys folder."""
    with live_server(tmp_path_factory.mktemp("ui-save"), own_journeys=True) as running:
        yield running


def replace_text(page: Page, old: str, new: str) -> None:
    """Select ``old`` in the editor and type ``new`` over it with the keyboard."""
    page.evaluate(
        """([old]) => { const view = window.journeysEditor; const at = view.state.doc.toString().indexOf(old);
        if (at < 0) throw new Error('not in the text: ' + old);
        view.dispatch({ selection: { anchor: at, head: at + old.length } }); view.focus(); }""",
        [old],
    )
    if new:
        page.keyboard.type(new)
    else:
        page.keyboard.press("Delete")


def test_review_names_the_waiting_customers_then_save_deploys_version_two(
    page: Page, server: LiveServer, artifacts: Path
) -> None:
    for name in ("pia", "quin"):
        server.event("signed_up", name, traits={"email": f"{name}@example.com"})

    def waiting(name: str) -> bool:
        return current_step(server, name, "onboarding") == "wait_profile"

    for name in ("pia", "quin"):
        until(partial(waiting, name), what=f"{name} waiting")
    first = server.api.get("/v1/journeys/onboarding").json()["version"]
    open_editor(page, "onboarding")

    # Version 2 has no wait_profile: a completed sign-up bonus goes straight to wait_purchase.
    source = page.evaluate("window.journeysEditor.state.doc.toString()")
    start = source.index("  - id: wait_profile")
    end = source.index("  - {id: profile_bonus")
    replace_text(page, source[start:end], "")
    replace_text(page, NUDGE, "")
    replace_text(page, ", next: wait_purchase}", "}")
    expect(page.locator("#check-status")).to_have_attribute("data-state", "valid")

    page.locator("#review").click()
    panel = page.locator("#review-panel")
    expect(panel).to_have_attribute("data-reviewed", "true")
    impact = panel.locator("[data-impact]")
    expect(impact).to_contain_text("wait_profile")
    expect(impact).to_contain_text("2 customers")
    expect(panel.locator("pre.diff .del").first).to_be_visible()
    page.screenshot(path=artifacts / "editor-review.png")
    page.keyboard.press("Escape")
    expect(panel).to_be_hidden()

    page.locator("#save").click()
    result = page.locator("#save-result")
    expect(result).to_contain_text("Deployed version")
    second = server.api.get("/v1/journeys/onboarding").json()["version"]
    assert second != first
    expect(result).to_contain_text(second)

    page.goto("/ui/journeys/onboarding")
    options = page.locator("#version option").evaluate_all("os => os.map(o => o.value)")
    assert options[:2] == [second, first]
    newest = server.api.get("/v1/journeys/onboarding/versions").json()["history"][0]
    assert (newest["version"], newest["deployed_by"], newest["action"]) == (second, "Eddie Editor", "deploy")
    saved = server.journeys_dir / "onboarding.yaml"
    assert "wait_profile" in saved.read_text("utf-8")  # JOURNEYS_SAVE_DIR unset: the file is not rewritten


def test_a_template_error_shows_in_its_tab_and_a_good_edit_is_saved(page: Page, server: LiveServer) -> None:
    open_editor(page, "onboarding")
    page.locator("#file-tabs [data-template=welcome]").click()
    panel = page.locator("#pane-template")
    expect(panel).to_be_visible()
    page.locator('#part-tabs .part-tab[data-file="welcome/body.txt"]').click()
    page.locator("#template-source .cm-content").click()
    page.keyboard.press("Control+End")

    page.keyboard.type("\nYour code: {{ customer.voucher_code }}")

    expect(page.locator("#check-status")).to_have_attribute("data-state", "invalid")
    expect(page.locator("#template-error")).to_contain_text("voucher_code")
    expect(page.locator("#file-tabs [data-template=welcome] [data-tab-problems]")).to_have_text(" 1")
    expect(page.locator("#save")).to_be_disabled()

    for _ in range(len("{{ customer.voucher_code }}")):
        page.keyboard.press("Backspace")
    page.keyboard.type("{{ customer.first_name }}")

    expect(page.locator("#check-status")).to_have_attribute("data-state", "valid")
    expect(page.locator("#template-error")).to_be_hidden()
    frame = page.frame_locator("#template-frame")
    expect(frame.locator("body")).to_contain_text("Ada")
    page.locator("#save").click()
    expect(page.locator("#save-result")).to_contain_text("welcome/body.txt")
    written = (server.journeys_dir / "templates" / "welcome" / "body.txt").read_text("utf-8")
    assert written.rstrip().endswith("Your code: {{ customer.first_name }}")
    plan = server.api.get("/v1/journeys/onboarding").json()
    assert plan["version"] in page.locator("#save-result").inner_text()


def test_the_history_names_who_deployed_compares_versions_and_rolls_back(
    page: Page, server: LiveServer
) -> None:
    versions = server.api.get("/v1/journeys/onboarding/versions").json()["history"]
    assert len({row["version"] for row in versions}) >= 2  # the saves above made new versions
    newest, first = versions[0]["version"], versions[-1]["version"]
    page.goto("/ui/journeys/onboarding/history")

    row = page.locator(f'#history tr[data-version="{newest}"]').first
    expect(row).to_contain_text("Eddie Editor")
    expect(row).to_contain_text("Current")
    page.locator("#before").select_option(first)
    page.locator("#after").select_option(newest)
    page.get_by_role("button", name="Compare").click()
    expect(page.locator("#plan-changes")).to_contain_text("removes step")
    expect(page.locator("#yaml-diff .del").first).to_be_visible()
    assert serious(page) == []

    page.locator(f'#history tr[data-version="{first}"]').first.get_by_role(
        "button", name="Roll back to this"
    ).click()

    expect(page.locator("#rolled-back")).to_contain_text(first)
    assert server.api.get("/v1/journeys/onboarding").json()["version"] == first
    top = server.api.get("/v1/journeys/onboarding/versions").json()["history"][0]
    assert (top["version"], top["action"], top["deployed_by"]) == (first, "rollback", "Eddie Editor")
    expect(page.locator("#history tbody tr").first).to_contain_text("Rolled back to")


def test_the_editor_has_no_serious_accessibility_violation(page: Page) -> None:
    open_editor(page, "onboarding")
    assert serious(page) == []
    page.locator("#file-tabs [data-template=welcome]").click()
    expect(page.locator("#pane-template")).to_be_visible()
    assert serious(page) == []
    page.locator('.journey-diagram [data-step="welcome"]').click()
    expect(page.locator("#canvas-panel")).to_be_visible()
    assert serious(page) == []
