"""The pages' Jinja2 environment (autoescaped, strict) and the headers every page carries."""

from __future__ import annotations

import re
import secrets
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from starlette.templating import Jinja2Templates

from api.auth import Principal, csrf_token

HERE = Path(__file__).parent
STATIC_DIR = HERE / "static"
STATIC_URL = "/ui/static"

# Everything comes from this server; nothing runs inline; a page may frame only our email previews.
PAGE_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; frame-src 'self'; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
PAGE_HEADERS = {
    "Content-Security-Policy": PAGE_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


def _number(value: int) -> str:
    return f"{value:,}"


def _percent(value: float) -> str:
    return f"{value * 100:.1f}%"


def _money(value: float) -> str:
    return f"{value:,.2f}"


def _counted(value: int, noun: str) -> str:
    """``3 days``, ``1 day``: a count with its noun, in the singular for exactly one."""
    return f"{_number(value)} {noun if value == 1 else noun + 's'}"


_SNAKE_ID = re.compile(r"[a-z0-9]+(?:[_-][a-z0-9]+)*")


def _label(value: str) -> str:
    """``free_shipping`` → ``Free shipping``: an id written in snake case, read as words. Anything
    else (``VIP lounge``, ``Früh-Zugang``) is shown as its author wrote it."""
    if not _SNAKE_ID.fullmatch(value):
        return value
    words = re.sub(r"[_-]", " ", value)
    return words[:1].upper() + words[1:]


def _when(value: datetime) -> str:
    return f"{value:%Y-%m-%d %H:%M} UTC"


def _environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(HERE / "templates"),
        autoescape=select_autoescape(("html",), default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        number=_number, percent=_percent, money=_money, when=_when, counted=_counted, label=_label
    )
    env.globals["static"] = STATIC_URL
    return env


templates = Jinja2Templates(env=_environment())


def page(
    request: Request,
    name: str,
    principal: Principal,
    context: Mapping[str, Any],
    *,
    status_code: int = 200,
    style_nonce: bool = False,
) -> HTMLResponse:
    """Render template ``name`` for the signed-in ``principal``, with the CSRF token in its head.

    ``style_nonce``: the page's scripts add a ``<style>`` element (the editor's CodeMirror does);
    it may, with the nonce the page is given (``style_nonce`` in the template), and nothing else may.
    """
    full = {"principal": principal, "csrf_token": csrf_token(request), **context}
    headers = PAGE_HEADERS
    if style_nonce:
        nonce = secrets.token_urlsafe(18)
        full["style_nonce"] = nonce
        policy = PAGE_POLICY.replace("style-src 'self'", f"style-src 'self' 'nonce-{nonce}'")
        headers = {**PAGE_HEADERS, "Content-Security-Policy": policy}
    response: HTMLResponse = templates.TemplateResponse(
        request, name, full, status_code=status_code, headers=headers
    )
    return response
