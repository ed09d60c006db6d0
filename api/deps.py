"""Dependencies as ``Annotated`` aliases: the parts the lifespan built, and the API-key check."""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from temporalio.client import Client

from api.metrics import Metrics
from config.settings import Settings
from ingest.router import EventRouter
from store.database import Store

_bearer = HTTPBearer(auto_error=False, description="one of the API keys from settings (JOURNEYS_API_KEYS)")


async def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def get_store(request: Request) -> Store:
    store: Store = request.app.state.store
    return store


async def get_router(request: Request) -> EventRouter:
    router: EventRouter = request.app.state.router
    return router


async def get_client(request: Request) -> Client:
    client: Client = request.app.state.client
    return client


async def get_metrics(request: Request) -> Metrics:
    metrics: Metrics = request.app.state.metrics
    return metrics


SettingsDep = Annotated[Settings, Depends(get_settings)]
StoreDep = Annotated[Store, Depends(get_store)]
RouterDep = Annotated[EventRouter, Depends(get_router)]
ClientDep = Annotated[Client, Depends(get_client)]
MetricsDep = Annotated[Metrics, Depends(get_metrics)]


async def require_api_key(
    settings: SettingsDep, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> None:
    """401 for a missing or wrong key, the same answer for both so a caller learns nothing."""
    given = credentials.credentials.encode("utf-8") if credentials else b""
    # Compare with every key (no early exit) so timing does not tell which key is close.
    matched = False
    for key in settings.api_keys:
        matched |= hmac.compare_digest(given, key.encode("utf-8"))
    if credentials is None or credentials.scheme.lower() != "bearer" or not matched:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED, detail="unauthorized", headers={"WWW-Authenticate": "Bearer"}
        )
