"""The leaderboards page over HTTP: sign-in first (viewers may read); without a program, and with a
program that has no boards, it says so; an unknown period is a 422; ties share a rank and the page
lists what ``GET /v1/leaderboards/{id}`` lists."""

from __future__ import annotations

import re
from html import unescape

import httpx

from simulate.sandbox import Sandbox
from tests.api.conftest import deploy_example_program
from tests.support.loyalty_program import deploy_tiers

ROW = re.compile(r'<tr data-customer="([^"]+)" data-rank="(\d+)">')


async def test_the_page_needs_sign_in(anonymous: httpx.AsyncClient) -> None:
    answer = await anonymous.get("/ui/leaderboards")
    assert answer.status_code == 303
    assert answer.headers["location"].startswith("/ui/sign-in?next=/ui/leaderboards")


async def test_without_a_program_or_boards_the_page_says_so(
    sandbox: Sandbox, viewer: httpx.AsyncClient
) -> None:
    none = await viewer.get("/ui/leaderboards")
    await deploy_tiers(sandbox.store)  # a program of tiers only
    no_boards = await viewer.get("/ui/leaderboards")

    assert none.status_code == 200 == no_boards.status_code
    assert "data-no-program" in none.text and "No loyalty program is deployed" in none.text
    assert 'aria-current="page">Leaderboards</a>' in none.text
    assert "data-no-boards" in no_boards.text and "data-board=" not in no_boards.text


async def test_an_unknown_period_is_a_422(viewer: httpx.AsyncClient) -> None:
    for period in ("next", "x" * 5000, ""):
        assert (await viewer.get("/ui/leaderboards", params={"period": period})).status_code == 422


async def test_the_boards_list_what_the_api_lists_with_shared_ranks(
    sandbox: Sandbox, api: httpx.AsyncClient, viewer: httpx.AsyncClient
) -> None:
    await deploy_example_program(sandbox)
    for customer_id, points in (("ann", 300), ("ben", 300), ("cat", 120), ("opt", 900)):
        await api.put(f"/v1/customers/{customer_id}", json={"email": f"{customer_id}@example.com"})
        await sandbox.store.points.award(f"grant/{customer_id}", customer_id, points, "Grant")
    await api.put("/v1/customers/opt/leaderboard-opt-out", json={"opt_out": True})

    page = await viewer.get("/ui/leaderboards")
    board = (await api.get("/v1/leaderboards/weekly")).json()

    weekly = page.text[page.text.index('data-board="weekly"') : page.text.index('data-board="monthly"')]
    shown = [(customer, int(rank)) for customer, rank in ROW.findall(weekly)]
    assert shown == [(s["customer_id"], s["rank"]) for s in board["standings"]]
    assert shown == [("ann", 1), ("ben", 1), ("cat", 3)]
    assert unescape(weekly).count(">tied<") == 2
    assert '<a href="/ui/customers/ann">ann</a>' in weekly
    empty = await viewer.get("/ui/leaderboards", params={"period": "previous"})
    assert "data-empty-board" in empty.text and "Nobody earned points last week." in empty.text
