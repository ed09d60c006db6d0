"""A journey's results count the opens and clicks of its tracked emails per step and per split
variant: messages opened (a click without the pixel counts as an open) and messages clicked, once
each however often a customer comes back."""

from __future__ import annotations

from typing import Any

from tests.api.tracking.conftest import Tracked
from tests.api.tracking.test_tracking_http import hrefs, mail, pixel_of
from workflows.timing import pick_variant

# What each customer does with the email they get.
OPENS_ONLY, CLICKS_TWICE, OPENS_AND_CLICKS, IGNORES = "kim", "lee", "max", "ned"


def variant_of(customer_id: str) -> str:
    return "ab"[pick_variant("promo", "pick", customer_id, [50, 50], 0)]


async def test_results_count_messages_opened_and_clicked_per_step_and_variant(tracked: Tracked) -> None:
    for customer_id in (OPENS_ONLY, CLICKS_TWICE, OPENS_AND_CLICKS, IGNORES):
        html, _ = await mail(tracked, "promo", customer_id)
        sale = hrefs(html)[0]
        if customer_id in (OPENS_ONLY, OPENS_AND_CLICKS):
            assert (await tracked.http.get(pixel_of(html))).status_code == 200
            assert (await tracked.http.get(pixel_of(html))).status_code == 200  # a second view
        if customer_id in (CLICKS_TWICE, OPENS_AND_CLICKS):
            for _ in range(2 if customer_id == CLICKS_TWICE else 1):
                assert (await tracked.http.get(sale)).status_code == 302

    answer = await tracked.http.get("/v1/journeys/promo/results")

    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert (body["totals"]["opened"], body["totals"]["clicked"]) == (3, 2)
    steps: dict[str, dict[str, Any]] = {step["step"]: step for step in body["steps"]}
    assert (steps["pick"]["opened"], steps["pick"]["clicked"]) == (0, 0)  # sends nothing
    expected: dict[str, dict[str, int]] = {
        "a": {"sent": 0, "opened": 0, "clicked": 0},
        "b": {"sent": 0, "opened": 0, "clicked": 0},
    }
    for customer_id in (OPENS_ONLY, CLICKS_TWICE, OPENS_AND_CLICKS, IGNORES):
        counts = expected[variant_of(customer_id)]
        counts["sent"] += 1
        counts["opened"] += customer_id != IGNORES
        counts["clicked"] += customer_id in (CLICKS_TWICE, OPENS_AND_CLICKS)
    for variant, counts in expected.items():
        step = steps[f"mail_{variant}"]
        assert {key: step[key] for key in counts} == counts, variant
        [arm] = [v for v in step["variants"] if v["variant"] == variant]
        assert arm["split"] == "pick" and {key: arm[key] for key in counts} == counts, variant
