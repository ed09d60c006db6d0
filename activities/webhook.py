"""Webhook: POST a signed JSON body so a backend can fan a step out to SMS, push or anything else.

The body is signed with HMAC-SHA256 (``X-Journeys-Signature: sha256=<hex>``) and carries an
``Idempotency-Key`` that stays the same on every retry. 5xx, 408, 429 and network errors are
retried; any other 4xx means the receiver refuses this request and fails the step for good.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import TYPE_CHECKING, Any

from temporalio.exceptions import ApplicationError

if TYPE_CHECKING:
    import httpx

SIGNATURE_HEADER = "X-Journeys-Signature"
RETRYABLE_4XX = frozenset({408, 425, 429})


def encode_body(body: dict[str, Any]) -> bytes:
    return json.dumps(body, separators=(",", ":"), sort_keys=True, default=str).encode("utf-8")


def signature(body: bytes, secret: str) -> str:
    return "sha256=" + hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


def verify_signature(body: bytes, secret: str, header: str) -> bool:
    """What a receiver does: recompute the signature over the raw body and compare in constant time."""
    return hmac.compare_digest(signature(body, secret), header)


async def post_webhook(
    url: str, body: dict[str, Any], *, secret: str, key: str, timeout_seconds: float
) -> httpx.Response:
    """POST ``body``; returns the 2xx response or raises ``ApplicationError`` classified."""
    import httpx  # here, not at the top: a worker or simulation that sends no webhook never loads it

    content = encode_body(body)
    headers = {
        "Content-Type": "application/json",
        "Idempotency-Key": key,
        SIGNATURE_HEADER: signature(content, secret),
        "User-Agent": "journeys-webhook/1",
    }
    try:
        async with httpx.AsyncClient(timeout=timeout_seconds) as client:
            response = await client.post(url, content=content, headers=headers)
    except httpx.TimeoutException as exc:
        raise ApplicationError(f"webhook {url} timed out", type="WebhookTimeout") from exc
    except httpx.HTTPError as exc:
        raise ApplicationError(f"webhook {url} unreachable: {exc}", type="WebhookUnavailable") from exc
    status = response.status_code
    if status >= 500 or status in RETRYABLE_4XX:
        raise ApplicationError(f"webhook {url} answered {status}", type="WebhookTransient")
    if status >= 400:
        raise ApplicationError(
            f"webhook {url} refused the request with {status}: {response.text[:200]}",
            type="WebhookRejected",
            non_retryable=True,
        )
    if status >= 300:  # a redirect delivered nothing; following it would re-POST a signed body blindly
        location = response.headers.get("Location", "?")
        raise ApplicationError(
            f"webhook {url} redirected ({status}) to {location}; configure that URL instead",
            type="WebhookRedirected",
            non_retryable=True,
        )
    return response
