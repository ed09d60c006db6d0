"""``journeys api``: the HTTP API under uvicorn, logging through ``config.logs`` like every part."""

from __future__ import annotations

import uvicorn
from fastapi import FastAPI

from api.app import create_app
from config.exposure import refuse_unsafe_exposure
from config.settings import Settings


def server_config(settings: Settings, app: FastAPI) -> uvicorn.Config:
    """How ``journeys api`` serves ``app``: host, port and HTTP parser from settings ("auto":
    httptools where installed, else h11), uvloop where installed."""
    return uvicorn.Config(
        app,
        host=settings.api_host,
        port=settings.api_port,
        http=settings.api_http,
        loop="auto",
        log_config=None,  # keep the root handler configure_logging installed
        proxy_headers=True,
        server_header=False,
        timeout_graceful_shutdown=int(settings.stop_grace_seconds),
    )


def serve_api(settings: Settings) -> None:
    """Serve until SIGINT/SIGTERM; uvicorn lets requests in flight finish. Beyond loopback, refuse to
    start while a secret has its development value."""
    refuse_unsafe_exposure("journeys api", settings, {"API": (settings.api_host, settings.api_port)})
    uvicorn.Server(server_config(settings, create_app(settings))).run()
