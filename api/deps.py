"""Dependencies as ``Annotated`` aliases: the parts the lifespan built (who is asking: ``api.auth``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from temporalio.client import Client

from api.metrics import Metrics
from config.settings import Settings
from ingest.router import EventRouter
from store.database import Store


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
