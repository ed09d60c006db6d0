"""Helpers for the API tests: waiting for what a journey does in (real) time, and event payloads."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import httpx

T = TypeVar("T")


async def eventually(probe: Callable[[], Awaitable[T | None]], *, seconds: float = 15.0) -> T:
    """Poll ``probe`` until it returns something truthy (activities run in real time)."""
    deadline = asyncio.get_running_loop().time() + seconds
    while True:
        value = await probe()
        if value:
            return value
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"nothing after {seconds}s")
        await asyncio.sleep(0.05)


def event(name: str, customer_id: str, **extra: Any) -> dict[str, Any]:
    return {"event_id": uuid.uuid4().hex, "customer_id": customer_id, "name": name, **extra}


async def current_step(api: httpx.AsyncClient, customer_id: str, journey: str) -> str | None:
    response = await api.get(f"/v1/customers/{customer_id}")
    if response.status_code != 200:
        return None
    for run in response.json()["journeys"]:
        if run["journey"] == journey:
            return str(run["current_step"])
    return None


async def at_step(api: httpx.AsyncClient, customer_id: str, journey: str, step: str) -> bool:
    return await current_step(api, customer_id, journey) == step
