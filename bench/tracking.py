"""What engagement tracking costs a send: the send_email activity with tracking on against the same
journey with ``tracking: false``, through the real store (SQLite file) and the real Outbox (SMTP).

    .venv/bin/python -m bench.tracking [--rounds 6] [--sends 200]

Each round runs each side in its own process (a fresh store and Outbox), the order alternating
from round to round; a side times ``--sends`` sends of a three-link email to distinct customers
(after 20 unmeasured ones) and reports its median. Tracking on adds the rewrite (HTML parse, an
HMAC per link and the pixel) and writing the tracked message and its links in the send intent's
transaction. Prints each side's per-send median (min/median/max over rounds) and the ratio on/off
per round (min/median/max). Not a test.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from activities.journey_activities import JourneyActivities
from bench.machine import describe
from config.settings import Settings
from contracts.activities import SendEmailRequest
from engine.loader import load_directory
from outbox.server import OutboxServer
from simulate.sandbox import free_port
from store import Store
from tests.api.tracking.conftest import journeys_folder
from tests.support.events import RecordingEventSink

WARM_UP = 20
AT = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


async def side(journey: str, sends: int) -> float:
    """The median milliseconds of one send of ``journey``'s email (promo: tracked; receipt: not)."""
    with tempfile.TemporaryDirectory(prefix="bench-tracking-") as tmp:
        root = Path(tmp)
        (root / "journeys").mkdir()
        plans = {plan.journey: plan for plan in load_directory(journeys_folder(root / "journeys"))}
        outbox = OutboxServer("127.0.0.1", free_port(), root / "outbox")
        outbox.start()
        settings = Settings(
            _env_file=None,
            data_dir=root,
            smtp_port=outbox.port,
            unsubscribe_secret="bench-tracking-secret-0123456789",
        )
        store = Store(f"sqlite+aiosqlite:///{root / 'journeys.db'}")
        await store.migrate()
        plan = plans[journey]
        await store.deployments.deploy(plan, source="")
        activities = JourneyActivities(store, settings, RecordingEventSink())
        step = plan.node(plan.start if journey == "receipt" else "mail_a").id
        times: list[float] = []
        try:
            for n in range(WARM_UP + sends):
                customer = f"cust-{n}"
                await store.customers.upsert(
                    customer, {"email": f"{customer}@example.com", "first_name": "Ada"}
                )
                request = SendEmailRequest(
                    key=f"{journey}/{customer}/e1/{step}/1",
                    workflow_id=f"{journey}/{customer}",
                    journey=journey,
                    version=plan.version,
                    step=step,
                    customer_id=customer,
                    at=AT,
                    template="promo",
                    data={"variants": {"pick": "a"}} if journey == "promo" else {},
                )
                started = time.perf_counter()
                result = await activities.send_email(request)
                elapsed = time.perf_counter() - started
                assert result.status == "sent", result
                if n >= WARM_UP:
                    times.append(elapsed * 1000)
        finally:
            await activities.close()
            await store.close()
            outbox.stop()
        return statistics.median(times)


def spread(values: list[float]) -> str:
    return f"{min(values):.3f} / {statistics.median(values):.3f} / {max(values):.3f}"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--sends", type=int, default=200)
    parser.add_argument("--side", choices=["promo", "receipt"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.side:
        print(json.dumps(asyncio.run(side(args.side, args.sends))))
        return
    print(describe())  # how fast this machine runs Python now: bench.machine
    medians: dict[str, list[float]] = {"promo": [], "receipt": []}
    ratios: list[float] = []
    for round_ in range(args.rounds):
        order = ["promo", "receipt"] if round_ % 2 == 0 else ["receipt", "promo"]
        found: dict[str, float] = {}
        for journey in order:
            command = [sys.executable, "-m", "bench.tracking", "--side", journey, "--sends", str(args.sends)]
            output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
            found[journey] = float(output.strip().splitlines()[-1])
            medians[journey].append(found[journey])
        ratios.append(found["promo"] / found["receipt"])
        print(
            f"round {round_ + 1}: tracked {found['promo']:.3f} ms, untracked {found['receipt']:.3f} ms",
            flush=True,
        )
    print(f"per send, tracking on  (ms, min / median / max of round medians): {spread(medians['promo'])}")
    print(f"per send, tracking off (ms, min / median / max of round medians): {spread(medians['receipt'])}")
    print(f"ratio on / off per round (min / median / max): {spread(ratios)}")


if __name__ == "__main__":
    main()
