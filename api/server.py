"""``journeys api``: the HTTP API under uvicorn, logging through ``config.logs`` like every part."""

from __future__ import annotations

import uvicorn

from api.app import create_app
from config.exposure import refuse_unsafe_exposure
from config.settings import Settings


def serve_api(settings: Settings) -> None:
    """Serve until SIGINT/SIGTERM; uvicorn lets requests in flight finish. Beyond loopback, refuse to
    start while a secret has its development value."""
    refuse_unsafe_exposure("journeys api", settings, {"API": (settings.api_host, settings.api_port)})
    config = uvicorn.Config(
        create_app(settings),
        host=settings.api_host,
        port=settings.api_port,
        log_config=None,  # keep the root handler configure_logging installed
        proxy_headers=True,
        server_header=False,
        timeout_graceful_shutdown=int(settings.stop_grace_seconds),
    )
    uvicorn.Server(config).run()
