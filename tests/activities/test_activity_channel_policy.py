"""The send activities under the channel policy, with the real store, the Outbox SMTP server and an
HTTP receiver: a retry of the same key counts once, a send that failed for good gives its slot back,
a crash after the SMTP server took the email keeps its slot, the webhook channel has its own caps,
and a transactional send is never counted."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from temporalio.exceptions import ApplicationError

from activities.journey_activities import EMAIL_ACCEPTED, JourneyActivities
from config.settings import Settings
from engine.channels.loader import validate_policy_text
from outbox.server import OutboxServer
from store import Store
from store.frequency_caps import counts
from tests.activities.test_activity_email import email_request
from tests.activities.test_activity_webhook import webhook_request
from tests.support import FailOnce, RecordingEventSink, WebhookReceiver, free_port
from tests.support.failures import SimulatedCrash

POLICY = """policy: main
channels:
  email: {caps: {per_week: 1}}
  webhook: {caps: {per_day: 1}}
"""
WEEK = "week:2030-W10"  # the requests' AT, 2030-03-04, is in ISO week 10


@pytest.fixture
async def capped(store: Store) -> Store:
    policy, errors = validate_policy_text(POLICY, "channels.yaml")
    assert policy is not None, errors
    await store.channel_policies.deploy(policy, POLICY)
    return store


@pytest.fixture
async def activities(
    capped: Store, settings: Settings, event_sink: RecordingEventSink
) -> AsyncIterator[JourneyActivities]:
    activities = JourneyActivities(capped, settings, event_sink)
    yield activities
    await activities.close()


async def test_a_repeated_send_counts_once_and_answers_the_same(
    activities: JourneyActivities, store: Store, outbox: OutboxServer
) -> None:
    await store.customers.upsert("ada", {"email": "ada@example.com", "first_name": "Ada"})
    first = await activities.send_email(email_request("ada", key="k/ada/1"))
    again = await activities.send_email(email_request("ada", key="k/ada/1"))
    assert first.status == again.status == "sent" and first.message_id == again.message_id
    assert await counts(store.engine, "ada", "email") == {WEEK: 1}
    capped = await activities.send_email(email_request("ada", key="k/ada/2"))
    assert (capped.status, capped.reason) == ("skipped", "frequency cap: 1 marketing email a week")
    assert len(outbox.messages()) == 1


async def test_a_crash_after_the_server_took_the_email_keeps_its_one_slot(
    capped: Store, settings: Settings, outbox: OutboxServer, event_sink: RecordingEventSink
) -> None:
    store = capped
    await store.customers.upsert("bo", {"email": "bo@example.com", "first_name": "Bo"})
    crashing = JourneyActivities(store, settings, event_sink, fail_after=FailOnce(EMAIL_ACCEPTED))
    try:
        with pytest.raises(SimulatedCrash):
            await crashing.send_email(email_request("bo", key="k/bo/1"))
        retried = await crashing.send_email(email_request("bo", key="k/bo/1"))  # the retry, same key
    finally:
        await crashing.close()
    assert retried.status == "sent"
    assert await counts(store.engine, "bo", "email") == {WEEK: 1}


async def test_a_send_that_fails_for_good_gives_its_slot_back(
    capped: Store, settings: Settings, tmp_path: Path, event_sink: RecordingEventSink
) -> None:
    store = capped
    bouncing = OutboxServer("127.0.0.1", free_port(), tmp_path / "bounces", refuse=["gone@example.com"])
    bouncing.start()
    config = settings.model_copy(update={"smtp_port": bouncing.port})
    activities = JourneyActivities(store, config, event_sink)
    try:
        await store.customers.upsert("cy", {"email": "gone@example.com", "first_name": "Cy"})
        with pytest.raises(ApplicationError) as info:
            await activities.send_email(email_request("cy", key="k/cy/1"))
        assert info.value.non_retryable
        assert await counts(store.engine, "cy", "email") == {WEEK: 0}
    finally:
        await activities.close()
        bouncing.stop()


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    with WebhookReceiver() as running:
        yield running


async def test_webhooks_have_caps_of_their_own_and_a_transactional_one_is_never_counted(
    activities: JourneyActivities, store: Store, outbox: OutboxServer, receiver: WebhookReceiver
) -> None:
    activities.settings = activities.settings.model_copy(update={"webhook_url": receiver.url})
    await store.customers.upsert("cust-1", {"email": "ada@example.com", "first_name": "Ada"})
    assert (await activities.send_email(email_request("cust-1", key="k/e/1"))).status == "sent"
    hook = await activities.send_webhook(webhook_request())
    assert hook.status == "sent"
    second = webhook_request().model_copy(update={"key": "k/w/2"})
    refused = await activities.send_webhook(second)
    assert (refused.status, refused.reason) == ("skipped", "frequency cap: 1 marketing webhook message a day")
    receipt = email_request("cust-1", key="k/e/2").model_copy(update={"message_class": "transactional"})
    assert (await activities.send_email(receipt)).status == "sent"
    assert await counts(store.engine, "cust-1", "email") == {WEEK: 1}
    assert await counts(store.engine, "cust-1", "webhook") == {"day:2030-05-06": 1}
    assert len(receiver.requests) == 1 and len(outbox.messages()) == 2
