"""Sends under hostile conditions: a worker that dies after the SMTP server took the message, a
connection that drops while the message goes out, templates that raise what Jinja never would.

Against the real Outbox SMTP server (and, for the dropped connection, a server that swallows the
message and hangs up), with ``JOURNEYS_UNCERTAIN_SEND_POLICY`` at each of its values.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any, Literal

import pytest
import sqlalchemy as sa
from temporalio.exceptions import ApplicationError

from activities import journey_activities
from activities.email import SMTP_INTERRUPTED
from activities.journey_activities import EMAIL_ACCEPTED, NOT_RESENT, RESENT, JourneyActivities
from config.settings import Settings
from contracts.activities import SendEmailRequest, SendWebhookRequest
from outbox.server import OutboxServer
from store import Store
from store.tables import send_intents
from tests.activities.requests import welcome_email
from tests.support import FailOnce, RecordingEventSink, free_port
from tests.support.failures import SimulatedCrash

Policy = Literal["resend", "skip"]


def email_request(customer_id: str) -> SendEmailRequest:
    return welcome_email(customer_id)


async def intents(store: Store) -> list[str]:
    async with store.engine.connect() as conn:
        return list((await conn.execute(sa.select(send_intents.c.key))).scalars())


@pytest.fixture(params=["resend", "skip"])
def policy(request: pytest.FixtureRequest) -> Policy:
    value: Policy = request.param
    return value


async def test_a_crash_after_the_server_accepted_follows_the_policy(
    store: Store, settings: Settings, outbox: OutboxServer, event_sink: RecordingEventSink, policy: Policy
) -> None:
    crash = FailOnce(EMAIL_ACCEPTED)
    config = settings.model_copy(update={"uncertain_send_policy": policy})
    activities = JourneyActivities(store, config, event_sink, fail_after=crash)
    await store.customers.upsert("ada", {"email": "ada@example.com", "first_name": "Ada"})
    req = email_request("ada")
    try:
        with pytest.raises(SimulatedCrash):
            await activities.send_email(req)  # the server has the message; nothing is logged
        assert await store.deliveries.get(req.key) is None
        assert await intents(store) == [req.key]

        retried = await activities.send_email(req)
        again = await activities.send_email(req)  # a logged delivery comes back as it is
    finally:
        await activities.close()

    messages = outbox.messages()
    if policy == "resend":  # at least once: the same message again, which a receiver may drop
        assert (retried.status, retried.reason) == ("sent", RESENT)
        assert len(messages) == 2
        assert messages[0].message_id == messages[1].message_id == retried.message_id
    else:  # at most once: not sent again, and the log says it may or may not have arrived
        assert (retried.status, retried.reason) == ("uncertain", NOT_RESENT)
        assert [m.message_id for m in messages] == [retried.message_id]
        assert (retried.recipient, retried.subject) == ("ada@example.com", "Welcome aboard, Ada!")
    assert again == retried == await store.deliveries.get(req.key)
    assert await intents(store) == []
    stats = await store.steps.stats("onboarding")
    assert (stats.steps["welcome"].sends, stats.steps["welcome"].skips) == (
        (1, 0) if policy == "resend" else (0, 1)
    )


async def test_a_send_the_server_never_got_leaves_no_doubt(
    store: Store, settings: Settings, tmp_path: Path, event_sink: RecordingEventSink
) -> None:
    """SMTP down: the retry is an ordinary send, even when uncertain sends are skipped."""
    port = free_port()  # nothing listens here yet
    config = settings.model_copy(update={"smtp_port": port, "uncertain_send_policy": "skip"})
    activities = JourneyActivities(store, config, event_sink)
    await store.customers.upsert("bob", {"email": "bob@example.com", "first_name": "Bob"})
    req = email_request("bob")

    with pytest.raises(ApplicationError) as info:
        await activities.send_email(req)
    assert (info.value.type, info.value.non_retryable) == ("SmtpUnavailable", False)
    assert await intents(store) == []

    late = OutboxServer("127.0.0.1", port, tmp_path / "late")
    late.start()
    try:
        result = await activities.send_email(req)
    finally:
        await activities.close()
        late.stop()
    assert (result.status, result.reason) == ("sent", None)
    assert len(late.messages()) == 1


class SwallowingServer:
    """Takes the envelope and the message, then hangs up instead of answering the final dot:
    whether the message was accepted is unknown to the client."""

    def __init__(self) -> None:
        self.received: list[bytes] = []
        self._server: asyncio.Server | None = None
        self.port = 0

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        assert self._server is not None
        self._server.close()
        await self._server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"220 swallow ESMTP\r\n")
        while line := await reader.readline():
            command = line.strip().upper()
            if command.startswith((b"EHLO", b"HELO")):
                writer.write(b"250 swallow\r\n")
            elif command == b"DATA":
                writer.write(b"354 go ahead\r\n")
                await writer.drain()
                self.received.append(await reader.readuntil(b"\r\n.\r\n"))
                break  # no answer: the connection drops
            elif command == b"QUIT":
                writer.write(b"221 bye\r\n")
                break
            else:
                writer.write(b"250 ok\r\n")
            await writer.drain()
        writer.close()


@pytest.fixture
async def swallowing() -> AsyncIterator[SwallowingServer]:
    server = SwallowingServer()
    await server.start()
    yield server
    await server.stop()


async def test_a_connection_lost_while_the_message_goes_out_is_uncertain(
    store: Store, settings: Settings, event_sink: RecordingEventSink, swallowing: SwallowingServer
) -> None:
    config = settings.model_copy(update={"smtp_port": swallowing.port, "uncertain_send_policy": "skip"})
    activities = JourneyActivities(store, config, event_sink)
    await store.customers.upsert("cleo", {"email": "cleo@example.com", "first_name": "Cleo"})
    req = email_request("cleo")
    try:
        with pytest.raises(ApplicationError) as info:
            await activities.send_email(req)
        assert (info.value.type, info.value.non_retryable) == (SMTP_INTERRUPTED, False)
        assert await intents(store) == [req.key]  # the server may have it
        retried = await activities.send_email(req)
    finally:
        await activities.close()
    assert len(swallowing.received) == 1
    assert (retried.status, retried.reason) == ("uncertain", NOT_RESENT)


@pytest.fixture
def overflowing(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Rendering raises what a template can raise besides Jinja's own errors."""

    def overflow(*_: Any, **__: Any) -> Any:
        raise OverflowError("Python int too large to convert to C ssize_t")

    monkeypatch.setattr(journey_activities, "render_email", overflow)
    monkeypatch.setattr(journey_activities, "render_value", overflow)
    yield


@pytest.mark.usefixtures("overflowing")
async def test_an_email_template_that_raises_anything_fails_for_good(
    store: Store, settings: Settings, outbox: OutboxServer, event_sink: RecordingEventSink
) -> None:
    activities = JourneyActivities(store, settings, event_sink)
    await store.customers.upsert("dan", {"email": "dan@example.com"})
    req = email_request("dan")
    try:
        with pytest.raises(ApplicationError) as info:
            await activities.send_email(req)
    finally:
        await activities.close()
    assert (info.value.type, info.value.non_retryable) == ("TemplateError", True)
    assert info.value.message == (
        'email template "welcome" failed to render: OverflowError: '
        "Python int too large to convert to C ssize_t"
    )
    assert outbox.messages() == [] and await intents(store) == []


@pytest.mark.usefixtures("overflowing")
async def test_a_webhook_payload_that_raises_anything_fails_for_good(
    store: Store, settings: Settings, event_sink: RecordingEventSink
) -> None:
    config = settings.model_copy(update={"webhook_url": f"http://127.0.0.1:{free_port()}/hook"})
    activities = JourneyActivities(store, config, event_sink)
    await store.customers.upsert("eve", {"email": "eve@example.com"})
    req = SendWebhookRequest(
        **email_request("eve").model_dump(include=set(SendWebhookRequest.model_fields) - {"records"}),
        message_type="sms",
        payload={"text": "{{ range(customer.traits.n) | list | length }}"},
    )
    with pytest.raises(ApplicationError) as info:
        await activities.send_webhook(req)
    assert (info.value.type, info.value.non_retryable) == ("TemplateError", True)
    assert info.value.message.startswith('webhook "sms" payload failed to render: OverflowError')
    assert await store.deliveries.get(req.key) is None
