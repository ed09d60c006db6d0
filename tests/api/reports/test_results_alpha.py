"""GET /v1/journeys/{name}/results?alpha=: a level outside 0.0001..0.2 (or not a number) gets 422
naming ``query.alpha`` and the bound, never a 500 (``alpha=1e-17`` answered 500: ``1 - alpha`` is
1.0, no confidence); the bounds themselves are served."""

from __future__ import annotations

import httpx
import pytest

from api.routes.reports import MAX_ALPHA, MIN_ALPHA

RESULTS = "/v1/journeys/onboarding/results"


@pytest.mark.parametrize(
    ("alpha", "kind"),
    [
        ("1e-17", "greater_than_equal"),
        ("5e-324", "greater_than_equal"),
        ("1e-400", "greater_than_equal"),  # 0.0 as a float
        ("0", "greater_than_equal"),
        ("-0.05", "greater_than_equal"),
        ("0.00009", "greater_than_equal"),
        ("0.21", "less_than_equal"),
        ("1", "less_than_equal"),
        ("inf", "less_than_equal"),
        ("nan", "less_than_equal"),
        ("five", "float_parsing"),
    ],
)
async def test_an_alpha_out_of_bounds_gets_422_naming_it(
    api: httpx.AsyncClient, alpha: str, kind: str
) -> None:
    response = await api.get(RESULTS, params={"alpha": alpha})
    assert response.status_code == 422, response.text
    (error,) = response.json()["errors"]
    assert (error["path"], error["type"]) == ("query.alpha", kind)


async def test_the_bounds_are_named_in_the_answer_and_the_document(api: httpx.AsyncClient) -> None:
    (error,) = (await api.get(RESULTS, params={"alpha": "1e-17"})).json()["errors"]
    assert str(MIN_ALPHA) in error["message"]
    schema = next(
        p["schema"]
        for p in (await api.get("/openapi.json")).json()["paths"]["/v1/journeys/{name}/results"]["get"][
            "parameters"
        ]
        if p["name"] == "alpha"
    )
    assert (schema["minimum"], schema["maximum"]) == (MIN_ALPHA, MAX_ALPHA)


@pytest.mark.parametrize("alpha", [MIN_ALPHA, 0.05, MAX_ALPHA])
async def test_every_alpha_within_the_bounds_is_served(api: httpx.AsyncClient, alpha: float) -> None:
    response = await api.get(RESULTS, params={"alpha": alpha})
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["alpha"] == alpha
    assert [arm["interval"] for split in answer["splits"] for arm in split["arms"]]  # a split, no one in it
