"""Loyalty activity for the browser tests, made the way production makes it: events through the API
(the example program, journeys/loyalty.yaml, is deployed by the live server), redemptions and
referral codes through their routes, and, for what lies in the past, the store and the loyalty
activities on the server's own event loop."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from activities.loyalty import LoyaltyActivities
from simulate.sandbox import Sandbox
from store.types import utcnow
from tests.ui.live_server import LiveServer
from tests.ui.reading import until


def wallet(server: LiveServer, customer_id: str) -> dict[str, Any]:
    answer = server.api.get(f"/v1/customers/{customer_id}/wallet")
    assert answer.status_code == 200, answer.text
    found: dict[str, Any] = answer.json()
    return found


def wait_for_wallet(server: LiveServer, customer_id: str, **expected: int) -> dict[str, Any]:
    """Wait until the customer's wallet has ``expected`` (e.g. available=700); the loyalty run
    applies events in real time."""

    def matches() -> dict[str, Any] | None:
        known = server.api.get(f"/v1/customers/{customer_id}").is_success
        found = wallet(server, customer_id) if known else {}
        return found if found and all(found[key] == value for key, value in expected.items()) else None

    return until(matches, what=f"{customer_id}'s wallet to hold {expected}")


def referral_code(server: LiveServer, customer_id: str) -> str:
    answer = server.api.get(f"/v1/customers/{customer_id}/referral-code")
    assert answer.status_code == 200, answer.text
    return str(answer.json()["code"])


def redeem(server: LiveServer, customer_id: str, reward: str, key: str) -> dict[str, Any]:
    answer = server.api.post(f"/v1/customers/{customer_id}/rewards/{reward}/redeem", json={"key": key})
    assert answer.status_code == 200, answer.text
    found: dict[str, Any] = answer.json()
    return found


def review(server: LiveServer, customer_id: str) -> None:
    """A verified review: 100 points available at once (the program's ``first_review`` rule)."""
    server.event("review_posted", customer_id, properties={"verified_purchase": True})


def earned_a_year_ago(server: LiveServer, customer_id: str, points: int) -> None:
    """Points given 365 days ago (when they reached a tier), then the loyalty run's settle of today:
    those points have left the 12-month window and expired, so a downgrade is scheduled."""

    answer = server.api.put(f"/v1/customers/{customer_id}", json={"email": f"{customer_id}@example.com"})
    assert answer.is_success, answer.text

    async def work(sandbox: Sandbox) -> None:
        now = utcnow()
        then = now - timedelta(days=365)
        await sandbox.store.points.award(f"seed/{customer_id}", customer_id, points, "Welcome gift", at=then)
        activities = LoyaltyActivities(sandbox.store, sandbox.router)
        for moment in (then, now):
            await activities.settle_at(customer_id, moment)

    server.call(work)


def award(
    server: LiveServer, customer_id: str, key: str, points: int, reason: str, at: datetime | None = None
) -> None:
    """An award keyed ``key``, booked at ``at`` (now when None; earlier for a past leaderboard
    period), as a journey's award step books it."""

    async def work(sandbox: Sandbox) -> None:
        await sandbox.store.points.award(f"seed/{key}", customer_id, points, reason, at=at)

    server.call(work)
