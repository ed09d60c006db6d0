"""Signed unsubscribe tokens: ``<customer id, base64url>.<HMAC-SHA256, base64url>``.

Only the holder of ``unsubscribe_secret`` can make one, so a link unsubscribes exactly the customer
it was mailed to. Tokens do not expire: an old email's link must keep working (RFC 8058).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac

from config.settings import Settings

_PURPOSE = b"journeys-unsubscribe:"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _signature(customer_id: bytes, secret: str) -> bytes:
    return hmac.new(secret.encode("utf-8"), _PURPOSE + customer_id, hashlib.sha256).digest()


def make_token(customer_id: str, secret: str) -> str:
    raw = customer_id.encode("utf-8")
    return f"{_b64(raw)}.{_b64(_signature(raw, secret))}"


def verify_token(token: str, secret: str) -> str | None:
    """The customer id the token was made for, or None if it is malformed or forged."""
    encoded_id, _, encoded_sig = token.partition(".")
    if not encoded_id or not encoded_sig:
        return None
    try:
        raw = _unb64(encoded_id)
        customer_id = raw.decode("utf-8")
    except (binascii.Error, ValueError):
        return None
    # The token must be the one make_token writes, to the letter: base64 decoding ignores stray
    # characters and padding, so checking the decoded signature alone would accept many spellings.
    expected = make_token(customer_id, secret).encode("ascii")
    if not hmac.compare_digest(token.encode("ascii", "replace"), expected):
        return None
    return customer_id


def unsubscribe_url(customer_id: str, settings: Settings) -> str:
    token = make_token(customer_id, settings.unsubscribe_secret)
    return f"{settings.public_base_url.rstrip('/')}/unsubscribe/{token}"
