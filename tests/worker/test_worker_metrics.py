"""The worker's Prometheus metrics: activities by kind and outcome, sends by channel and outcome, SMTP
failures and retries, and the SDK's own workflow task latency — read from its real endpoint."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from pathlib import Path

import httpx

from engine.loader import load_directory
from simulate.sandbox import Sandbox
from tests.support import free_port
from worker.metrics import process_runtime

JOURNEYS = Path(__file__).resolve().parents[2] / "journeys"
ADA = {"email": "ada@example.com", "first_name": "Ada"}


def value(metrics: str, name: str, **labels: str) -> float:
    """The sample of ``name`` whose labels include ``labels`` (0 if there is none)."""
    for line in metrics.splitlines():
        match = re.match(rf"^{name}\{{(.*)\}} (\S+)$", line)
        if match and all(f'{key}="{val}"' in match.group(1) for key, val in labels.items()):
            return float(match.group(2))
    return 0.0


async def scrape(port: int) -> str:
    async with httpx.AsyncClient() as http:
        return (await http.get(f"http://127.0.0.1:{port}/metrics")).text


async def until(port: int, done: Callable[[str], bool], seconds: float = 30) -> str:
    """Scrape the metrics until ``done`` says they show what is awaited (or ``seconds`` pass)."""
    deadline = asyncio.get_running_loop().time() + seconds
    while True:
        metrics = await scrape(port)
        if done(metrics) or asyncio.get_running_loop().time() > deadline:
            return metrics
        await asyncio.sleep(0.3)


async def test_sends_refusals_and_an_smtp_outage_show_in_the_worker_metrics(tmp_path: Path) -> None:
    port = free_port()
    plans = [plan for plan in load_directory(JOURNEYS) if plan.journey == "onboarding"]
    runtime = process_runtime(f"127.0.0.1:{port}")
    async with Sandbox.open(plans, workdir=tmp_path, runtime=runtime, refuse=["bob@example.com"]) as sandbox:
        await sandbox.event("signed_up", "ada", traits=ADA)
        await sandbox.event("signed_up", "bob", traits={"email": "bob@example.com", "first_name": "Bob"})
        first = await until(
            port,
            lambda m: (
                value(m, "journeys_sends", channel="email", outcome="sent") >= 1
                and value(m, "journeys_activities", activity="send_email", outcome="failed") >= 1
                and value(m, "journeys_activities", activity="award", outcome="completed") >= 1
            ),
        )
        sandbox.outbox.stop()  # SMTP goes down: the next send retries until it is back
        await sandbox.event("signed_up", "cyd", traits={"email": "cyd@example.com", "first_name": "Cyd"})
        down = await until(
            port,
            lambda m: (
                value(m, "journeys_smtp_failures") >= 1
                and value(m, "journeys_activities", activity="send_email", outcome="retrying") >= 1
                and value(m, "journeys_sends", channel="email", outcome="retrying") >= 1
            ),
        )
        sandbox.outbox.start()
        recovered = await until(
            port,
            lambda m: (
                value(m, "journeys_sends", channel="email", outcome="sent") >= 2
                and value(m, "journeys_activity_retries", activity="send_email") >= 1
            ),
        )

    assert value(first, "journeys_activities", activity="send_email", outcome="completed") == 1
    assert value(first, "journeys_sends", channel="email", outcome="failed") == 1  # bob: 550, permanent
    assert value(first, "journeys_activities", activity="award", outcome="completed") >= 1
    assert "temporal_workflow_task_execution_latency" in first
    assert value(down, "journeys_activities", activity="send_email", outcome="retrying") >= 1
    assert value(down, "journeys_sends", channel="email", outcome="retrying") >= 1
    assert value(recovered, "journeys_sends", channel="email", outcome="sent") == 2
    assert value(recovered, "journeys_activity_retries", activity="send_email") >= 1
