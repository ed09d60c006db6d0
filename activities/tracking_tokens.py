"""Signed tracking tokens: ``<message[, link index], base64url>.<HMAC-SHA256 cut to 128 bits, base64url>``.

A message is known by 20 bytes (``message_ref``: a digest of its delivery key, the hex of which is its
Message-ID's left part). An open token signs the message; a click token signs the message and one link
index, so a token names exactly one link of one email: changing the index or moving the signature to
another message breaks it. The redirect target is never in the token: the store keeps each message's
links by index. The two kinds are signed under different purposes, so one never passes for the other.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from dataclasses import dataclass

MESSAGE_BYTES = 20
SIGNATURE_BYTES = 16  # 128 bits
MAX_LINKS = 1000  # link indexes 0..999 (two bytes in the token)
# Longest token either kind can be (click: 30 + 1 + 22): longer ones are refused before decoding.
MAX_TOKEN_LENGTH = 64
_OPEN = b"journeys-track-open:"
_CLICK = b"journeys-track-click:"


@dataclass(frozen=True)
class Click:
    message: str  # the message's reference, 40 hex digits
    link: int


def message_ref(delivery_key: str) -> str:
    """The 40 hex digits naming the email sent under ``delivery_key`` (as its Message-ID does)."""
    return hashlib.sha256(delivery_key.encode("utf-8")).hexdigest()[:40]


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _sign(purpose: bytes, payload: bytes, secret: str) -> str:
    mac = hmac.new(secret.encode("utf-8"), purpose + payload, hashlib.sha256).digest()
    return f"{_b64(payload)}.{_b64(mac[:SIGNATURE_BYTES])}"


def open_token(message: str, secret: str) -> str:
    return _sign(_OPEN, bytes.fromhex(message), secret)


def click_token(message: str, link: int, secret: str) -> str:
    if not 0 <= link < MAX_LINKS:
        raise ValueError(f"link index {link} is outside 0..{MAX_LINKS - 1}")
    return _sign(_CLICK, bytes.fromhex(message) + link.to_bytes(2, "big"), secret)


def _payload(token: str, size: int) -> bytes | None:
    if len(token) > MAX_TOKEN_LENGTH or not token.isascii():
        return None
    encoded, _, signature = token.partition(".")
    if not encoded or not signature:
        return None
    try:
        payload = _unb64(encoded)
    except (binascii.Error, ValueError):
        return None
    return payload if len(payload) == size else None


def verify_open(token: str, secret: str) -> str | None:
    """The message an open token was made for, or None if it is malformed or forged."""
    payload = _payload(token, MESSAGE_BYTES)
    if payload is None:
        return None
    message = payload.hex()
    # The token must be the one open_token writes, to the letter (base64 decoding forgives stray
    # characters and padding: comparing whole tokens accepts one spelling only).
    return message if hmac.compare_digest(token, open_token(message, secret)) else None


def verify_click(token: str, secret: str) -> Click | None:
    """The message and link index a click token was made for, or None if malformed or forged."""
    payload = _payload(token, MESSAGE_BYTES + 2)
    if payload is None:
        return None
    message, link = payload[:MESSAGE_BYTES].hex(), int.from_bytes(payload[MESSAGE_BYTES:], "big")
    if link >= MAX_LINKS:
        return None
    return Click(message, link) if hmac.compare_digest(token, click_token(message, link, secret)) else None
