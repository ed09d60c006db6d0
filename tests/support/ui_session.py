"""Signing in to the pages in tests: an httpx client keeps the session cookie; a Playwright page
signs in through the real form."""

from __future__ import annotations

from typing import Any

import httpx


async def sign_in(client: httpx.AsyncClient, key: str) -> str:
    """Sign ``client`` in with ``key`` through the sign-in form; return the session's CSRF token."""
    answer = await client.post("/ui/sign-in", data={"key": key, "next": "/ui/journeys"})
    assert answer.status_code == 303, answer.text
    session = await client.get("/ui/session")
    assert session.status_code == 200, session.text
    token: str = session.json()["csrf_token"]
    return token


def sign_in_page(page: Any, base_url: str, key: str) -> None:
    """Sign a Playwright ``page`` in by typing ``key`` into the sign-in form, as a person would."""
    page.goto(f"{base_url}/ui/sign-in")
    page.fill("#key", key)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base_url}/ui/**")
