"""A 2,000-customer forecast of the onboarding journey's split, written into the store the way the
journey's activities and the intake write it (step records, deliveries, purchase events), with
conversion rates fixed by construction (30% discount, 24% free shipping, 20% control) and known
amounts: the results equal the truth exactly, and the verdicts are the statistics' on those counts
(discount wins against control; free shipping is inconclusive, with the sample size it needs).
On SQLite and PostgreSQL; no Temporal, so it takes seconds."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

from api.app import create_app
from config.settings import Settings
from contracts.activities import DeliveryResult
from contracts.records import StepRecord
from engine.loader import compile_file
from engine.plan import Plan
from measurement.journey_results import journey_results
from measurement.significance import compare
from store import Store
from store.events import Claim
from workflows.timing import pick_variant

JOURNEYS_DIR = Path(__file__).resolve().parents[2] / "journeys"
CUSTOMERS = 2000
RATES = {"discount": (30, 100), "free_shipping": (24, 100), "control": (20, 100)}
NEXT = {"discount": "offer_discount", "free_shipping": "offer_free_shipping"}
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
DAY = timedelta(days=1)
KEY = "forecast-key"


def converts(k: int, rate: tuple[int, int]) -> bool:
    """Exactly ``rate`` of an arm's members convert: the k-th when the running share steps up."""
    num, den = rate
    return (k + 1) * num // den > k * num // den


def amount_cents(n: int) -> int:
    return 1999 + (n % 13) * 250


async def write_forecast(store: Store, plan: Plan, customers: int = CUSTOMERS) -> dict[str, dict[str, int]]:
    await store.deployments.deploy(plan, source="")
    truth: dict[str, dict[str, int]] = {
        arm: {"customers": 0, "converted": 0, "cents": 0, "attributed": 0, "attributed_cents": 0, "failed": 0}
        for arm in RATES
    }
    records: list[StepRecord] = []
    claims: list[Claim] = []
    sends: list[tuple[str, str, str, bool]] = []  # customer, step, workflow, failed
    for n in range(customers):
        cid = f"c-{n:04d}"
        wid = f"journey/onboarding/{cid}"
        index = pick_variant("onboarding", "pick_offer", cid, [50, 50], 10)
        arm = "control" if index < 0 else ("discount", "free_shipping")[index]
        k = truth[arm]["customers"]
        truth[arm]["customers"] += 1

        def record(
            step: str | None, kind: str, detail: str, at: datetime, cid: str = cid, wid: str = wid
        ) -> None:
            records.append(
                StepRecord(
                    journey="onboarding",
                    version=plan.version,
                    workflow_id=wid,
                    customer_id=cid,
                    step=step,
                    kind=kind,
                    detail=detail,
                    at=at,
                    entry="signup",
                    seq=sum(1 for r in records[-8:] if r.workflow_id == wid),
                )
            )

        record(None, "journey_entered", "signed_up", T0)
        record("pick_offer", "entered", "", T0 + 10 * DAY)
        if arm == "control":
            record("pick_offer", "completed", "left: control group of pick_offer", T0 + 10 * DAY)
            record("pick_offer", "journey_exited", "control: control group of pick_offer", T0 + 10 * DAY)
        else:
            record("pick_offer", "completed", NEXT[arm], T0 + 10 * DAY)
            record(NEXT[arm], "entered", "", T0 + 10 * DAY)
            failed = n % 50 == 7
            sends.append((cid, NEXT[arm], wid, failed))
            truth[arm]["failed"] += failed
            record("wait_offer", "entered", "", T0 + 10 * DAY)
        if converts(k, RATES[arm]):
            bought = T0 + 12 * DAY + timedelta(minutes=n % 60)
            claims.append(
                Claim(
                    f"buy-{cid}",
                    cid,
                    "purchase_completed",
                    bought,
                    properties={"total": amount_cents(n) / 100},
                )
            )
            truth[arm]["converted"] += 1
            truth[arm]["cents"] += amount_cents(n)
            if arm != "control":
                record("wait_offer", "converted", "purchase_completed", bought + timedelta(seconds=1))
                if not failed:
                    truth[arm]["attributed"] += 1
                    truth[arm]["attributed_cents"] += amount_cents(n)
    await store.steps.record(records)
    for cid, step, wid, failed in sends:
        result = DeliveryResult(
            status="failed" if failed else "sent", channel="email", recipient=f"{cid}@x.test"
        )
        await store.deliveries.record(
            f"{wid}/signup/{step}/1",
            result,
            customer_id=cid,
            journey="onboarding",
            version=plan.version,
            step=step,
            at=T0 + 10 * DAY,
        )
    await store.events.intake(claims, stale_after=timedelta(minutes=2))
    return truth


async def test_a_2000_customer_forecast(store: Store) -> None:
    plan = compile_file(JOURNEYS_DIR / "onboarding.yaml")
    truth = await write_forecast(store, plan)
    assert sum(arm["customers"] for arm in truth.values()) == CUSTOMERS

    app = create_app(Settings(_env_file=None, api_keys=[KEY]), store=store)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://api.test", headers={"Authorization": f"Bearer {KEY}"}
    ) as api:
        response = await api.get("/v1/journeys/onboarding/results")
    assert response.status_code == 200, response.text
    body = response.json()
    steps = {step["step"]: step for step in body["steps"]}
    variants = {(v["variant"], step["step"]): v for step in body["steps"] for v in step["variants"]}
    (split,) = body["splits"]
    arms = {arm["variant"]: arm for arm in split["arms"]}
    for arm, expected in truth.items():
        assert arms[arm]["customers"] == expected["customers"]
        assert arms[arm]["converted"] == expected["converted"]
        assert round(arms[arm]["revenue"] * 100) == expected["cents"]
        assert variants[(arm, "pick_offer")]["entered"] == expected["customers"]
    for arm, step in NEXT.items():
        expected = truth[arm]
        assert steps[step]["sent"] == expected["customers"]
        assert steps[step]["failed"] == expected["failed"]
        assert steps[step]["delivered"] == expected["customers"] - expected["failed"]
        assert variants[(arm, "wait_offer")]["converted"] == expected["converted"]
        assert round(variants[(arm, "wait_offer")]["goal_revenue"] * 100) == expected["cents"]
        assert steps[step]["attributed_purchases"] == expected["attributed"]
        assert round(steps[step]["attributed_revenue"] * 100) == expected["attributed_cents"]
    variant_cents = truth["discount"]["cents"] + truth["free_shipping"]["cents"]
    assert round(body["totals"]["goal_revenue"] * 100) == variant_cents
    assert body["totals"]["converted"] == truth["discount"]["converted"] + truth["free_shipping"]["converted"]

    control = truth["control"]
    verdicts = {}
    for arm in NEXT:
        stats = compare(
            truth[arm]["converted"], truth[arm]["customers"], control["converted"], control["customers"]
        )
        found = arms[arm]["comparison"]
        assert found["verdict"] == stats.verdict
        assert found["p_value"] == stats.p_value
        assert found["needed_per_arm"] == stats.needed_per_arm
        assert found["more_needed_per_arm"] == stats.more_needed_per_arm
        verdicts[arm] = found["verdict"]
    assert verdicts == {"discount": "winner", "free_shipping": "inconclusive"}
    assert arms["free_shipping"]["comparison"]["more_needed_per_arm"] > 0


async def test_the_pages_add_up(store: Store) -> None:
    """The results read customer by customer in pages: pages of 7 give what one page gives."""
    plan = compile_file(JOURNEYS_DIR / "onboarding.yaml")
    await write_forecast(store, plan, customers=300)
    async with store.engine.connect() as conn:
        whole = await journey_results(conn, plan, window=7 * DAY, page=5000)
        paged = await journey_results(conn, plan, window=7 * DAY, page=7)
    assert paged == whole
