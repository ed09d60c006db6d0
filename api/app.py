"""``create_app``: the FastAPI application, its lifespan (Temporal, store, router) and middleware.

Parts passed in (tests, the sandbox, the embedded stack) are used as they are and not closed;
parts not passed in are created in the lifespan from settings and closed at shutdown.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Any

from fastapi import APIRouter, Depends, FastAPI
from temporalio.client import Client

from api.auth import SignInRequired, require_principal
from api.errors import install_handlers
from api.limits import BodyLimitMiddleware
from api.metrics import Metrics, MetricsMiddleware
from api.routes import (
    bounces,
    channels,
    customers,
    events,
    health,
    journeys,
    leaderboards,
    loyalty,
    outbox,
    points,
    referrals,
    reports,
    segments,
    sign_in,
    tracking,
    unsubscribe,
    versions,
)
from api.routes.edits import router as edits_router
from api.schemas import DATA_VALUE_NAME, DATA_VALUE_SCHEMA
from api.ui.routes import STATIC_URL, static_files
from api.ui.routes import router as ui_router
from config.exposure import is_loopback
from config.settings import Settings, get_settings
from ingest.router import EventRouter
from store.database import Store
from worker.connection import connect
from worker.metrics import process_runtime

log = logging.getLogger("journeys.api")

DESCRIPTION = """
Send customer events and traits; read customers, points and journeys; deploy journeys.

Every `/v1` route needs `Authorization: Bearer <key>`. Events are idempotent by `event_id`: on any
error or timeout, send the same event again. A 503 carries `Retry-After`: send the same request
again then (nothing was acknowledged, except by a batch that spent its time budget: the events it
delivered come back as duplicates).
"""


def _document_data_values(app: FastAPI) -> None:
    """Add the ``DataValue`` component that event properties and traits refer to (``api.schemas``)."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        document = build()
        document.setdefault("components", {}).setdefault("schemas", {})[DATA_VALUE_NAME] = DATA_VALUE_SCHEMA
        return document

    app.openapi = openapi  # type: ignore[method-assign]


def create_app(
    settings: Settings | None = None,
    *,
    client: Client | None = None,
    store: Store | None = None,
    router: EventRouter | None = None,
) -> FastAPI:
    config = settings or get_settings()
    metrics = Metrics()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with AsyncExitStack() as owned:
            the_store = store
            if the_store is None:
                the_store = Store(config.store_url())
                owned.push_async_callback(the_store.close)
                await the_store.migrate()
            the_client = client or await connect(
                config.temporal_address, config.temporal_namespace, runtime=process_runtime(None)
            )
            the_router = router
            if the_router is None:
                the_router = EventRouter(the_client, the_store, config.task_queue)
                owned.push_async_callback(the_router.close)  # its last writes, before the store closes
                await the_router.reload()
                the_router.segments.load(config.journeys_dir)  # journeys/segments/*.yaml
            app.state.store, app.state.client, app.state.router = the_store, the_client, the_router
            yield

    app = FastAPI(
        title="Journeys",
        version="1.0.0",
        description=DESCRIPTION,
        lifespan=lifespan,
        openapi_tags=[
            {"name": "events", "description": "What customers do; starts and moves journeys"},
            {"name": "customers", "description": "Traits, consent, journeys in flight, erasure"},
            {"name": "points", "description": "The loyalty points ledger"},
            {
                "name": "loyalty",
                "description": "The loyalty program, rewards and vouchers, wallets and ledgers",
            },
            {"name": "referrals", "description": "Referral codes, referees and refusals; challenge progress"},
            {"name": "leaderboards", "description": "Points earned per week or month, ranked; opting out"},
            {"name": "segments", "description": "Audiences of journeys/segments and their sizes"},
            {
                "name": "channels",
                "description": "The channel policy: classes, frequency caps, quiet hours, control group",
            },
            {
                "name": "journeys",
                "description": "Deploy, review, roll back, inspect, pause and measure journeys",
            },
            {"name": "reports", "description": "Journey results and A/B tests, lifecycle, CLV, acquisition"},
            {"name": "unsubscribe", "description": "Links in every email (RFC 8058)"},
            {"name": "tracking", "description": "Open pixel and signed click redirects of emails"},
            {"name": "webhooks", "description": "Bounces and complaints from the email provider"},
            {"name": "health", "description": "For load balancers and Prometheus"},
        ],
    )
    app.state.settings = config
    app.state.metrics = metrics
    # Parts handed in are usable at once, even by a server that runs no lifespan.
    app.state.store, app.state.client, app.state.router = store, client, router
    install_handlers(app)
    _document_data_values(app)
    v1 = APIRouter(prefix="/v1", dependencies=[Depends(require_principal)])
    for module in (
        events,
        customers,
        points,
        loyalty,
        journeys,
        versions,
        referrals,
        leaderboards,
        reports,
        segments,
        channels,
    ):
        v1.include_router(module.router)
    v1.include_router(bounces.router)
    v1.include_router(edits_router)
    app.include_router(v1)
    app.include_router(unsubscribe.router)
    app.include_router(tracking.router)
    app.include_router(sign_in.router)
    app.add_exception_handler(SignInRequired, sign_in.redirect_to_sign_in)
    app.include_router(ui_router)
    app.mount(STATIC_URL, static_files(), name="ui-static")
    app.include_router(health.router)
    if config.outbox_page and is_loopback(config.api_host):
        app.include_router(outbox.router)  # every email and its links: never beyond this machine
    elif config.outbox_page:
        log.warning("Outbox page off: the API listens on %s, beyond loopback", config.api_host)
    # Outermost first: time everything, including bodies refused for size.
    app.add_middleware(BodyLimitMiddleware, max_body_bytes=config.max_body_bytes)
    app.add_middleware(MetricsMiddleware, metrics=metrics)
    return app
