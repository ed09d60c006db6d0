"""Sign-in and roles: keys with names and roles, a signed session cookie for the pages, CSRF on
every change made with it, and viewers who may only read — through the API and the browser alike."""

from __future__ import annotations

import httpx
from fastapi import FastAPI

from api.auth import COOKIE, read_session
from simulate.sandbox import Sandbox
from tests.api.conftest import API_KEY, EDITOR_KEY, VIEWER_KEY, http_client
from tests.api.support import event
from tests.support.ui_session import sign_in


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


async def test_viewers_read_and_are_refused_every_change(anonymous: httpx.AsyncClient) -> None:
    read = await anonymous.get("/v1/journeys/onboarding", headers=bearer(VIEWER_KEY))
    pause = await anonymous.post("/v1/journeys/onboarding/pause", headers=bearer(VIEWER_KEY))
    send = await anonymous.post("/v1/events", json=event("signed_up", "vic"), headers=bearer(VIEWER_KEY))
    by_editor = await anonymous.post("/v1/events", json=event("signed_up", "vic"), headers=bearer(EDITOR_KEY))
    by_plain_key = await anonymous.put(
        "/v1/customers/vic", json={"first_name": "Vic"}, headers=bearer(API_KEY)
    )

    assert read.status_code == 200
    assert (pause.status_code, pause.json()["detail"]) == (
        403,
        "Vera Viewer is a viewer: viewers may only read",
    )
    assert send.status_code == 403
    assert by_editor.status_code == 202  # a named editor
    assert by_plain_key.status_code == 200  # a plain key keeps working, as an editor


async def test_signing_in_sets_a_strict_http_only_cookie_and_never_puts_the_key_in_a_url(
    app: FastAPI,
) -> None:
    async with http_client(app) as browser:
        form = await browser.get("/ui/sign-in?next=/ui/journeys/onboarding")
        answer = await browser.post(
            "/ui/sign-in", data={"key": VIEWER_KEY, "next": "/ui/journeys/onboarding"}
        )

    assert form.status_code == 200 and 'type="password"' in form.text and 'method="post"' in form.text
    assert answer.status_code == 303
    assert answer.headers["location"] == "/ui/journeys/onboarding"
    cookie = answer.headers["set-cookie"]
    assert cookie.startswith(f"{COOKIE}=")
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Secure" not in cookie
    assert VIEWER_KEY not in cookie and VIEWER_KEY not in answer.headers["location"]


async def test_on_https_the_cookie_is_secure(app: FastAPI) -> None:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="https://journeys.example") as browser:
        answer = await browser.post("/ui/sign-in", data={"key": EDITOR_KEY})
    assert "Secure" in answer.headers["set-cookie"]


async def test_a_wrong_key_gets_the_form_again_and_no_cookie(app: FastAPI) -> None:
    async with http_client(app) as browser:
        answer = await browser.post("/ui/sign-in", data={"key": "not-a-key"})
    assert answer.status_code == 401
    assert "That key is not valid." in answer.text
    assert "set-cookie" not in answer.headers


async def test_after_sign_in_only_local_pages_are_followed(app: FastAPI) -> None:
    async with http_client(app) as browser:
        for elsewhere in ("https://evil.example/", "//evil.example/ui", "/v1/journeys", "/ui\\@evil"):
            answer = await browser.post("/ui/sign-in", data={"key": EDITOR_KEY, "next": elsewhere})
            assert answer.headers["location"] == "/ui/journeys", elsewhere


async def test_a_page_without_a_session_redirects_to_sign_in_and_back(app: FastAPI) -> None:
    async with http_client(app) as browser:
        asked = await browser.get("/ui/session")
        await sign_in(browser, VIEWER_KEY)
        session = await browser.get("/ui/session")

    assert asked.status_code == 303 and asked.headers["location"] == "/ui/sign-in?next=/ui/session"
    assert session.json()["name"] == "Vera Viewer" and session.json()["role"] == "viewer"


async def test_changes_made_with_the_cookie_need_the_csrf_token(app: FastAPI, sandbox: Sandbox) -> None:
    async with http_client(app) as browser:
        csrf = await sign_in(browser, EDITOR_KEY)
        read = await browser.get("/v1/journeys/onboarding")
        forged = await browser.post("/v1/journeys/onboarding/pause")
        wrong = await browser.post("/v1/journeys/onboarding/pause", headers={"X-CSRF-Token": "guess"})
        paused = await browser.post("/v1/journeys/onboarding/pause", headers={"X-CSRF-Token": csrf})
        resumed = await browser.post("/v1/journeys/onboarding/resume", headers={"X-CSRF-Token": csrf})

    assert read.status_code == 200
    assert forged.status_code == 403 and "X-CSRF-Token" in forged.json()["detail"]
    assert wrong.status_code == 403
    assert paused.json() == {"name": "onboarding", "paused": True}
    assert resumed.json() == {"name": "onboarding", "paused": False}
    assert not await sandbox.store.deployments.is_paused("onboarding")


async def test_a_viewer_signed_in_cannot_pause_even_with_the_token(app: FastAPI) -> None:
    async with http_client(app) as browser:
        csrf = await sign_in(browser, VIEWER_KEY)
        refused = await browser.post("/v1/journeys/onboarding/pause", headers={"X-CSRF-Token": csrf})
    assert refused.status_code == 403 and "viewers may only read" in refused.json()["detail"]


async def test_a_forged_or_outdated_cookie_is_no_session(app: FastAPI, sandbox: Sandbox) -> None:
    async with http_client(app) as browser:
        await sign_in(browser, EDITOR_KEY)
        cookie = browser.cookies[COOKIE]
    payload, signature = cookie.split(".")
    settings = sandbox.settings
    assert read_session(cookie, settings) is not None
    assert read_session(f"{payload}x.{signature}", settings) is None
    assert read_session(cookie, settings, now=10**12) is None  # expired
    without_key = settings.model_copy(update={"api_keys": [API_KEY]})
    assert read_session(cookie, without_key) is None  # the key was removed: its sessions end
    async with http_client(app) as stranger:
        stranger.cookies.set(COOKIE, f"{payload}.{signature[:-2]}AA")
        assert (await stranger.get("/v1/journeys/onboarding")).status_code == 401


async def test_signing_out_needs_the_token_and_ends_the_session(app: FastAPI) -> None:
    async with http_client(app) as browser:
        csrf = await sign_in(browser, EDITOR_KEY)
        await browser.post("/ui/sign-out")  # no token: a cross-site post changes nothing
        still = await browser.get("/ui/session")
        out = await browser.post("/ui/sign-out", data={"csrf_token": csrf})
        after = await browser.get("/ui/session")

    assert still.status_code == 200
    assert out.status_code == 303 and out.headers["location"] == "/ui/sign-in"
    assert after.status_code == 303
