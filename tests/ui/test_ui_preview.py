"""The preview panel in Chromium: onboarding's "completes profile day 2, buys day 5" story run from
the journey page highlights the path `journeys simulate` prints (the real CLI) and shows the emails
the API answers; a forecast draws its numbers on the nodes; a story is saved as a test that
`journeys test` passes; the keyboard opens and closes the panel; axe finds nothing serious.

The live product here serves its own copy of the journeys folder as JOURNEYS_SAVE_DIR (as
`journeys up` does), so saved tests land in the copy."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.ui.conftest import open_page
from tests.ui.live_server import VIEWER_KEY, LiveServer, live_server
from tests.ui.reading import open_journey, scroll_to
from tests.ui.test_ui_accessibility import serious

ROOT = Path(__file__).resolve().parents[2]
STORY = ["2d profile_completed", "5d purchase_completed"]
NAME = "completes profile day 2, buys day 5"
RUN_MS = 180_000  # how long Playwright waits for a run to end (runs have their own limits)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    workdir = tmp_path_factory.mktemp("ui-preview")
    with pytest.MonkeyPatch.context() as env:
        env.setenv("JOURNEYS_SAVE_DIR", str(workdir / "journeys"))  # read once, as the server starts
        with live_server(workdir, own_journeys=True) as running:
            env.delenv("JOURNEYS_SAVE_DIR")
            yield running


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cli", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
        check=False,
    )


def open_preview(page: Page) -> None:
    open_journey(page, "onboarding")
    page.locator("#preview-open").click()
    expect(page.locator("#preview-panel")).to_be_visible()
    expect(page.locator("[data-pv-trigger]")).to_have_text(
        "signed_up", timeout=RUN_MS
    )  # the form is filled in


def run_story(page: Page, events: list[str], name: str = NAME) -> dict[str, Any]:
    """Type the story into the panel, run it, and return the API's answer for that run."""
    page.locator("#pv-name").fill(name)
    page.locator("#pv-events").fill("\n".join(events))
    page.locator("[data-pv-run]").click()
    expect(page.locator("[data-pv-result]")).to_be_visible(timeout=RUN_MS)
    job_id = page.locator("#preview-panel").get_attribute("data-job")
    job: dict[str, Any] = page.evaluate("async (id) => (await fetch(`/ui/preview/${id}`)).json()", job_id)
    assert job["state"] == "done", job
    return job


def test_a_story_highlights_the_path_journeys_simulate_prints_and_shows_its_emails(
    page: Page, artifacts: Path
) -> None:
    events = [word for event in STORY for word in ("-e", event)]
    printed = cli("simulate", str(ROOT / "journeys" / "onboarding.yaml"), *events, "--json")
    assert printed.returncode == 0, printed.stderr
    expected = json.loads(printed.stdout)
    open_preview(page)

    job = run_story(page, STORY)

    story = job["story"]
    path = expected["summary"]["runs"][0]["steps"]
    assert story["path"]["steps"] == path
    highlighted = page.locator(".journey-diagram .node.pv-path[data-step]")
    assert sorted(highlighted.evaluate_all("(nodes) => nodes.map((n) => n.dataset.step)")) == sorted(path)
    taken = page.locator(".journey-diagram .edge.pv-taken").evaluate_all(
        "(edges) => edges.map((e) => e.getAttribute('data-edge-line'))"
    )
    assert sorted(taken) == sorted(story["path"]["edges"])
    faded = page.locator(".journey-diagram .node[data-step]:not(.pv-path)")
    expect(faded.first).to_have_css("opacity", "0.3")
    expect(page.locator('.journey-diagram [data-step="welcome"] .pv-order text')).to_have_text("2")
    # The emails shown are the API's, which are those journeys simulate sent.
    subjects = page.locator(".pv-email .pv-subject").all_inner_texts()
    assert (
        subjects
        == [e["subject"] for e in story["emails"]]
        == [e["subject"] for e in expected["summary"]["emails"]]
    )
    texts = page.locator(".pv-email pre.pv-text").evaluate_all("(pres) => pres.map((p) => p.textContent)")
    assert texts == [e["text"] for e in story["emails"]]
    welcome = page.frame_locator(".pv-email[data-pv-email='0'] iframe")
    expect(welcome.locator("h1")).to_have_text("Welcome, Ada!")
    timeline = page.locator(".pv-timeline .pv-what").all_inner_texts()
    assert timeline == [e["text"] for e in expected["entries"]]

    for _ in range(3):
        page.locator("[data-zoom=out]").click()  # 70%: the path down to the thank-you email
    scroll_to(page, ".canvas")
    page.screenshot(path=artifacts / "preview.png")


def test_the_keyboard_opens_runs_and_closes_the_preview(page: Page) -> None:
    open_journey(page, "onboarding")
    opener = page.locator("#preview-open")
    opener.focus()
    page.keyboard.press("Enter")
    expect(page.locator("#pv-title")).to_be_focused()
    expect(opener).to_have_attribute("aria-expanded", "true")
    page.locator("#pv-events").focus()
    page.keyboard.type("1d unsubscribed")
    page.keyboard.press("Tab")  # the traits
    page.keyboard.press("Tab")  # the split's variant
    page.keyboard.press("Tab")  # the horizon
    page.keyboard.press("Tab")  # Run story
    expect(page.locator("[data-pv-run]")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("[data-pv-summary]")).to_contain_text(
        "Ada leaves on day 1 (unsubscribed received)", timeout=RUN_MS
    )

    page.keyboard.press("Escape")

    expect(page.locator("#preview-panel")).to_be_hidden()
    expect(opener).to_be_focused()
    expect(page.locator(".journey-diagram .node.pv-path")).not_to_have_count(0)  # still drawn, until cleared


def test_a_forecast_draws_its_numbers_on_the_nodes(page: Page) -> None:
    open_preview(page)
    page.locator("[data-pv-mode=forecast]").click()
    page.locator("#pv-customers").fill("50")
    page.locator("#pv-chances").fill("profile_completed=0.4")

    page.locator("[data-pv-forecast-run]").click()

    expect(page.locator("[data-pv-forecast-result]")).to_be_visible(timeout=RUN_MS)
    job_id = page.locator("#preview-panel").get_attribute("data-job")
    job = page.evaluate("async (id) => (await fetch(`/ui/preview/${id}`)).json()", job_id)
    counts = job["forecast"]["counts"]["nodes"]
    expect(page.locator(".journey-diagram .pv-tag")).to_have_count(len(counts))
    joined = counts["joined"]
    expect(page.locator('.journey-diagram [data-pv-tag="joined"] text')).to_have_text(
        f"Forecast: {joined['entered']} entered"
    )
    rows = page.locator("[data-pv-forecast-rows] tr")
    expect(rows).to_have_count(len(job["forecast"]["steps"]))
    expect(page.locator("#pv-progress-bar")).to_be_hidden()
    page.locator("[data-pv-clear]").click()
    expect(page.locator(".journey-diagram .pv-tag")).to_have_count(0)


def test_a_story_saved_from_the_page_passes_journeys_test(browser: Browser, server: LiveServer) -> None:
    tests = server.journeys_dir / "tests" / "onboarding.yaml"
    before = tests.read_text("utf-8")
    page, errors = open_page(browser, server)
    try:
        open_preview(page)
        run_story(page, ["3d 18:30 purchase_completed total=19"], name="buys on day 3 in the evening")

        page.locator("[data-pv-save-button]").click()

        expect(page.locator("[data-pv-saved]")).to_have_text(
            "Saved as “buys on day 3 in the evening” in tests/onboarding.yaml.", timeout=RUN_MS
        )
        assert tests.read_text("utf-8").startswith(before)
        passed = cli("test", str(tests))
        assert passed.returncode == 0, passed.stdout + passed.stderr
        assert "PASS  buys on day 3 in the evening" in passed.stdout
        page.locator("[data-pv-save-button]").click()  # the same name again
        expect(page.locator("[data-pv-saved]")).to_contain_text(
            'Not saved: tests/onboarding.yaml already has a story named "buys on day 3 in the evening"',
            timeout=RUN_MS,
        )
        # The browser logs the refused request (409) itself; the page's scripts log nothing.
        assert [e for e in errors if "409 (Conflict)" not in e] == []
    finally:
        page.context.close()


def test_a_viewer_previews_but_cannot_save(browser: Browser, server: LiveServer) -> None:
    page, errors = open_page(browser, server, VIEWER_KEY)
    try:
        open_preview(page)
        expect(page.locator("[data-pv-save-why]")).to_have_text(
            "Vera Viewer is a viewer: viewers may preview, not save tests."
        )
        expect(page.locator("[data-pv-save-button]")).to_be_disabled()
        page.locator("#pv-preset").select_option(label=NAME)  # a story of the journey's tests
        expect(page.locator("#pv-events")).to_have_value(
            "2d profile_completed\n5d 10:00 purchase_completed order_id=o-1 total=42"
        )
        page.locator("[data-pv-run]").click()
        expect(page.locator("[data-pv-summary]")).to_contain_text("goal reached on day 5", timeout=RUN_MS)
        assert errors == []
    finally:
        page.context.close()


def test_a_bad_line_is_named_and_the_panel_has_no_serious_violation(
    browser: Browser, server: LiveServer
) -> None:
    page, errors = open_page(browser, server)
    try:
        open_preview(page)
        page.locator("#pv-events").fill("2d profile_completed\n3 days purchase_completed")
        page.locator("[data-pv-run]").click()
        expect(page.locator("[data-pv-error]")).to_have_text(
            'Not run: events line 2 "3 days purchase_completed": "3 days" is not a duration; write 3d',
            timeout=RUN_MS,  # the runner reads the story in its own process
        )
        assert serious(page) == []
        # The browser logs the refused request (422) itself; the page's scripts log nothing.
        assert [e for e in errors if "422 (Unprocessable Entity)" not in e] == []
    finally:
        page.context.close()
