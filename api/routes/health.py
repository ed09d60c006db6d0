"""Liveness, readiness (Temporal and the store reachable) and Prometheus metrics."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import sqlalchemy as sa
from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST
from temporalio.api.workflowservice.v1 import GetSystemInfoRequest
from temporalio.client import Client

from api.deps import ClientDep, MetricsDep, SettingsDep, StoreDep
from api.errors import RETRY_AFTER_SECONDS
from api.schemas import Health, Readiness
from store.database import Store

router = APIRouter(tags=["health"])
CHECK_TIMEOUT = 3.0


async def temporal_ok(client: Client) -> str:
    try:
        await client.workflow_service.get_system_info(
            GetSystemInfoRequest(), timeout=timedelta(seconds=CHECK_TIMEOUT)
        )
    except Exception as exc:  # noqa: BLE001 - a readiness check reports any failure as not ready
        return f"unreachable: {type(exc).__name__}"
    return "ok"


async def store_ok(store: Store) -> str:
    try:
        async with asyncio.timeout(CHECK_TIMEOUT), store.engine.connect() as conn:
            await conn.execute(sa.text("SELECT 1"))
    except Exception as exc:  # noqa: BLE001 - a readiness check reports any failure as not ready
        return f"unreachable: {type(exc).__name__}"
    return "ok"


async def smtp_ok(host: str, port: int) -> str:
    """Whether the SMTP server accepts a connection and greets (a 220 line), without sending."""
    try:
        async with asyncio.timeout(CHECK_TIMEOUT):
            reader, writer = await asyncio.open_connection(host, port)
            try:
                greeting = await reader.readline()
                writer.write(b"QUIT\r\n")
                await writer.drain()
            finally:
                writer.close()
                await writer.wait_closed()
    except (OSError, TimeoutError) as exc:
        return f"unreachable: {type(exc).__name__}"
    return "ok" if greeting.startswith(b"220") else f"unexpected greeting: {greeting[:40]!r}"


@router.get("/healthz", response_model=Health, summary="The process is up")
async def healthz() -> Health:
    return Health()


@router.get(
    "/readyz",
    response_model=Readiness,
    responses={
        503: {
            "model": Readiness,
            "description": "Temporal or the store is unreachable",
            "headers": {"Retry-After": {"schema": {"type": "integer"}}},
        }
    },
    summary="Temporal and the store are reachable (and the SMTP server, else degraded)",
)
async def readyz(client: ClientDep, store: StoreDep, settings: SettingsDep) -> Readiness | JSONResponse:
    """503 while Temporal or the store is unreachable (events cannot be taken); 200 ``degraded``
    while only the SMTP server is: events are taken and sends retry until it is back."""
    temporal, database, smtp = await asyncio.gather(
        temporal_ok(client), store_ok(store), smtp_ok(settings.smtp_host, settings.smtp_port)
    )
    checks = {"temporal": temporal, "store": database, "smtp": smtp}
    if temporal == database == "ok":
        return Readiness(status="ready" if smtp == "ok" else "degraded", checks=checks)
    body = Readiness(status="unavailable", checks=checks)
    return JSONResponse(body.model_dump(), status_code=503, headers={"Retry-After": str(RETRY_AFTER_SECONDS)})


@router.get(
    "/metrics",
    response_class=Response,
    responses={
        200: {
            "content": {CONTENT_TYPE_LATEST: {"schema": {"type": "string"}}},
            "description": "Prometheus text",
        }
    },
    summary="Prometheus metrics",
)
async def metrics(registry: MetricsDep) -> Response:
    return Response(registry.render(), media_type=CONTENT_TYPE_LATEST)
