"""The editor in Chromium: typing `next:` to a missing step shows the CLI's error at its line,
marks the node and disables Save; fixing it clears the error and redraws; saving deploys a new
version the journey page offers; a viewer gets the editor read-only and cannot save (nor can the API)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from playwright.sync_api import Browser, Page, expect

from tests.ui.conftest import open_page
from tests.ui.live_server import VIEWER_KEY, LiveServer

ROOT = Path(__file__).resolve().parents[2]
TYPO = "next: wait_purchase"  # profile_bonus's way on


def open_editor(page: Page, name: str) -> None:
    page.goto(f"/ui/journeys/{name}/edit")
    page.wait_for_selector("#diagram[data-drawn=true]")
    expect(page.locator("#check-status")).to_have_attribute("data-state", "unchanged")


def put_cursor_after(page: Page, text: str) -> None:
    """The cursor right after ``text`` in the editor (then the test types with the keyboard)."""
    page.locator(".cm-content").click()
    page.evaluate(
        """(text) => { const view = window.journeysEditor; const at = view.state.doc.toString().indexOf(text);
        view.dispatch({ selection: { anchor: at + text.length } }); view.focus(); }""",
        text,
    )


def cli_problems(source: str, tmp_path: Path) -> list[str]:
    """What `journeys validate` prints for ``source`` (saved as onboarding.yaml beside the templates)."""
    folder = tmp_path / "journeys"
    folder.mkdir(exist_ok=True)
    (folder / "templates").symlink_to(ROOT / "journeys" / "templates")
    (folder / "onboarding.yaml").write_text(source, "utf-8")
    run = subprocess.run(
        [sys.executable, "-m", "cli", "validate", str(folder / "onboarding.yaml")],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
        check=False,
    )
    return [line for line in (run.stdout + run.stderr).splitlines() if "onboarding.yaml:" in line]


def test_a_typo_shows_the_cli_error_at_its_line_marks_the_node_and_blocks_save(
    page: Page, artifacts: Path, tmp_path: Path
) -> None:
    open_editor(page, "onboarding")
    put_cursor_after(page, TYPO)

    page.keyboard.press("Backspace")  # next: wait_purchas, a step that does not exist

    expect(page.locator("#check-status")).to_have_attribute("data-state", "invalid")
    problem = page.locator("#problem-list .problem")
    expect(problem).to_have_count(1)
    source = page.evaluate("window.journeysEditor.state.doc.toString()")
    [printed] = cli_problems(source, tmp_path)
    line, column = printed.split("onboarding.yaml:")[1].split(" ")[0].split(":")
    expect(problem.locator(".where")).to_have_text(f"Line {line}:{column}")
    assert printed.endswith(problem.locator(".words").inner_text())  # the CLI's exact words
    expect(page.locator(".cm-lintRange-error")).to_have_count(1)
    gutter_line = page.locator(".cm-gutterElement .cm-lint-marker-error").locator("..").locator("..")
    expect(gutter_line).to_have_count(1)
    expect(page.locator('.journey-diagram [data-step="profile_bonus"]')).to_have_attribute(
        "data-problem", "1"
    )
    expect(page.locator("#save")).to_be_disabled()
    page.locator('.journey-diagram [data-step="profile_bonus"]').scroll_into_view_if_needed()
    page.screenshot(path=artifacts / "editor-error.png")

    page.keyboard.type("e")  # fixed again

    expect(page.locator("#check-status")).to_have_attribute("data-state", "unchanged")
    expect(page.locator("#problem-list .problem")).to_have_count(0)
    expect(page.locator("[data-problem]")).to_have_count(0)
    expect(page.locator(".cm-lintRange-error")).to_have_count(0)


def test_a_valid_change_redraws_the_diagram(page: Page) -> None:
    open_editor(page, "onboarding")
    before = page.locator(".journey-diagram [data-step]").count()
    put_cursor_after(page, "- {id: welcome, send: {email: welcome}}")

    page.keyboard.type("\n- {id: breather, wait: 1h}")

    expect(page.locator("#check-status")).to_have_attribute("data-state", "valid")
    expect(page.locator(".journey-diagram [data-step]")).to_have_count(before + 1)
    expect(page.locator('.journey-diagram [data-step="breather"]')).to_be_visible()
    expect(page.locator("#save")).to_be_enabled()


def test_a_viewer_reads_the_editor_but_cannot_change_or_save(browser: Browser, server: LiveServer) -> None:
    page, errors = open_page(browser, server, VIEWER_KEY)
    try:
        page.goto("/ui/journeys/onboarding/edit")
        page.wait_for_selector("#diagram[data-drawn=true]")
        expect(page.locator("#read-only")).to_contain_text("Vera Viewer is a viewer")
        expect(page.locator("#save")).to_have_count(0)
        before = page.evaluate("window.journeysEditor.state.doc.toString()")
        page.locator(".cm-content").click()
        page.keyboard.type("typing changes nothing")
        assert page.evaluate("window.journeysEditor.state.doc.toString()") == before
        assert errors == []
        # The server refuses too, with the session's own CSRF token.
        refused = page.evaluate(
            """async () => (await fetch('/ui/journeys/onboarding/save', { method: 'POST',
            body: JSON.stringify({ source: window.journeysEditor.state.doc.toString() + ' # mine' }),
            headers: { 'Content-Type': 'application/json',
                       'X-CSRF-Token': document.querySelector('meta[name=csrf-token]').content } })).status"""
        )
        assert refused == 403
    finally:
        page.context.close()


def test_fit_shows_the_whole_diagram_and_holds_across_redraws(page: Page) -> None:
    open_editor(page, "onboarding")
    fits = "() => { const h = document.getElementById('diagram'); const s = h.querySelector('svg');"
    fits += " return Number(s.getAttribute('width')) <= h.clientWidth; }"
    # onboarding is wider than the editor's half of the page: it opens narrowed to the frame's width
    assert page.evaluate(fits) is True
    opened_at = page.locator("#zoom [data-zoom-level]").inner_text()
    assert opened_at.endswith("%") and int(opened_at[:-1]) < 100
    page.locator("#zoom [data-zoom=reset]").click()
    assert page.evaluate(fits) is False  # at actual size it is cut off on the right
    page.locator("#zoom [data-zoom=fit]").click()
    assert page.evaluate(fits) is True
    level = page.locator("#zoom [data-zoom-level]").inner_text()
    put_cursor_after(page, "- {id: welcome, send: {email: welcome}}")

    page.keyboard.type("\n- {id: breather, wait: 1h}")

    expect(page.locator('.journey-diagram [data-step="breather"]')).to_be_visible()
    assert page.locator("#zoom [data-zoom-level]").inner_text() == level
    assert page.evaluate(fits) is True


def server_version_unchanged(page: Page) -> bool:
    """The preview deployed nothing: the page's version is still the current one."""
    shown = page.locator("#editor-workspace").get_attribute("data-version")
    current: str = page.evaluate(
        "async () => (await (await fetch('/ui/journeys/onboarding/counts')).json()).version"
    )
    return shown == current


def test_preview_runs_the_unsaved_text_on_the_real_workflow(page: Page) -> None:
    open_editor(page, "onboarding")
    put_cursor_after(page, "- {id: welcome, send: {email: welcome}}")
    page.keyboard.type("\n- {id: breather, wait: 1h}")
    expect(page.locator('.journey-diagram [data-step="breather"]')).to_be_visible()

    page.locator("#preview-open").click()
    page.locator("#pv-events").fill("2d profile_completed")
    page.locator("[data-pv-run]").click()

    expect(page.locator("[data-pv-result]")).to_be_visible(timeout=180_000)
    path = page.locator(".journey-diagram .node.pv-path[data-step]").evaluate_all(
        "ns => ns.map(n => n.dataset.step)"
    )
    assert "breather" in path and "welcome" in path  # the step only the unsaved text has
    assert server_version_unchanged(page)
