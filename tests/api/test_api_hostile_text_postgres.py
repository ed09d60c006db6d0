"""Hostile text over HTTP on PostgreSQL, which refuses what SQLite takes: a NUL (U+0000) in TEXT,
VARCHAR and JSONB, and (no driver can even send it) a lone surrogate, which JSON's ``\\ud800`` makes.

Every free-text body field, path and query parameter of the routes under ``api/routes`` and every
journey, program and policy file deployed through them gets a NUL (one-line fields a newline too,
body fields a lone surrogate) and is answered 4xx naming the field, or the file's line and column,
before anything is stored: never a 500, never a workflow retrying for ever on what was let in. A
provider's bounce diagnostic is kept, not refused (refusing would lose the suppression): stored
cleaned, answered 200. The app runs over a store in a database of its own on the session's PostgreSQL.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import pytest_asyncio
import sqlalchemy as sa
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from api.app import create_app
from engine.loader import load_directory
from simulate.sandbox import Sandbox
from store.engagement_tables import suppressions
from store.suppressions import address_key, suppression_of
from tests.api.conftest import API_KEY, AUTH, JOURNEYS_DIR, http_client

YAML = {"Content-Type": "application/yaml"}
JSON = {"Content-Type": "application/json"}
CUSTOMER = "hostile-ada"
CUSTOMER_URL = f"/v1/customers/{CUSTOMER}"
Body = dict[str, Any]


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def database(postgres_url: str) -> AsyncIterator[str]:
    """A database of this module's own on the session's PostgreSQL, dropped at its end."""
    url = make_url(postgres_url)
    name = f"hostile_{uuid.uuid4().hex[:12]}"
    admin = create_async_engine(url, isolation_level="AUTOCOMMIT")
    try:
        async with admin.connect() as conn:
            await conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
        yield url.set(database=name).render_as_string(hide_password=False)
        async with admin.connect() as conn:
            await conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        await admin.dispose()


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def sandbox(database: str, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Sandbox]:
    settings = {"api_keys": [API_KEY], "journeys_dir": JOURNEYS_DIR, "unsubscribe_secret": "s" * 32}
    async with Sandbox.open(
        load_directory(JOURNEYS_DIR),
        workdir=tmp_path_factory.mktemp("hostile-text"),
        database_url=database,
        settings=settings,
    ) as opened:
        assert opened.store.dialect == "postgresql"
        yield opened


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def api(sandbox: Sandbox) -> AsyncIterator[httpx.AsyncClient]:
    """A client with a key, a customer and the example loyalty program deployed."""
    app = create_app(sandbox.settings, client=sandbox.client, store=sandbox.store, router=sandbox.router)
    async with app.router.lifespan_context(app), http_client(app, AUTH) as client:
        assert (await client.put(CUSTOMER_URL, json={"first_name": "Ada"})).status_code == 200
        program = (JOURNEYS_DIR / "loyalty.yaml").read_text("utf-8")
        assert (await client.put("/v1/loyalty/program", content=program, headers=YAML)).status_code == 200
        yield client


def refused(response: httpx.Response) -> list[str]:
    """The paths a 422 names."""
    assert response.status_code == 422, (response.status_code, response.text)
    return [problem["path"] for problem in response.json()["errors"]]


# ------------------------------------------------------------------ the bounce webhook: kept, cleaned


async def stored_bounce(sandbox: Sandbox, email: str) -> tuple[str | None, str | None]:
    async with sandbox.store.engine.connect() as conn:
        query = sa.select(suppressions.c.reason, suppressions.c.message_id).where(
            suppressions.c.address == address_key(email)
        )
        reason, message_id = (await conn.execute(query)).one()
    return reason, message_id


@pytest.mark.parametrize(
    ("field", "given", "kept"),
    [
        ("reason", "550 gone\\ud800 \\udfff!", "550 gone\ufffd \ufffd!"),
        ("reason", "550\\r\\n5.1.1\\u0000 \\ud83d\\ude00", "550  5.1.1  \U0001f600"),
        ("message_id", "<m\\udc80@x>", "<m\ufffd@x>"),
    ],
)
async def test_a_lone_surrogate_in_a_bounce_diagnostic_is_kept_as_u_fffd_and_the_address_suppressed(
    api: httpx.AsyncClient, sandbox: Sandbox, field: str, given: str, kept: str
) -> None:
    # Before: 500, asyncpg could not encode the text ("surrogates not allowed"); nothing suppressed.
    email = f"{uuid.uuid4().hex[:8]}@example.com"
    body = '{"email": "%s", "type": "bounce", "%s": "%s"}' % (email, field, given)  # noqa: UP031

    answer = await api.post("/v1/webhooks/bounces", content=body, headers=JSON)

    assert answer.status_code == 200, answer.text
    reason, message_id = await stored_bounce(sandbox, email)
    assert (reason if field == "reason" else message_id) == kept
    assert await suppression_of(sandbox.store.engine, email) == "bounce"


async def test_a_lone_surrogate_in_a_bounced_address_gets_422(api: httpx.AsyncClient) -> None:
    body = '{"email": "a\\ud800@example.com", "type": "bounce"}'
    assert refused(await api.post("/v1/webhooks/bounces", content=body, headers=JSON)) == ["body.email"]


# ------------------------------------------------------------------ JSON bodies: 422 naming the field


def event(**fields: Any) -> Body:
    return {"event_id": f"e-{uuid.uuid4().hex}", "customer_id": CUSTOMER, "name": "page_viewed", **fields}


def points(**fields: Any) -> Body:
    return {"key": "k", "points": 1, "reason": "r", **fields}


BATCH = "/v1/events/batch"
AWARD = f"{CUSTOMER_URL}/points/award"
REDEEM = f"{CUSTOMER_URL}/points/redeem"
VOUCHERS = "/v1/loyalty/rewards/gift_card/vouchers"
ROLLBACK = "/v1/journeys/onboarding/rollback"
BODIES: list[tuple[str, str, Body, str]] = [
    ("POST", "/v1/events", event(event_id="e\x00"), "body.event_id"),
    ("POST", "/v1/events", event(customer_id="c\x00"), "body.customer_id"),
    ("POST", "/v1/events", event(name="page\x00"), "body.name"),
    ("POST", "/v1/events", event(name="page\n"), "body.name"),
    ("POST", "/v1/events", event(properties={"q": "a\x00"}), "body.properties.q"),
    ("POST", "/v1/events", event(traits={"first_name": "A\x00"}), "body.traits.first_name"),
    ("POST", "/v1/events", event(traits={"last_name": "A\n"}), "body.traits.last_name"),
    ("POST", "/v1/events", event(traits={"email": "a\x00@b.co"}), "body.traits.email"),
    ("POST", "/v1/events", event(traits={"locale": "en\x00"}), "body.traits.locale"),
    ("POST", "/v1/events", event(traits={"timezone": "UTC\x00"}), "body.traits.timezone"),
    ("POST", "/v1/events", event(traits={"nick": "a\x00"}), "body.traits.nick"),
    ("POST", BATCH, {"events": [event(properties={"q": "\x00"})]}, "body.events[0].properties.q"),
    ("PUT", CUSTOMER_URL, {"first_name": "A\x00"}, "body.first_name"),
    ("PUT", CUSTOMER_URL, {"email": "a@b.co\n"}, "body.email"),
    ("PUT", CUSTOMER_URL, {"tags": ["x\x00"]}, "body.tags[0]"),
    ("POST", AWARD, points(key="k\x00"), "body.key"),
    ("POST", AWARD, points(reason="r\x00"), "body.reason"),
    ("POST", AWARD, points(reason="r\n"), "body.reason"),
    ("POST", REDEEM, points(key="k\x00"), "body.key"),
    ("POST", REDEEM, points(reason="r\x00"), "body.reason"),
    ("POST", f"{CUSTOMER_URL}/rewards/gift_card/redeem", {"key": "k\x00"}, "body.key"),
    ("POST", VOUCHERS, {"codes": ["ABCD\x00"]}, "body.codes[0]"),
    ("POST", VOUCHERS, {"codes": ["ABCDE\n"]}, "body.codes[0]"),
    ("PUT", f"{CUSTOMER_URL}/leaderboard-opt-out", {"opt_out": "\x00"}, "body.opt_out"),
    ("POST", ROLLBACK, {"version": "v\x00"}, "body.version"),
    ("POST", ROLLBACK, {"version": "v1\n"}, "body.version"),
    ("POST", "/v1/webhooks/bounces", {"email": "a\x00@b.co", "type": "bounce"}, "body.email"),
]


@pytest.mark.parametrize(("method", "url", "body", "path"), BODIES)
async def test_a_nul_or_newline_in_a_body_field_gets_422_naming_it(
    api: httpx.AsyncClient, method: str, url: str, body: Body, path: str
) -> None:
    assert path in refused(await api.request(method, url, json=body))


@pytest.mark.parametrize(
    ("method", "url", "body", "path"),
    [
        ("POST", AWARD, '{"key": "k", "points": 1, "reason": "r\\ud800"}', "body.reason"),
        ("POST", REDEEM, '{"key": "k\\udfff", "points": 1, "reason": "r"}', "body.key"),
        ("PUT", CUSTOMER_URL, '{"first_name": "A\\ud800"}', "body.first_name"),
        ("PUT", CUSTOMER_URL, '{"nick": "A\\ud800"}', "body.nick"),
        ("POST", VOUCHERS, '{"codes": ["ABCD\\ud800"]}', "body.codes[0]"),
    ],
)
async def test_a_lone_surrogate_in_a_body_field_gets_422_naming_it(
    api: httpx.AsyncClient, method: str, url: str, body: str, path: str
) -> None:
    assert path in refused(await api.request(method, url, content=body, headers=JSON))


# ------------------------------------------------------------------ path and query parameters

PARAMETERS: list[tuple[str, str]] = [
    ("GET", "/v1/customers/a%00b"),
    ("GET", "/v1/customers/ab%0A"),
    ("PUT", "/v1/customers/a%00b"),
    ("DELETE", "/v1/customers/a%00b"),
    ("GET", "/v1/customers/a%00b/points"),
    ("POST", "/v1/customers/a%00b/points/award"),
    ("GET", "/v1/customers/a%00b/wallet"),
    ("GET", "/v1/customers/a%00b/ledger"),
    ("GET", f"{CUSTOMER_URL}/ledger?after=%00"),
    ("GET", "/v1/customers/a%00b/referral-code"),
    ("GET", "/v1/customers/a%00b/referrals"),
    ("GET", "/v1/customers/a%00b/challenges"),
    ("PUT", "/v1/customers/a%00b/leaderboard-opt-out"),
    ("POST", f"{CUSTOMER_URL}/rewards/gift%00card/redeem"),
    ("POST", f"{CUSTOMER_URL}/rewards/gift_card%0A/redeem"),
    ("POST", "/v1/loyalty/rewards/gift%00card/vouchers"),
    ("GET", "/v1/leaderboards/weekly%00"),
    ("GET", "/v1/leaderboards/weekly%0A"),
    ("GET", "/v1/leaderboards/weekly?period=current%00"),
    ("GET", "/v1/segments/vip%00"),
    ("GET", "/v1/segments/vip%0A"),
    ("GET", "/v1/journeys/onboarding%00"),
    ("GET", "/v1/journeys/onboarding%0A/stats"),
    ("POST", "/v1/journeys/onboarding%00/pause"),
    ("POST", "/v1/journeys/onboarding%00/resume"),
    ("GET", "/v1/journeys/onboarding%00/versions"),
    ("GET", "/v1/journeys/onboarding/versions?limit=1%00"),
    ("GET", "/v1/journeys/onboarding/versions/v%00/diff/v2"),
    ("GET", "/v1/journeys/onboarding/versions/v1/diff/v2%0A"),
    ("PUT", "/v1/journeys/onboarding%00"),
    ("POST", "/v1/journeys/onboarding%00/review"),
    ("POST", "/v1/journeys/onboarding%00/rollback"),
]


@pytest.mark.parametrize(("method", "url"), PARAMETERS)
async def test_a_nul_or_newline_in_a_path_or_query_parameter_gets_422_naming_it(
    api: httpx.AsyncClient, method: str, url: str
) -> None:
    paths = refused(await api.request(method, url, json={}))
    assert any(path.startswith(("path.", "query.")) for path in paths), paths


@pytest.mark.parametrize(
    ("method", "url", "status"),
    [
        ("GET", "/t/o/a%00b", 404),
        ("GET", "/t/c/a%00b", 404),
        ("GET", "/unsubscribe/a%00b", 400),
        ("POST", "/unsubscribe/a%00b", 400),
    ],
)
async def test_a_nul_in_a_signed_token_is_a_bad_link(
    api: httpx.AsyncClient, method: str, url: str, status: int
) -> None:
    assert (await api.request(method, url)).status_code == status


async def test_a_nul_in_the_sign_in_form_is_no_key(api: httpx.AsyncClient) -> None:
    assert (await api.post("/ui/sign-in", data={"key": "k\x00", "next": "/ui\x00"})).status_code == 401


# ------------------------------------------------------------------ files deployed through the API


def journey(description: str) -> str:
    """journeys/onboarding.yaml with another description (written as given: quoted, escaped)."""
    text = (JOURNEYS_DIR / "onboarding.yaml").read_text("utf-8")
    return re.sub(r"description: >\n(?:  .*\n)+", lambda _: f"description: {description}\n", text, count=1)


PROGRAM = (JOURNEYS_DIR / "loyalty.yaml").read_text("utf-8")
POLICY = 'policy: "quiet"\nchannels:\n  email:\n    quiet_hours: {start: "22:00", end: "07:00"}\n'
FILES: list[tuple[str, str, str, int]] = [
    ("PUT", "/v1/journeys/onboarding", journey('"welcome\\0"'), 3),
    ("POST", "/v1/journeys/onboarding/review", journey('"welcome\\0"'), 3),
    ("POST", "/v1/journeys/validate", journey('"welcome\\u0000"'), 3),
    ("PUT", "/v1/loyalty/program", PROGRAM.replace("reason: Purchase", 'reason: "Purch\\0ase"'), 20),
    ("PUT", "/v1/loyalty/program", PROGRAM.replace("name: bronze", '"name\\0": bronze'), 12),
    ("PUT", "/v1/channels/policy", POLICY.replace('"quiet"', '"qu\\x00iet"'), 1),
]


@pytest.mark.parametrize(("method", "url", "text", "line"), FILES)
async def test_a_nul_written_as_an_escape_in_a_file_gets_a_positioned_422(
    api: httpx.AsyncClient, method: str, url: str, text: str, line: int
) -> None:
    response = await api.request(method, url, content=text, headers=YAML)
    assert response.status_code == 422, response.text
    found = [(problem["line"], problem["message"]) for problem in response.json()["errors"]]
    assert (line, "control character U+0000 is not allowed in a journey file") in found, found


@pytest.mark.parametrize(
    ("source", "fields"),
    [
        (None, {"description": "a\x00"}),
        (None, {"k\x00": 1}),
        (None, {"description": "a\ud800"}),
        ("journey: a\x00", {"description": "a"}),
        ("journey: a\ud800", {"description": "a"}),
    ],
)
async def test_an_edit_holding_a_nul_or_a_lone_surrogate_is_answered_not_a_500(
    api: httpx.AsyncClient, source: str | None, fields: Body
) -> None:
    # Stateless (nothing is stored), but the same text: answered with its problems or refused.
    body = {
        "source": source or (JOURNEYS_DIR / "onboarding.yaml").read_text("utf-8"),
        "operation": {"op": "set_fields", "step": "joined", "fields": fields},
    }
    content = json.dumps(body)  # ASCII: a lone surrogate goes as its \ud800 escape
    response = await api.post("/v1/journeys/edit", content=content, headers=JSON)
    assert response.status_code in (200, 422), response.text
    if response.status_code == 200:
        assert not response.json()["valid"]


async def test_a_nul_in_a_page_s_search_or_cursor_is_no_match_not_a_500(api: httpx.AsyncClient) -> None:
    # The pages take free text in their query strings: a search, a message's key, a step's cursor.
    cookies = await api.post("/ui/sign-in", data={"key": API_KEY, "next": "/ui/journeys"})
    assert cookies.status_code == 303, cookies.text
    for path, params, expected in (
        ("/ui/customers", {"q": "ada\x00@example.com"}, 200),
        ("/ui/customers", {"q": "ada\x1b"}, 200),
        (f"/ui/customers/{CUSTOMER}/messages", {"key": "k\x00"}, 404),
        (f"/ui/customers/{CUSTOMER}/messages/html", {"key": "k\x00"}, 404),
        ("/ui/journeys/onboarding/steps/wait_profile/customers", {"after": "c\x00"}, 422),
    ):
        answer = await api.get(path, params=params)
        assert answer.status_code == expected, (path, params, answer.status_code, answer.text[:300])
