"""What the browser tests read from the pages: numbers on the nodes, boxes of what is drawn, and
waiting (not timing) for what customers do."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, TypeVar

from playwright.sync_api import Page

from tests.ui.live_server import LiveServer

T = TypeVar("T")

NODE_NUMBERS = """() => Object.fromEntries([...document.querySelectorAll('.journey-diagram [data-step]')].map(
  (g) => [g.dataset.step, Object.fromEntries([...g.querySelectorAll('[data-count]')].map(
    (c) => [c.dataset.count, Number(c.textContent.replace(/,/g, ''))]))]))"""

# The drawn box of every node (its shape) and every edge label (its box), in page coordinates.
BOXES = """() => {
  const box = (el) => { const r = el.getBoundingClientRect(); return [r.left, r.top, r.right, r.bottom]; };
  const nodes = [...document.querySelectorAll('.journey-diagram .node')].map(
    (g) => ({ what: `node ${g.dataset.step || g.dataset.kind}`, box: box(g.querySelector('.shape')) }));
  const labels = [...document.querySelectorAll('.journey-diagram .edge-label')].map(
    (g) => ({ what: `label ${g.dataset.edge}`, box: box(g.querySelector('rect')) }));
  return nodes.concat(labels);
}"""

# Every text inside a node of the diagrams ``selector`` finds must stay inside its shape.
SPILLS_IN = """(selector) => [...document.querySelectorAll(`${selector} .node`)].flatMap((g) => {
  const s = g.querySelector('.shape').getBoundingClientRect();
  return [...g.querySelectorAll('text')].filter((t) => {
    const r = t.getBoundingClientRect();
    return r.left < s.left || r.right > s.right || r.top < s.top || r.bottom > s.bottom;
  }).map((t) => `${g.dataset.step || g.dataset.kind}: ${t.textContent}`);
})"""


def text_spills(page: Page, selector: str = ".journey-diagram") -> list[str]:
    """Texts of the nodes drawn under ``selector`` that spill out of their shape (none expected)."""
    found: list[str] = page.evaluate(SPILLS_IN, selector)
    return found


def until(probe: Callable[[], T | None], *, seconds: float = 30.0, what: str = "it") -> T:
    """Poll ``probe`` until it returns something truthy; activities run in real time."""
    deadline = time.monotonic() + seconds
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"waited {seconds:.0f}s for {what}")
        time.sleep(0.1)


def current_step(server: LiveServer, customer_id: str, journey: str) -> str | None:
    answer = server.api.get(f"/v1/customers/{customer_id}")
    if answer.status_code != 200:
        return None
    for run in answer.json()["journeys"]:
        if run["journey"] == journey:
            return str(run["current_step"])
    return None


def open_journey(page: Page, name: str) -> None:
    page.goto(f"/ui/journeys/{name}")
    page.wait_for_selector("#diagram[data-drawn=true]")


def scroll_to(page: Page, selector: str) -> None:
    """Scroll the page so ``selector`` starts at the top of the window (for screenshots)."""
    page.locator(selector).evaluate("e => window.scrollTo(0, e.getBoundingClientRect().top + scrollY - 8)")


def node_numbers(page: Page) -> dict[str, dict[str, int]]:
    found: dict[str, dict[str, int]] = page.evaluate(NODE_NUMBERS)
    return found


def overlaps(boxes: list[dict[str, Any]]) -> list[str]:
    found = []
    for i, first in enumerate(boxes):
        for second in boxes[i + 1 :]:
            a, b = first["box"], second["box"]
            if a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]:
                found.append(f"{first['what']} overlaps {second['what']}")
    return found
