"""Who is asking: an API key (``Authorization: Bearer``) or a browser signed in with one.

Each key has a name and a role (``config.settings.ApiKey``): viewers read, editors also change.
A browser signs in by posting a key to ``/ui/sign-in`` (never in a URL) and gets a session cookie,
signed with ``session_secret`` (HttpOnly, SameSite=Strict, Secure on https). The cookie names the
key by a fingerprint, so removing a key from the settings ends its sessions. Every request that
changes something and is authenticated by the cookie must carry the session's CSRF token in the
``X-CSRF-Token`` header (or the ``csrf_token`` form field).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from api.deps import SettingsDep
from config.settings import ApiKey, Role, Settings

COOKIE = "journeys_session"
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
_bearer = HTTPBearer(auto_error=False, description="one of the API keys from settings (JOURNEYS_API_KEYS)")


@dataclass(frozen=True)
class Principal:
    name: str
    role: Role
    csrf: str | None = None  # set for a browser session, None for a bearer key

    @property
    def can_edit(self) -> bool:
        return self.role == "editor"


class SignInRequired(Exception):
    """A page was asked for without a session; the app answers with a redirect to the sign-in page."""

    def __init__(self, next_path: str) -> None:
        super().__init__(next_path)
        self.next_path = next_path


def _fingerprint(key: str) -> str:
    return hashlib.sha256(b"journeys-api-key:" + key.encode("utf-8")).hexdigest()[:32]


def find_key(settings: Settings, given: str) -> ApiKey | None:
    """The key ``given`` names, compared with every key (no early exit, so timing tells nothing)."""
    found = None
    for key in settings.keys():
        if hmac.compare_digest(given.encode("utf-8"), key.key.encode("utf-8")):
            found = key
    return found


def _b64(data: bytes) -> str:
    """URL-safe base64 without padding: a cookie value that needs no quoting."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _sign(payload: bytes, secret: str) -> str:
    return _b64(hmac.new(secret.encode(), payload, hashlib.sha256).digest())


def session_cookie(key: ApiKey, settings: Settings, now: float | None = None) -> str:
    """A new session for ``key``: who, until when, and a fresh CSRF token, signed."""
    body = {
        "k": _fingerprint(key.key),
        "x": int((now or time.time()) + settings.session_hours * 3600),
        "c": secrets.token_urlsafe(24),
    }
    payload = _b64(json.dumps(body, separators=(",", ":")).encode())
    return f"{payload}.{_sign(payload.encode(), settings.session_secret)}"


def read_session(cookie: str, settings: Settings, now: float | None = None) -> Principal | None:
    """The signed-in principal, or None for a cookie that is forged, expired or of a removed key."""
    payload, _, signature = cookie.partition(".")
    expected = _sign(payload.encode("ascii", "replace"), settings.session_secret)
    if not signature or not hmac.compare_digest(signature.encode("ascii", "replace"), expected.encode()):
        return None
    try:
        body: dict[str, Any] = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        fingerprint, expires, csrf = str(body["k"]), int(body["x"]), str(body["c"])
    except (binascii.Error, ValueError, KeyError, TypeError):
        return None
    if expires < (now or time.time()):
        return None
    for key in settings.keys():
        if hmac.compare_digest(_fingerprint(key.key), fingerprint):
            return Principal(key.name, key.role, csrf)
    return None


def session_of(request: Request, settings: Settings) -> Principal | None:
    cookie = request.cookies.get(COOKIE)
    return read_session(cookie, settings) if cookie else None


async def _csrf_ok(request: Request, principal: Principal) -> bool:
    given = request.headers.get(CSRF_HEADER)
    if given is None and request.headers.get("content-type", "").startswith(
        "application/x-www-form-urlencoded"
    ):
        given = str((await request.form()).get(CSRF_FIELD) or "")
    expected = principal.csrf
    return bool(given) and expected is not None and hmac.compare_digest(str(given), expected)


async def require_principal(
    request: Request,
    settings: SettingsDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    """For ``/v1``: a bearer key, or a browser session (with its CSRF token on a change); viewers
    may only read. 401 for a missing or wrong key, the same answer for both."""
    principal: Principal | None = None
    if credentials is not None and credentials.scheme.lower() == "bearer":
        key = find_key(settings, credentials.credentials)
        principal = Principal(key.name, key.role) if key else None
    elif credentials is None:
        principal = session_of(request, settings)
        if (
            principal is not None
            and request.method not in SAFE_METHODS
            and not await _csrf_ok(request, principal)
        ):
            raise HTTPException(status.HTTP_403_FORBIDDEN, detail=f"missing or wrong {CSRF_HEADER} header")
    if principal is None:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED, detail="unauthorized", headers={"WWW-Authenticate": "Bearer"}
        )
    if request.method not in SAFE_METHODS and not principal.can_edit:
        raise HTTPException(
            status.HTTP_403_FORBIDDEN, detail=f"{principal.name} is a viewer: viewers may only read"
        )
    return principal


async def require_ui_principal(request: Request, settings: SettingsDep) -> Principal:
    """For pages: the signed-in principal, else a redirect to the sign-in page (back here after)."""
    principal = session_of(request, settings)
    if principal is None:
        path = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise SignInRequired(path)
    if request.method not in SAFE_METHODS and not await _csrf_ok(request, principal):
        raise HTTPException(status.HTTP_403_FORBIDDEN, detail=f"missing or wrong {CSRF_FIELD}")
    return principal


def csrf_token(request: Request) -> str:
    """The CSRF token of the request's session, to embed in its page (empty when signed out)."""
    principal = session_of(request, request.app.state.settings)
    return principal.csrf or "" if principal else ""


PrincipalDep = Annotated[Principal, Depends(require_principal)]
UiPrincipalDep = Annotated[Principal, Depends(require_ui_principal)]
