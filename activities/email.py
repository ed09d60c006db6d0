"""Email: build the multipart message (stable Message-ID, RFC 8058 unsubscribe) and send it over SMTP.

SMTP failures are sorted for Temporal: a refused recipient or a rejected message (5xx) will not
succeed on a retry and fails the step for good; everything else (server down, timeouts, 4xx,
a refused login or sender, which are problems of our setup) is retried with backoff. A connection
that fails after the message started to go out is ``SmtpInterrupted``: unlike every other failure,
the server may have accepted the message (see ``JOURNEYS_UNCERTAIN_SEND_POLICY``).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from email.charset import QP, Charset
from email.message import EmailMessage, Message
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.utils import format_datetime, formataddr, parseaddr
from urllib.parse import quote

import aiosmtplib
from temporalio.exceptions import ApplicationError

from activities.smtp_connections import SmtpConnections
from config.settings import Settings
from engine.templates import RenderedEmail


@dataclass(frozen=True)
class Unsubscribe:
    url: str  # one-click https URL (RFC 8058)
    mailto: str  # mailto: URI for clients that do not POST


def sender_domain(settings: Settings) -> str:
    address = parseaddr(settings.mail_from)[1]
    return address.rpartition("@")[2] or "journeys.local"


def message_id_for(key: str, domain: str) -> str:
    """The same key gives the same Message-ID on every attempt, so receivers can drop a duplicate."""
    return f"<{hashlib.sha256(key.encode('utf-8')).hexdigest()[:40]}@{domain}>"


def unsubscribe_mailto(settings: Settings, token: str) -> str:
    mailbox = settings.unsubscribe_mailto or f"unsubscribe@{sender_domain(settings)}"
    return f"mailto:{mailbox}?subject={quote(f'unsubscribe {token}')}"


def build_message(
    *,
    sender: str,
    recipient: str,
    rendered: RenderedEmail,
    message_id: str,
    unsubscribe: Unsubscribe,
    date: datetime,
    headers: dict[str, str] | None = None,
) -> Message:
    """A multipart/alternative message: plain text first, HTML second (the preferred part).

    Built with the ``email.mime`` classes (the compat32 policy): the same MIME structure as
    ``EmailMessage`` at a third of the cost, which a forecast of thousands of sends feels. Non-ASCII
    subjects and display names become RFC 2047 encoded words; bodies are UTF-8, quoted-printable.
    An address that is not ASCII (``jörg@münchen.de``) needs SMTPUTF8, which only ``EmailMessage``
    speaks: such messages are built with it. A header value with a line break is refused for good.
    """
    values = {
        "From": sender,
        "To": recipient,
        "Subject": rendered.subject,
        "Date": format_datetime(date),
        "Message-ID": message_id,
        "List-Unsubscribe": f"<{unsubscribe.url}>, <{unsubscribe.mailto}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        **(headers or {}),
    }
    broken = [name for name, value in values.items() if "\r" in value or "\n" in value]
    if broken:
        raise ApplicationError(
            f"email header {broken[0]} contains a line break: {values[broken[0]]!r}",
            type="InvalidHeader",
            non_retryable=True,
        )
    if all(parseaddr(value)[1].isascii() for value in (sender, recipient)):
        return _mime_message(values, rendered)
    return _international_message(values, rendered)


def _mime_message(values: dict[str, str], rendered: RenderedEmail) -> Message:
    message = MIMEMultipart("alternative")
    for name, value in values.items():
        message[name] = _address(value) if name in ("From", "To") else value
    message.attach(MIMEText(rendered.text, "plain", _UTF8_QP))  # type: ignore[arg-type]
    message.attach(MIMEText(rendered.html, "html", _UTF8_QP))  # type: ignore[arg-type]
    return message


def _international_message(values: dict[str, str], rendered: RenderedEmail) -> Message:
    message = EmailMessage()
    for name, value in values.items():
        message[name] = value
    message.set_content(rendered.text)
    message.add_alternative(rendered.html, subtype="html")
    return message


def _address(value: str) -> str:
    """``Name <addr>`` with only the display name encoded when it is not ASCII (addr is ASCII)."""
    name, address = parseaddr(value)
    if not address:
        return value
    return formataddr((name, address), charset="utf-8")


def _utf8_quoted_printable() -> Charset:
    charset = Charset("utf-8")
    charset.body_encoding = QP
    return charset


_UTF8_QP = _utf8_quoted_printable()


#: The type of the one failure after which the server may have the message (a timeout or a dropped
#: connection once the message started to go out); after any other the server has not accepted it.
SMTP_INTERRUPTED = "SmtpInterrupted"


async def send_message(message: Message, connections: SmtpConnections) -> None:
    """Hand ``message`` to the SMTP server; raises ``ApplicationError`` classified for retries."""
    settings = connections.settings
    went_out = False

    def going_out() -> None:
        nonlocal went_out
        went_out = True

    try:
        await connections.send(message, on_data=going_out)
    except aiosmtplib.SMTPRecipientsRefused as exc:
        codes = [refused.code for refused in exc.recipients]
        detail = "; ".join(f"{r.recipient}: {r.code} {r.message}" for r in exc.recipients)
        permanent = all(code >= 500 for code in codes)
        raise ApplicationError(
            f"recipient refused ({detail})",
            type="RecipientRejected" if permanent else "RecipientDeferred",
            non_retryable=permanent,
        ) from exc
    except (aiosmtplib.SMTPAuthenticationError, aiosmtplib.SMTPSenderRefused) as exc:
        if exc.code < 500:  # e.g. 421: the server is closing this connection; try again later
            raise ApplicationError(
                f"SMTP server deferred the message ({exc.code} {exc.message})", type="SmtpTransient"
            ) from exc
        raise ApplicationError(
            f"SMTP server refused our login or sender ({exc.code} {exc.message}); check the SMTP settings",
            type="SmtpConfiguration",
        ) from exc
    except aiosmtplib.SMTPResponseException as exc:
        permanent = exc.code >= 500
        raise ApplicationError(
            f"SMTP server answered {exc.code} {exc.message}",
            type="MessageRejected" if permanent else "SmtpTransient",
            non_retryable=permanent,
        ) from exc
    except aiosmtplib.SMTPNotSupported as exc:  # e.g. an internationalized address without SMTPUTF8
        raise ApplicationError(
            f"SMTP server cannot take this message: {exc}", type="MessageRejected", non_retryable=True
        ) from exc
    except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
        if went_out:
            raise ApplicationError(
                f"SMTP connection to {settings.smtp_host}:{settings.smtp_port} failed while the message "
                f"was going out, so the server may have accepted it: {exc}",
                type=SMTP_INTERRUPTED,
            ) from exc
        raise ApplicationError(
            f"SMTP server {settings.smtp_host}:{settings.smtp_port} unavailable: {exc}",
            type="SmtpUnavailable",
        ) from exc
