"""A tracked journey end to end: the time-skipping server runs it, the Outbox (aiosmtpd) receives its
emails, and the API serves over real HTTP (uvicorn on a free port of 127.0.0.1) at the address its
emails link to, so a test follows the links of a received email as a mail client would."""

from __future__ import annotations

import textwrap
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import pytest_asyncio

from api.app import create_app
from engine.loader import load_directory
from outbox.server import OutboxMessage
from simulate.sandbox import Sandbox
from tests.api.serving import loopback_socket, serving_with

KEY = "tracking-test-key"
SECRET = "tracking-test-secret-0123456789"
TEMPLATE = {
    "subject.txt": "Our sale, {{ customer.first_name }}",
    "body.html": (
        "<html><body><p>Hi {{ customer.first_name }},</p>\n"
        '<p><a href="https://shop.example/sale?c={{ customer.id }}&amp;u=1">The sale</a> and '
        '<a href="https://shop.example/help">help</a>.</p>\n'
        '<p><a href="{{ unsubscribe_url }}">Unsubscribe</a></p></body></html>\n'
    ),
    "body.txt": (
        "Hi {{ customer.first_name }}, the sale: https://shop.example/sale?c={{ customer.id }}&u=1.\n"
        "Unsubscribe: {{ unsubscribe_url }}\n"
    ),
}
JOURNEYS = {
    "promo.yaml": """
        journey: promo
        stage: retention
        trigger: {event: promo_requested}
        entry: always
        steps:
          - id: pick
            split:
              variants:
                - {name: a, weight: 50, next: mail_a}
                - {name: b, weight: 50, next: mail_b}
          - {id: mail_a, send: {email: promo}, next: done}
          - {id: mail_b, send: {email: promo}}
          - {id: done, exit: sent}
        """,
    "receipt.yaml": """
        journey: receipt
        stage: conversion
        trigger: {event: receipt_requested}
        tracking: false
        steps:
          - {id: receipt, send: {email: promo}}
        """,
}


@dataclass
class Tracked:
    sandbox: Sandbox
    http: httpx.AsyncClient  # the API over HTTP, with the key
    base_url: str

    def email_to(self, address: str) -> list[OutboxMessage]:
        return [m for m in self.sandbox.outbox.messages() if address in m.recipients]


def journeys_folder(root: Path) -> Path:
    for name, text in JOURNEYS.items():
        (root / name).write_text(textwrap.dedent(text).lstrip("\n"), "utf-8")
    folder = root / "templates" / "promo"
    folder.mkdir(parents=True)
    for part, text in TEMPLATE.items():
        (folder / part).write_text(text, "utf-8")
    return root


@pytest_asyncio.fixture(loop_scope="session", scope="module")
async def tracked(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Tracked]:
    plans = load_directory(journeys_folder(tmp_path_factory.mktemp("journeys")))
    sock = loopback_socket()  # held from now: the sandbox starts before the app is served on it
    port = int(sock.getsockname()[1])
    base_url = f"http://127.0.0.1:{port}"
    settings = {"api_keys": [KEY], "public_base_url": base_url, "unsubscribe_secret": SECRET}
    async with Sandbox.open(plans, workdir=tmp_path_factory.mktemp("sandbox"), settings=settings) as sandbox:
        app = create_app(sandbox.settings, client=sandbox.client, store=sandbox.store, router=sandbox.router)
        async with serving_with(app, sandbox.settings.model_copy(update={"api_port": port}), sock):
            headers = {"Authorization": f"Bearer {KEY}"}
            async with httpx.AsyncClient(base_url=base_url, headers=headers) as http:
                yield Tracked(sandbox, http, base_url)
