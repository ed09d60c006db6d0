"""The send_webhook activity against a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from temporalio.exceptions import ApplicationError

from activities.journey_activities import JourneyActivities
from activities.webhook import SIGNATURE_HEADER, verify_signature
from config.settings import Settings
from contracts.activities import SendWebhookRequest
from store import Store
from tests.support import RecordingEventSink, WebhookReceiver

AT = datetime(2030, 5, 6, 12, 0, tzinfo=UTC)
KEY = "journey/winback/cust-1/e1/winback_sms/1"


def webhook_request(customer_id: str = "cust-1") -> SendWebhookRequest:
    return SendWebhookRequest(
        key=KEY,
        workflow_id=f"journey/winback/{customer_id}",
        journey="winback",
        version="v1",
        step="winback_sms",
        customer_id=customer_id,
        at=AT,
        message_type="winback_sms",
        payload={
            "text": "{{ customer.first_name }}, we saved 20% for you",
            "phone": "{{ customer.traits.phone | default('') }}",
            "tags": ["{{ journey.name }}", 3],
        },
    )


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    with WebhookReceiver() as running:
        yield running


@pytest.fixture
def activities(
    store: Store, settings: Settings, event_sink: RecordingEventSink, receiver: WebhookReceiver
) -> JourneyActivities:
    config = settings.model_copy(update={"webhook_url": receiver.url, "webhook_timeout_seconds": 0.5})
    return JourneyActivities(store, config, event_sink)


async def test_posts_signed_json_with_an_idempotency_key(
    activities: JourneyActivities, store: Store, receiver: WebhookReceiver, settings: Settings
) -> None:
    await store.customers.upsert("cust-1", {"first_name": "Ada", "phone": "+44 20 7946 0000"})

    result = await activities.send_webhook(webhook_request())

    assert (result.status, result.channel, result.recipient) == ("sent", "webhook", receiver.url)
    [request] = receiver.requests
    assert request.path == "/hooks/journeys"
    assert request.headers["Idempotency-Key"] == KEY
    assert request.headers["Content-Type"] == "application/json"
    assert verify_signature(request.body, settings.webhook_secret, request.headers[SIGNATURE_HEADER])
    assert not verify_signature(request.body, "another-secret", request.headers[SIGNATURE_HEADER])
    body = json.loads(request.body)
    assert body["type"] == "winback_sms"
    assert (body["customer_id"], body["journey"], body["step"], body["id"]) == (
        "cust-1",
        "winback",
        "winback_sms",
        KEY,
    )
    assert body["at"] == AT.isoformat()
    assert body["payload"] == {
        "text": "Ada, we saved 20% for you",
        "phone": "+44 20 7946 0000",
        "tags": ["winback", 3],
    }


async def test_a_repeated_call_posts_nothing_more(
    activities: JourneyActivities, store: Store, receiver: WebhookReceiver
) -> None:
    await store.customers.upsert("cust-1", {"first_name": "Ada"})
    first = await activities.send_webhook(webhook_request())
    assert await activities.send_webhook(webhook_request()) == first
    assert len(receiver.requests) == 1


@pytest.mark.parametrize("status", [500, 502, 503, 429])
async def test_server_errors_are_retried_with_the_same_key(
    activities: JourneyActivities, store: Store, receiver: WebhookReceiver, status: int
) -> None:
    await store.customers.upsert("cust-1", {"first_name": "Ada"})
    receiver.statuses = [status]
    with pytest.raises(ApplicationError) as info:
        await activities.send_webhook(webhook_request())
    assert not info.value.non_retryable
    assert await store.deliveries.get(KEY) is None

    assert (await activities.send_webhook(webhook_request())).status == "sent"
    assert [r.headers["Idempotency-Key"] for r in receiver.requests] == [KEY, KEY]
    assert receiver.requests[0].body == receiver.requests[1].body


@pytest.mark.parametrize("status", [400, 401, 404, 422])
async def test_client_errors_fail_for_good(
    activities: JourneyActivities, store: Store, receiver: WebhookReceiver, status: int
) -> None:
    receiver.statuses = [status]
    with pytest.raises(ApplicationError) as info:
        await activities.send_webhook(webhook_request())
    assert info.value.non_retryable
    assert info.value.type == "WebhookRejected"
    assert str(status) in str(info.value)


@pytest.mark.parametrize("status", [301, 302, 307, 308])
async def test_a_redirect_is_not_taken_for_a_delivery(
    activities: JourneyActivities, receiver: WebhookReceiver, status: int
) -> None:
    receiver.statuses = [status]
    with pytest.raises(ApplicationError) as info:
        await activities.send_webhook(webhook_request())
    assert info.value.non_retryable
    assert info.value.type == "WebhookRedirected"
    assert await activities.store.deliveries.get(KEY) is None  # not recorded as sent


async def test_a_timeout_is_retried(activities: JourneyActivities, receiver: WebhookReceiver) -> None:
    receiver.delay_seconds = 1.5
    with pytest.raises(ApplicationError) as info:
        await activities.send_webhook(webhook_request())
    assert not info.value.non_retryable
    assert info.value.type == "WebhookTimeout"


async def test_unreachable_receiver_is_retried(
    store: Store, settings: Settings, event_sink: RecordingEventSink
) -> None:
    config = settings.model_copy(update={"webhook_url": "http://127.0.0.1:9/nothing-listens"})
    with pytest.raises(ApplicationError) as info:
        await JourneyActivities(store, config, event_sink).send_webhook(webhook_request())
    assert not info.value.non_retryable


async def test_without_a_webhook_url_the_send_is_skipped_and_recorded(
    store: Store, settings: Settings, event_sink: RecordingEventSink
) -> None:
    activities = JourneyActivities(store, settings, event_sink)  # settings.webhook_url is None
    result = await activities.send_webhook(webhook_request())
    assert (result.status, result.reason) == ("skipped", "no webhook_url configured")
    assert await store.deliveries.get(KEY) == result
