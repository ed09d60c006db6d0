"""Prometheus metrics, one ``CollectorRegistry`` per app (so tests can build many apps in a process)."""

from __future__ import annotations

import time

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from starlette.types import ASGIApp, Message, Receive, Scope, Send

EVENT_ROUTES = ("/v1/events", "/v1/events/batch")


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.events_accepted = Counter(
            "journeys_events_accepted",
            "Customer events accepted (outcome: new or duplicate)",
            ["outcome"],
            registry=self.registry,
        )
        self.events_rejected = Counter(
            "journeys_events_rejected",
            "Event requests rejected, by HTTP status (a rejected batch counts once)",
            ["status"],
            registry=self.registry,
        )
        self.journeys_started = Counter(
            "journeys_started", "Journey runs started by events", ["journey"], registry=self.registry
        )
        self.request_latency = Histogram(
            "journeys_http_request_duration_seconds",
            "HTTP request latency by route template",
            ["method", "route", "status"],
            registry=self.registry,
        )

    def render(self) -> bytes:
        return generate_latest(self.registry)


def route_template(scope: Scope) -> str:
    """The matched route as a template (``/v1/customers/{customer_id}``), so labels stay few.

    The route knows its path below the prefix it was included with; the prefix is what precedes
    the route's path, filled in with this request's parameters.
    """
    route = scope.get("route")
    template = getattr(route, "path_format", None)
    if not isinstance(template, str):
        return "unmatched"
    params = {key: str(value) for key, value in scope.get("path_params", {}).items()}
    try:
        concrete = template.format(**params)
    except (KeyError, IndexError, ValueError):
        return template
    path = str(scope["path"])
    return path[: len(path) - len(concrete)] + template if path.endswith(concrete) else template


class MetricsMiddleware:
    """Times every request and counts rejected event requests (whatever layer rejected them)."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            self.metrics.request_latency.labels(scope["method"], route_template(scope), str(status)).observe(
                time.perf_counter() - started
            )
            if scope["path"] in EVENT_ROUTES and status >= 400:
                self.metrics.events_rejected.labels(str(status)).inc()
