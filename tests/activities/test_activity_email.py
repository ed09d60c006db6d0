"""The send_email activity end to end through the real Outbox SMTP server."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities.email import message_id_for
from activities.journey_activities import JourneyActivities
from activities.unsubscribe_tokens import verify_token
from config.settings import Settings
from contracts.activities import SendEmailRequest, StepMark
from contracts.records import StepRecord
from engine.loader import load_directory
from engine.templates import read_email_sources
from outbox.server import OutboxServer
from store import Store
from tests.support import FailOnce, RecordingEventSink, free_port
from tests.support.failures import SimulatedCrash

TEMPLATES = Path(__file__).resolve().parents[2] / "journeys" / "templates"
AT = datetime(2030, 3, 4, 9, 30, tzinfo=UTC)


def email_request(customer_id: str, template: str = "welcome", key: str | None = None) -> SendEmailRequest:
    return SendEmailRequest(
        key=key or f"journey/onboarding/{customer_id}/e1/welcome/1",
        workflow_id=f"journey/onboarding/{customer_id}",
        journey="onboarding",
        version="v1",
        step="welcome",
        customer_id=customer_id,
        at=AT,
        template=template,
        templates=read_email_sources(TEMPLATES, template),
        event={"name": "signed_up", "properties": {}},
    )


async def test_sends_a_multipart_email_with_unsubscribe_headers(
    activities: JourneyActivities, store: Store, outbox: OutboxServer, settings: Settings
) -> None:
    await store.customers.upsert("cust-1", {"email": "ada@example.com", "first_name": "Ada"})
    req = email_request("cust-1")

    result = await activities.send_email(req)

    assert result.status == "sent"
    assert (result.recipient, result.subject) == ("ada@example.com", "Welcome aboard, Ada!")
    [message] = outbox.messages()
    assert message.subject == "Welcome aboard, Ada!"
    assert message.recipients == ["ada@example.com"]
    assert message.sender == "hello@journeys.test"
    assert message.date == AT  # the workflow clock, not the wall clock
    assert message.message_id == result.message_id == message_id_for(req.key, "journeys.test")
    assert message.text is not None and "Welcome, Ada!" in message.text
    assert message.html is not None and "<h1>Welcome, Ada!</h1>" in message.html
    assert message.header("X-Journey-Step") == "welcome"

    list_unsubscribe = message.header("List-Unsubscribe") or ""
    https_part, mailto_part = (part.strip().strip("<>") for part in list_unsubscribe.split(","))
    assert https_part.startswith("https://journeys.test/unsubscribe/")
    assert verify_token(https_part.rsplit("/", 1)[1], settings.unsubscribe_secret) == "cust-1"
    assert mailto_part.startswith("mailto:unsubscribe@journeys.test?subject=unsubscribe%20")
    assert message.header("List-Unsubscribe-Post") == "List-Unsubscribe=One-Click"
    assert https_part in message.text
    assert f'href="{https_part}"' in message.html


async def test_message_is_multipart_alternative_text_then_html(
    activities: JourneyActivities, store: Store, outbox: OutboxServer
) -> None:
    await store.customers.upsert("cust-2", {"email": "b@example.com", "first_name": "Bo"})
    await activities.send_email(email_request("cust-2"))
    raw = outbox.messages()[0].path.read_bytes()
    assert b"Content-Type: multipart/alternative" in raw
    assert raw.index(b"Content-Type: text/plain") < raw.index(b"Content-Type: text/html")


async def test_html_escapes_customer_data(
    activities: JourneyActivities, store: Store, outbox: OutboxServer
) -> None:
    await store.customers.upsert("cust-3", {"email": "c@example.com", "first_name": "<b>Ada & Co</b>"})
    await activities.send_email(email_request("cust-3"))
    [message] = outbox.messages()
    assert message.html is not None and "Welcome, &lt;b&gt;Ada &amp; Co&lt;/b&gt;!" in message.html
    assert "<b>Ada" not in message.html
    assert message.text is not None and "Welcome, <b>Ada & Co</b>!" in message.text


async def test_uses_the_customers_locale(
    activities: JourneyActivities, store: Store, outbox: OutboxServer
) -> None:
    await store.customers.upsert("cust-4", {"email": "d@example.com", "first_name": "Budi", "locale": "id"})
    result = await activities.send_email(email_request("cust-4"))
    assert result.subject == "Selamat datang, Budi!"
    assert outbox.messages()[0].subject == "Selamat datang, Budi!"


async def test_a_repeated_call_sends_nothing_more(
    activities: JourneyActivities, store: Store, outbox: OutboxServer
) -> None:
    await store.customers.upsert("cust-5", {"email": "e@example.com", "first_name": "Eve"})
    first = await activities.send_email(email_request("cust-5"))
    second = await activities.send_email(email_request("cust-5"))
    assert second == first
    assert len(outbox.messages()) == 1


async def test_retry_after_a_crash_past_the_send_delivers_one_email(
    store: Store, settings: Settings, outbox: OutboxServer, event_sink: RecordingEventSink
) -> None:
    crash = FailOnce("send_email")
    activities = JourneyActivities(store, settings, event_sink, fail_after=crash)
    await store.customers.upsert("cust-6", {"email": "f@example.com", "first_name": "Fay"})
    req = email_request("cust-6")

    with pytest.raises(SimulatedCrash):
        await activities.send_email(req)
    retried = await activities.send_email(req)
    await activities.close()

    assert crash.fired
    assert retried.status == "sent"
    assert [m.recipients for m in outbox.messages()] == [["f@example.com"]]


@pytest.mark.parametrize(
    ("traits", "unsubscribe", "reason"),
    [
        ({"email": "g@example.com"}, True, "unsubscribed"),
        ({"first_name": "NoMail"}, False, "no email address"),
        (None, False, "unknown customer"),
    ],
)
async def test_skips_and_records_why(
    activities: JourneyActivities,
    store: Store,
    outbox: OutboxServer,
    traits: dict[str, str] | None,
    unsubscribe: bool,
    reason: str,
) -> None:
    if traits is not None:
        await store.customers.upsert("cust-7", traits)
    if unsubscribe:
        await store.customers.unsubscribe("cust-7")
    req = email_request("cust-7")

    result = await activities.send_email(req)

    assert (result.status, result.reason) == ("skipped", reason)
    assert outbox.messages() == []
    assert await store.deliveries.get(req.key) == result
    stats = await store.steps.stats("onboarding")
    assert (stats.steps["welcome"].sends, stats.steps["welcome"].skips) == (0, 1)


async def test_a_rejected_recipient_fails_for_good(
    store: Store, settings: Settings, tmp_path: Path, event_sink: RecordingEventSink
) -> None:
    bouncing = OutboxServer("127.0.0.1", free_port(), tmp_path / "bounces", refuse=["gone@example.com"])
    bouncing.start()
    try:
        config = settings.model_copy(update={"smtp_port": bouncing.port})
        activities = JourneyActivities(store, config, event_sink)
        await store.customers.upsert("cust-8", {"email": "gone@example.com", "first_name": "Gone"})
        req = email_request("cust-8")
        with pytest.raises(ApplicationError) as info:
            await activities.send_email(req)
        assert info.value.non_retryable
        assert info.value.type == "RecipientRejected"
        assert "550" in str(info.value)
        assert bouncing.messages() == []
        assert await store.deliveries.get(req.key) is None
    finally:
        bouncing.stop()


async def test_smtp_down_is_retried_and_the_retry_delivers(
    store: Store, settings: Settings, tmp_path: Path, event_sink: RecordingEventSink
) -> None:
    port = free_port()  # nothing listens here yet
    activities = JourneyActivities(store, settings.model_copy(update={"smtp_port": port}), event_sink)
    await store.customers.upsert("cust-9", {"email": "h@example.com", "first_name": "Hal"})
    req = email_request("cust-9")

    with pytest.raises(ApplicationError) as info:
        await activities.send_email(req)
    assert not info.value.non_retryable
    assert info.value.type == "SmtpUnavailable"
    assert await store.deliveries.get(req.key) is None

    late = OutboxServer("127.0.0.1", port, tmp_path / "late")
    late.start()
    try:
        assert (await activities.send_email(req)).status == "sent"
        assert len(late.messages()) == 1
    finally:
        await activities.close()
        late.stop()


async def test_a_template_error_fails_for_good(activities: JourneyActivities, store: Store) -> None:
    await store.customers.upsert("cust-10", {"email": "i@example.com"})
    req = email_request("cust-10")
    broken = dict(req.templates or {}, **{"welcome/subject.txt": "Hi {{ customer.nickname }}"})
    with pytest.raises(ApplicationError) as info:
        await activities.send_email(req.model_copy(update={"templates": broken}))
    assert info.value.non_retryable and info.value.type == "TemplateError"
    assert "nickname" in str(info.value)


async def test_a_request_without_templates_sends_from_the_plan_it_names(
    activities: JourneyActivities, store: Store, outbox: OutboxServer
) -> None:
    """Requests name their plan's version; the templates are read from the store, once per worker."""
    plan = next(p for p in load_directory(TEMPLATES.parent) if p.journey == "onboarding")
    await store.deployments.deploy(plan, source="")
    await store.customers.upsert("cust-20", {"email": "t@example.com", "first_name": "Tess"})
    req = email_request("cust-20").model_copy(update={"version": plan.version, "templates": None})

    result = await activities.send_email(req)

    assert (result.status, result.subject) == ("sent", "Welcome aboard, Tess!")
    assert [m.subject for m in outbox.messages()] == ["Welcome aboard, Tess!"]


async def test_a_plan_the_store_does_not_have_is_retried_not_failed(
    activities: JourneyActivities, store: Store, outbox: OutboxServer
) -> None:
    await store.customers.upsert("cust-21", {"email": "u@example.com"})
    req = email_request("cust-21").model_copy(update={"version": "000000000000", "templates": None})

    with pytest.raises(ApplicationError) as info:
        await activities.send_email(req)

    assert info.value.type == "PlanMissing" and not info.value.non_retryable
    assert outbox.messages() == []
    assert await store.deliveries.get(req.key) is None  # nothing logged: the retry starts afresh


def test_a_request_carries_its_step_records_whole_or_as_marks_of_its_run() -> None:
    """Marks leave out what the request says already; requests made before carry whole records."""
    earlier = StepRecord(
        journey="onboarding",
        version="v0",
        workflow_id="journey/onboarding/cust-22",
        customer_id="cust-22",
        step="joined",
        kind="completed",
        at=AT,
    )
    req = email_request("cust-22").model_copy(
        update={
            "records": [earlier],
            "entry": "e1",
            "marks": [StepMark(step="welcome", kind="entered", detail="send_email", seq=3)],
        }
    )

    assert req.step_records() == [
        earlier,
        StepRecord(
            journey="onboarding",
            version="v1",
            workflow_id="journey/onboarding/cust-22",
            customer_id="cust-22",
            step="welcome",
            kind="entered",
            detail="send_email",
            at=AT,
            entry="e1",
            seq=3,
        ),
    ]


async def test_runs_inside_temporals_activity_environment(
    activities: JourneyActivities, store: Store
) -> None:
    await store.customers.upsert("cust-11", {"email": "j@example.com", "first_name": "Jo"})
    env = ActivityEnvironment()
    snapshot = await env.run(activities.load_customer, "cust-11")
    assert (snapshot.exists, snapshot.email, snapshot.first_name) == (True, "j@example.com", "Jo")
    missing = await env.run(activities.load_customer, "nobody")
    assert not missing.exists


def test_non_ascii_subject_and_sender_name_are_encoded_words_and_read_back() -> None:
    from email import message_from_bytes, policy

    from activities.email import Unsubscribe, build_message
    from engine.templates import RenderedEmail

    rendered = RenderedEmail(subject="Hadiah untukmu, Ádá 🎁", html="<p>Hé</p>", text="Hé ✓")
    message = build_message(
        sender="Toko Ünö <halo@toko.id>",
        recipient="ada@example.com",
        rendered=rendered,
        message_id="<m1@toko.id>",
        unsubscribe=Unsubscribe("https://toko.id/unsubscribe/t", "mailto:unsubscribe@toko.id"),
        date=AT,
    )
    raw = message.as_bytes()

    assert raw.isascii()  # 7-bit clean: encoded words in headers, quoted-printable bodies
    assert b"<halo@toko.id>" in raw  # only the display name is encoded, never the address
    parsed = message_from_bytes(raw, policy=policy.default)
    assert str(parsed["Subject"]) == "Hadiah untukmu, Ádá 🎁"
    assert str(parsed["From"]) == "Toko Ünö <halo@toko.id>"
    text = parsed.get_body(("plain",))
    html = parsed.get_body(("html",))
    assert text is not None and text.get_content() == "Hé ✓"
    assert html is not None and html.get_content() == "<p>Hé</p>"


async def test_an_internationalized_address_is_sent_with_smtputf8(
    activities: JourneyActivities, store: Store, outbox: OutboxServer
) -> None:
    await store.customers.upsert("cust-intl", {"email": "jörg@münchen.de", "first_name": "Jörg"})

    result = await activities.send_email(email_request("cust-intl"))

    assert (result.status, result.recipient) == ("sent", "jörg@münchen.de")
    [message] = outbox.messages()
    assert message.recipients == ["jörg@münchen.de"]
    assert message.subject == "Welcome aboard, Jörg!"


def test_a_header_with_a_line_break_is_refused_for_good() -> None:
    from activities.email import Unsubscribe, build_message
    from engine.templates import RenderedEmail

    with pytest.raises(ApplicationError, match="email header To contains a line break") as raised:
        build_message(
            sender="hello@journeys.test",
            recipient="ada@example.com\r\nBcc: everyone@example.com",
            rendered=RenderedEmail(subject="Hi", html="<p>Hi</p>", text="Hi"),
            message_id="<m2@journeys.test>",
            unsubscribe=Unsubscribe("https://journeys.test/u/t", "mailto:u@journeys.test"),
            date=AT,
        )
    assert raised.value.non_retryable
