"""The block ``journeys up`` prints once everything is ready: where to look, the key, a first event."""

from __future__ import annotations

import json
import shlex

from config.settings import Settings
from devstack.parts import loopback
from devstack.ports import split_address
from provision.deploy import Deployed


def api_url(settings: Settings) -> str:
    return f"http://{loopback(settings.api_host)}:{settings.api_port}"


def curl_line(settings: Settings) -> str:
    """A ``curl`` command that sends Ada's ``signed_up`` event (with her traits) to the API."""
    event = {
        "event_id": "evt-ada-signed-up",
        "customer_id": "ada",
        "name": "signed_up",
        "properties": {"plan": "free"},
        "traits": {"email": "ada@example.com", "first_name": "Ada"},
    }
    return (
        f"curl -sS -X POST {api_url(settings)}/v1/events"
        f" -H {shlex.quote('Authorization: Bearer ' + settings.keys()[0].key)}"
        " -H 'Content-Type: application/json'"
        f" -d {shlex.quote(json.dumps(event))}"
    )


def banner(settings: Settings, deployed: list[Deployed], *, outbox_page: bool) -> str:
    temporal_host, _ = split_address(settings.temporal_address)
    api = api_url(settings)
    names = ", ".join(d.journey for d in deployed) or "none (add journeys/*.yaml)"
    lines = [
        "",
        "Journeys is running. Ctrl-C stops everything.",
        "",
        f"  UI           {api}/ui  (sign in with the API key below)",
        f"  API docs     {api}/docs",
        f"  Temporal UI  http://{loopback(temporal_host)}:{settings.temporal_ui_port}",
        f"  Outbox       {api}/outbox" if outbox_page else "  Outbox       off",
        f"  Metrics      {api}/metrics (API), "
        + (
            f"http://{loopback(settings.worker_metrics_host)}:{settings.worker_metrics_port}/metrics (worker)"
            if settings.worker_metrics_port
            else "worker: off"
        ),
        f"  API key      {settings.keys()[0].key if settings.api_keys else '(none set)'}",
        f"  Journeys     {names}",
        "",
        "Send a first event (Ada signs up; her welcome email shows in the Outbox):",
        "",
        f"  {curl_line(settings)}",
        "",
    ]
    return "\n".join(lines)
