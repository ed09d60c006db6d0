"""The reports page in the browser, on a store with a known story (tests.ui.report_seed): the
numbers of its tables are the story's, its charts are drawn, the range control (keyboard only)
changes them, empty ranges say what to do, and axe finds nothing serious. Screenshots at 1280x800."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.ui import report_seed as seed
from tests.ui.conftest import open_page
from tests.ui.live_server import LiveServer, live_server
from tests.ui.test_ui_accessibility import serious

STORY = seed.story()
MARCH = (date(2026, 3, 1), date(2026, 3, 31))

TABLE = """(name) => Object.fromEntries(
  [...document.querySelectorAll(`[data-table="${name}"] tbody tr, [data-table="${name}"] tfoot tr`)].map(
    (tr) => [tr.dataset.day || tr.dataset.source || tr.dataset.transition, Object.fromEntries(
      [...tr.querySelectorAll('td[data-stage], td[data-col], td[data-changes]')].map(
        (td) => [td.dataset.stage || td.dataset.col || 'changes', td.textContent.trim()]))]))"""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with live_server(tmp_path_factory.mktemp("ui-reports")) as running:
        running.call(lambda sandbox: seed.write(sandbox.store, STORY))
        yield running


def table(page: Page, name: str) -> dict[str, dict[str, str]]:
    found: dict[str, dict[str, str]] = page.evaluate(TABLE, name)
    return found


def open_reports(page: Page, first: date, last: date) -> None:
    page.goto(f"/ui/reports?from={first}&to={last}")
    for chart in page.locator("[data-chart]").all():
        expect(chart).to_have_attribute("data-drawn", "true")


def tab_to(page: Page, selector: str, most: int = 4) -> None:
    """Press Tab until ``selector`` has the focus (a date input takes a Tab per field it has)."""
    for _ in range(most):
        page.keyboard.press("Tab")
        if page.locator(selector).evaluate("e => e === document.activeElement"):
            return
    raise AssertionError(f"{most} presses of Tab did not reach {selector}")


def count(text: str) -> int:
    return int(text.replace(",", ""))


def test_the_page_shows_the_numbers_of_the_store(page: Page, artifacts: Path) -> None:
    open_reports(page, *MARCH)

    days = table(page, "lifecycle")
    assert len(days) == 31
    for day in ("2026-03-01", "2026-03-07", "2026-03-20", "2026-03-31"):
        shown = {stage: count(n) for stage, n in days[day].items() if stage != "all" and count(n)}
        assert shown == seed.stages_on(STORY, date.fromisoformat(day)), day
    assert count(days["2026-03-31"]["all"]) == len(STORY)
    changes = {
        tuple(key.split(">")): count(row["changes"]) for key, row in table(page, "transitions").items()
    }
    assert changes == seed.transitions(STORY, *MARCH)
    sources = table(page, "acquisition")
    expected = seed.signups(STORY, *MARCH)
    assert {
        s: (count(r["signups"]), count(r["purchasers"])) for s, r in sources.items() if s != "all"
    } == expected
    assert count(sources["all"]["signups"]) == len(STORY)
    value = table(page, "value")
    assert value["all"]["average_per_customer"] == seed.average_value(STORY)
    for source in seed.SOURCES:
        assert value[source or seed.NO_SOURCE]["average_per_customer"] == seed.average_value(STORY, source)
    expect(page.locator('[data-kpi="average_per_customer"]')).to_have_text(seed.average_value(STORY))
    assert page.locator("[data-chart] canvas").count() == 3
    expect(page.locator('nav[aria-label="Main"] a[aria-current="page"]')).to_have_text("Reports")
    page.screenshot(path=str(artifacts / "reports-page.png"))
    page.locator('[data-report="acquisition"]').scroll_into_view_if_needed()
    page.screenshot(path=str(artifacts / "reports-page-sources.png"))


def test_the_range_control_changes_the_numbers_by_keyboard(page: Page) -> None:
    open_reports(page, *MARCH)
    first, last = date(2026, 3, 2), date(2026, 3, 4)
    # Typed as a keyboard user types a date (the fields of Chromium's en-US date input: mm dd yyyy).
    page.locator("#range-from").focus()
    page.keyboard.type(f"{first:%m%d%Y}")
    expect(page.locator("#range-from")).to_have_value(first.isoformat())
    tab_to(page, "#range-to")
    page.keyboard.type(f"{last:%m%d%Y}")
    expect(page.locator("#range-to")).to_have_value(last.isoformat())
    tab_to(page, ".range-form button")
    page.keyboard.press("Enter")

    expect(page.locator("[data-range]")).to_contain_text("2026-03-02 to 2026-03-04 · 3 days")
    assert set(table(page, "lifecycle")) == {"2026-03-02", "2026-03-03", "2026-03-04"}
    changes = {
        tuple(key.split(">")): count(row["changes"]) for key, row in table(page, "transitions").items()
    }
    assert changes == seed.transitions(STORY, first, last)
    sources = table(page, "acquisition")
    assert {s: (count(r["signups"]), count(r["purchasers"])) for s, r in sources.items() if s != "all"} == (
        seed.signups(STORY, first, last)
    )
    assert count(sources["all"]["signups"]) == sum(n for n, _ in seed.signups(STORY, first, last).values())


def test_presets_and_the_table_of_days_work_from_the_keyboard(page: Page) -> None:
    open_reports(page, *MARCH)
    preset = page.get_by_role("link", name="Last 7 days")
    preset.focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("link", name="Last 7 days")).to_have_attribute("aria-current", "true")
    expect(page.locator("[data-range]")).to_contain_text("· 7 days")
    summary = page.locator("details.numbers summary")
    summary.focus()
    page.keyboard.press("Enter")
    expect(page.locator('[data-table="lifecycle"]')).to_be_visible()
    assert serious(page) == []


def test_a_range_without_customers_says_what_to_do(page: Page, artifacts: Path) -> None:
    page.goto("/ui/reports?from=2026-01-01&to=2026-01-31")
    expect(page.locator('[data-empty="lifecycle"]')).to_contain_text("No customers up to 2026-01-31")
    expect(page.locator('[data-empty="transitions"]')).to_contain_text("No stage changes in this range")
    expect(page.locator('[data-empty="acquisition"]')).to_contain_text("utm_source")
    expect(page.locator('[data-table="value"]')).to_be_visible()  # lifetime value is not of the range
    assert page.locator("[data-chart=lifecycle]").count() == 0
    assert serious(page) == []
    page.screenshot(path=str(artifacts / "reports-page-empty-range.png"))


def test_a_refused_range_answers_the_form_with_the_reason(browser: Browser, server: LiveServer) -> None:
    page, errors = open_page(browser, server)
    answer = page.goto("/ui/reports?from=2026-03-05&to=2026-03-01")
    assert answer is not None and answer.status == 422
    expect(page.locator("[data-range-error]")).to_contain_text("from (2026-03-05) is after to (2026-03-01)")
    expect(page.locator("#range-from")).to_have_value("2026-03-05")
    answer = page.goto("/ui/reports?from=2025-01-01&to=2026-03-01")
    assert answer is not None and answer.status == 422
    expect(page.locator("[data-range-error]")).to_contain_text("at most 366 days")
    answer = page.goto("/ui/reports?from=March&to=2026-03-01")
    assert answer is not None and answer.status == 422
    expect(page.locator("[data-range-error]")).to_contain_text("“From” is not a date (YYYY-MM-DD): March")
    page.context.close()
    assert set(errors) == {
        "Failed to load resource: the server responded with a status of 422 (Unprocessable Entity)"
    }


def test_the_page_with_data_has_no_serious_violation(page: Page) -> None:
    open_reports(page, *MARCH)
    assert serious(page) == []
