"""Journey results on a simulated forecast whose truth the test knows: the shipped onboarding journey
on the time-skipping server (real workflow, activities, store and SMTP server), customers whose
purchases, amounts and unsubscribes the test sends at known times, and GET /v1/journeys/onboarding/results
over HTTP must give exactly the counts and revenue the story has by construction, and the verdicts
``measurement.significance`` gives on those counts.

The onboarding story: signed up at day 0 (welcome), no profile (nudge at day 3), no purchase by day 10
(the split pick_offer: discount, free_shipping, 10% control who leave the journey). By arm, every k-th
customer buys on day 12 (inside the 14-day goal: a conversion); some variant customers unsubscribe on
day 11 (the day after their offer); some buy on day 16, after the goal's window but inside the 7-day
attribution window of their offer; some control customers buy on day 16 (no conversion, no message
within 7 days).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio

from api.app import create_app
from engine.loader import compile_file
from measurement.significance import compare
from simulate.sandbox import Sandbox
from workflows.timing import pick_variant

JOURNEYS_DIR = Path(__file__).resolve().parents[3] / "journeys"
KEY = "reports-test-key"
CUSTOMERS = 80
DAY = timedelta(days=1)
STEP_OF = {"discount": "offer_discount", "free_shipping": "offer_free_shipping"}


@dataclass
class Truth:
    arms: dict[str, list[str]] = field(default_factory=dict)
    converters: dict[str, list[str]] = field(default_factory=dict)
    unsubscribers: list[str] = field(default_factory=list)
    late_buyers: list[str] = field(default_factory=list)  # day 16
    amount: dict[str, float] = field(default_factory=dict)


def amount_of(index: int) -> float:
    return round(10 + (index % 9) * 3.35, 2)


def story(ids: list[str]) -> Truth:
    truth = Truth()
    for cid in ids:
        index = pick_variant("onboarding", "pick_offer", cid, [50, 50], 10)
        arm = "control" if index < 0 else ("discount", "free_shipping")[index]
        truth.arms.setdefault(arm, []).append(cid)
    every = {"discount": 2, "free_shipping": 3, "control": 4}
    for arm, members in truth.arms.items():
        truth.converters[arm] = [cid for k, cid in enumerate(members) if k % every[arm] == 0]
        rest = [cid for k, cid in enumerate(members) if k % every[arm] != 0]
        if arm == "control":
            truth.late_buyers += rest[::3]
        else:
            truth.unsubscribers += rest[::4]
            truth.late_buyers += rest[1::4]
    for n, cid in enumerate(ids):
        truth.amount[cid] = amount_of(n)
    return truth


@pytest_asyncio.fixture(loop_scope="session", scope="module")
async def forecast(
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[tuple[httpx.AsyncClient, Truth]]:
    plan = compile_file(JOURNEYS_DIR / "onboarding.yaml")
    async with Sandbox.open(
        [plan], workdir=tmp_path_factory.mktemp("forecast"), settings={"api_keys": [KEY]}
    ) as sandbox:
        ids = [f"forecast-{n:03d}" for n in range(CUSTOMERS)]
        truth = story(ids)

        async def send(name: str, members: list[str], properties: dict[str, Any] | None = None) -> None:
            for start in range(0, len(members), 20):
                await asyncio.gather(
                    *(
                        sandbox.event(
                            name,
                            cid,
                            properties or {"total": truth.amount[cid]},
                            traits={"email": f"{cid}@example.com", "utm_source": "ads"}
                            if properties
                            else None,
                        )
                        for cid in members[start : start + 20]
                    )
                )

        await send("signed_up", ids, {"plan": "free"})
        await sandbox.sleep(11 * DAY)
        for cid in truth.unsubscribers:
            await sandbox.event("unsubscribed", cid)
        await sandbox.sleep(DAY)
        await send("purchase_completed", [cid for members in truth.converters.values() for cid in members])
        await sandbox.sleep(4 * DAY)
        await send("purchase_completed", truth.late_buyers)
        await sandbox.sleep(3 * DAY)  # day 19: every run has ended
        app = create_app(sandbox.settings, client=sandbox.client, store=sandbox.store, router=sandbox.router)
        transport = httpx.ASGITransport(app=app)
        headers = {"Authorization": f"Bearer {KEY}"}
        async with httpx.AsyncClient(transport=transport, base_url="http://api.test", headers=headers) as api:
            yield api, truth


def cents(customers: list[str], truth: Truth) -> float:
    return round(sum(round(truth.amount[cid] * 100) for cid in customers) / 100, 2)


async def test_results_equal_the_forecast(forecast: tuple[httpx.AsyncClient, Truth]) -> None:
    api, truth = forecast
    response = await api.get("/v1/journeys/onboarding/results")
    assert response.status_code == 200, response.text
    body = response.json()
    steps = {step["step"]: step for step in body["steps"]}
    variants = {(v["variant"], step["step"]): v for step in body["steps"] for v in step["variants"]}
    variant_converters = truth.converters["discount"] + truth.converters["free_shipping"]

    assert body["totals"]["entered"] == CUSTOMERS
    assert body["totals"]["converted"] == len(variant_converters)  # control left at the split
    assert steps["welcome"]["delivered"] == steps["welcome"]["sent"] == CUSTOMERS
    assert steps["nudge_profile"]["delivered"] == CUSTOMERS
    assert steps["pick_offer"]["entered"] == CUSTOMERS
    late_in_variants = [cid for cid in truth.late_buyers if cid not in truth.arms["control"]]
    for arm, step in STEP_OF.items():
        members = truth.arms[arm]
        late = [cid for cid in late_in_variants if cid in members]
        assert steps[step]["delivered"] == len(members)
        assert variants[(arm, step)]["delivered"] == len(members)
        assert variants[(arm, "wait_offer")]["converted"] == len(truth.converters[arm])
        assert variants[(arm, "wait_offer")]["goal_revenue"] == cents(truth.converters[arm], truth)
        # Purchases on day 12 and 16 were within 7 days of the offer, the last message before them.
        assert steps[step]["attributed_purchases"] == len(truth.converters[arm]) + len(late)
        assert steps[step]["attributed_revenue"] == cents(truth.converters[arm] + late, truth)
        assert steps[step]["unsubscribed"] == len([cid for cid in truth.unsubscribers if cid in members])
        assert variants[(arm, "welcome")]["entered"] == len(members)
    assert steps["wait_offer"]["goal_revenue"] == cents(variant_converters, truth)
    assert body["totals"]["goal_revenue"] == cents(variant_converters, truth)
    # Control customers' purchases came 9 and 13 days after their last message: not attributed.
    assert body["totals"]["attributed_purchases"] == len(variant_converters) + len(late_in_variants)
    assert steps["thank_you"]["delivered"] == len(variant_converters) + len(late_in_variants)
    assert body["totals"]["unsubscribed"] == len(truth.unsubscribers)
    assert ("control", "offer_discount") not in variants
    assert variants[("control", "pick_offer")]["entered"] == len(truth.arms["control"])

    (split,) = body["splits"]
    assert split["split"] == "pick_offer" and split["baseline"] == "control"
    arms = {arm["variant"]: arm for arm in split["arms"]}
    assert set(arms) == {"discount", "free_shipping", "control"}
    for arm, members in truth.arms.items():
        assert arms[arm]["customers"] == len(members)
        assert arms[arm]["converted"] == len(truth.converters[arm])
        assert arms[arm]["revenue"] == cents(truth.converters[arm], truth)  # day 16 is past the goal
    control = truth.arms["control"]
    for arm in STEP_OF:
        expected = compare(
            len(truth.converters[arm]), len(truth.arms[arm]), len(truth.converters["control"]), len(control)
        )
        found = arms[arm]["comparison"]
        assert found["against"] == "control"
        assert found["verdict"] == expected.verdict
        assert found["z"] == pytest.approx(expected.z)
        assert expected.absolute_interval is not None
        assert found["absolute_interval"] == {
            "low": pytest.approx(expected.absolute_interval.low),
            "high": pytest.approx(expected.absolute_interval.high),
        }
        assert found["needed_per_arm"] == expected.needed_per_arm
    assert arms["control"]["comparison"] is None


async def test_results_bounds(forecast: tuple[httpx.AsyncClient, Truth]) -> None:
    api, _ = forecast
    assert (await api.get("/v1/journeys/nothing_here/results")).status_code == 404
    assert (await api.get("/v1/journeys/onboarding/results?window_days=0")).status_code == 422
    assert (await api.get("/v1/journeys/onboarding/results?window_days=91")).status_code == 422
    assert (await api.get("/v1/journeys/onboarding/results?alpha=0.9")).status_code == 422
    assert (await api.get("/v1/journeys/Bad-Name/results")).status_code == 422
    narrow = (await api.get("/v1/journeys/onboarding/results?window_days=1")).json()
    assert narrow["totals"]["attributed_purchases"] == 0  # every purchase came 2 or more days after
