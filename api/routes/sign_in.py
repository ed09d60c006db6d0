"""Signing in to the pages with an API key (posted, never in a URL), and signing out."""

from __future__ import annotations

import hmac
from html import escape
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from api.auth import (
    COOKIE,
    CSRF_FIELD,
    SignInRequired,
    UiPrincipalDep,
    find_key,
    session_cookie,
    session_of,
)
from api.deps import SettingsDep

router = APIRouter(prefix="/ui", include_in_schema=False)
HOME = "/ui/journeys"

_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Sign in · Journeys</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
 body {{ font-family: system-ui, -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; margin: 0;
        background: #f4f6f8; color: #1f2933; }}
 main {{ max-width: 24rem; margin: 12vh auto; background: #fff; padding: 2rem 2.25rem;
        border-radius: 10px; box-shadow: 0 1px 3px rgba(15, 23, 42, .12); }}
 h1 {{ font-size: 1.4rem; margin: 0 0 .25rem; }}
 p {{ color: #3e4c59; line-height: 1.45; }}
 label {{ display: block; font-weight: 600; margin: 1.25rem 0 .4rem; }}
 input {{ width: 100%; box-sizing: border-box; font: inherit; padding: .6rem .7rem;
         border: 1px solid #9aa5b1; border-radius: 6px; }}
 input:focus {{ outline: 3px solid #2563eb; outline-offset: 1px; }}
 button {{ margin-top: 1.25rem; width: 100%; font: inherit; font-weight: 600; padding: .65rem;
          border: 0; border-radius: 6px; background: #1d4ed8; color: #fff; cursor: pointer; }}
 button:focus {{ outline: 3px solid #1e3a8a; outline-offset: 2px; }}
 .error {{ color: #9b1c1c; background: #fde8e8; padding: .6rem .75rem; border-radius: 6px; }}
</style></head>
<body><main>
<h1>Journeys</h1>
<p>Sign in with your API key. Ask whoever runs Journeys for one: viewers can look, editors can
also change journeys.</p>
{error}
<form method="post" action="/ui/sign-in">
 <input type="hidden" name="next" value="{next}">
 <label for="key">API key</label>
 <input id="key" name="key" type="password" autocomplete="current-password" required autofocus>
 <button type="submit">Sign in</button>
</form>
</main></body></html>
"""


def safe_next(path: str | None) -> str:
    """Where to go after signing in: a page of ours only (no other site, no scheme-relative URL)."""
    if path and path.startswith("/ui") and not path.startswith("//") and "\\" not in path:
        return path
    return HOME


def sign_in_page(next_path: str, error: str = "", status_code: int = 200) -> HTMLResponse:
    block = f'<p class="error" role="alert">{escape(error)}</p>' if error else ""
    return HTMLResponse(_PAGE.format(error=block, next=escape(next_path)), status_code=status_code)


async def redirect_to_sign_in(_: Request, exc: Exception) -> Response:
    assert isinstance(exc, SignInRequired)
    return RedirectResponse(f"/ui/sign-in?next={quote(exc.next_path, safe='/')}", status_code=303)


@router.get("/sign-in", response_class=HTMLResponse)
async def sign_in_form(request: Request, settings: SettingsDep, next: str | None = None) -> Response:
    if session_of(request, settings) is not None:
        return RedirectResponse(safe_next(next), status_code=303)
    return sign_in_page(safe_next(next))


@router.post("/sign-in", response_class=HTMLResponse)
async def sign_in(
    request: Request,
    settings: SettingsDep,
    key: Annotated[str, Form(max_length=1000)],
    next: Annotated[str, Form(max_length=2000)] = HOME,
) -> Response:
    found = find_key(settings, key)
    if found is None:
        return sign_in_page(safe_next(next), "That key is not valid.", status_code=401)
    response = RedirectResponse(safe_next(next), status_code=303)
    response.set_cookie(
        COOKIE,
        session_cookie(found, settings),
        max_age=int(settings.session_hours * 3600),
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
        path="/",
    )
    return response


@router.get("/session")
async def session(principal: UiPrincipalDep) -> dict[str, str]:
    """Who is signed in, and the CSRF token their pages send with every change."""
    return {"name": principal.name, "role": principal.role, "csrf_token": principal.csrf or ""}


@router.post("/sign-out")
async def sign_out(request: Request, settings: SettingsDep) -> Response:
    """Forget the session (a form post carrying the CSRF token; without it, nothing happens)."""
    principal = session_of(request, settings)
    form = await request.form()
    response = RedirectResponse("/ui/sign-in", status_code=303)
    given = str(form.get(CSRF_FIELD) or "")
    if principal is not None and principal.csrf and hmac.compare_digest(given, principal.csrf):
        response.delete_cookie(COOKIE, path="/", httponly=True, samesite="strict")
    return response
