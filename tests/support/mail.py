"""A small plain-text message for tests that talk SMTP directly."""

from __future__ import annotations

from email.message import EmailMessage


def plain_message(subject: str, to: str = "ada@example.com") -> EmailMessage:
    message = EmailMessage()
    message["From"] = "hello@journeys.test"
    message["To"] = to
    message["Subject"] = subject
    message.set_content("hello")
    return message
