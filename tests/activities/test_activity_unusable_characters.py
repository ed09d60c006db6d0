"""A template that renders a character no email can carry fails the send for good, before SMTP.

``{{ '\\ud800' }}`` makes a lone surrogate (no encoding takes it: the SMTP client raised
UnicodeEncodeError, which Temporal retried for ever); ``{{ '\\x00' }}`` in a subject put a NUL into
the Subject header. Against the real Outbox SMTP server: nothing reaches it, no send intent is left,
and the failure is the permanent ``TemplateError`` every other render failure is.
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from temporalio.exceptions import ApplicationError

from activities.journey_activities import JourneyActivities
from contracts.activities import SendEmailRequest
from outbox.server import OutboxServer
from store import Store
from store.tables import send_intents
from tests.activities.requests import welcome_email

SUBJECT = "an email subject (a header)"
CASES = [
    ("welcome/subject.txt", "Hi {{ '\\ud800' }}", "lone surrogate U+D800 at line 1, column 4", SUBJECT),
    (
        "welcome/subject.txt",
        "Hi {{ '\\x00' }}",
        "control character U+0000 (NUL) at line 1, column 4",
        SUBJECT,
    ),
    ("welcome/subject.txt", "Hi {{ '\\x1b' }}[31m", "control character U+001B at line 1, column 4", SUBJECT),
    (
        "welcome/subject.txt",
        "Hi {{ '\\x85' }}{{ '\\x9b' }}",
        "control character U+009B at line 1, column 4",
        SUBJECT,
    ),
    (
        "welcome/body.html",
        "<p>\n{{ '\\udfff' }}</p>",
        "lone surrogate U+DFFF at line 2, column 1",
        "an email",
    ),
    (
        "welcome/body.txt",
        "Hi {{ '\\x00' }}",
        "control character U+0000 (NUL) at line 1, column 4",
        "an email",
    ),
    ("welcome/subject.id.txt", "Hai {{ '\\ud83d' }}", "lone surrogate U+D83D at line 1, column 5", SUBJECT),
]


def email_request(customer_id: str, file: str, text: str) -> SendEmailRequest:
    return welcome_email(customer_id, {file: text})


async def intents(store: Store) -> list[str]:
    async with store.engine.connect() as conn:
        return list((await conn.execute(sa.select(send_intents.c.key))).scalars())


@pytest.mark.parametrize(("file", "text", "where", "carrier"), CASES)
async def test_a_template_rendering_an_unusable_character_fails_for_good_before_smtp(
    activities: JourneyActivities,
    store: Store,
    outbox: OutboxServer,
    file: str,
    text: str,
    where: str,
    carrier: str,
) -> None:
    traits = {"email": "ada@example.com", "first_name": "Ada"}
    await store.customers.upsert("ada", {**traits, "locale": "id"} if ".id." in file else traits)
    req = email_request("ada", file, text)

    with pytest.raises(ApplicationError) as info:
        await activities.send_email(req)

    assert (info.value.type, info.value.non_retryable) == ("TemplateError", True)
    assert info.value.message == (
        f'email template "welcome" failed to render: TemplateRenderError: {file} renders {where} of its '
        f"output, which {carrier} cannot carry"
    )
    assert outbox.messages() == [] and await intents(store) == []
    assert await store.deliveries.get(req.key) is None


async def test_tabs_line_breaks_and_other_controls_in_a_body_still_send(
    activities: JourneyActivities, store: Store, outbox: OutboxServer
) -> None:
    await store.customers.upsert("bea", {"email": "bea@example.com", "first_name": "Bea"})
    req = email_request("bea", "welcome/body.txt", "Hi\tBea,\r\nsee {{ '\\x1b' }} and {{ '\\x0c' }}")

    result = await activities.send_email(req)

    assert result.status == "sent"
    [message] = outbox.messages()
    assert message.subject == "Welcome aboard, Bea!"
