"""JSON bodies Python's parser refuses for another reason than their syntax: nested deeper than it
recurses (about 1000 levels), or holding an integer of more than ``sys.get_int_max_str_digits()``
(4300) digits. Each gets 422 ``json_invalid`` at ``body`` saying which (FastAPI answered 400 "There
was an error parsing the body", naming nothing), in the API's ``ValidationProblem`` format, and
nothing is stored."""

from __future__ import annotations

import json
import sys

import httpx
import pytest

from simulate.sandbox import Sandbox

JSON = {"Content-Type": "application/json"}
DEEP = 5000
DIGITS = 5000


def deep_array(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


def deep_object(depth: int) -> bytes:
    return b'{"a": ' * depth + b"{}" + b"}" * depth


def with_long_integer(customer_id: str, digits: int) -> bytes:
    head = json.dumps({"event_id": f"long-{customer_id}", "customer_id": customer_id, "name": "page_viewed"})
    return head[:-1].encode() + b', "properties": {"n": ' + b"7" * digits + b"}}"


def the_problem(response: httpx.Response) -> dict[str, str]:
    assert response.status_code == 422, response.text
    answer = response.json()
    assert answer["detail"] == "1 problem(s) in the request"
    (problem,) = answer["errors"]
    assert (problem["path"], problem["type"]) == ("body", "json_invalid")
    return dict(problem)


@pytest.mark.parametrize(
    ("method", "path"),
    [("POST", "/v1/events"), ("POST", "/v1/events/batch"), ("PUT", "/v1/customers/deep")],
)
@pytest.mark.parametrize("body", [deep_array(DEEP), deep_object(DEEP)], ids=["arrays", "objects"])
async def test_a_body_nested_too_deep_to_parse_gets_422_saying_so(
    api: httpx.AsyncClient, sandbox: Sandbox, method: str, path: str, body: bytes
) -> None:
    response = await api.request(method, path, content=body, headers=JSON)
    problem = the_problem(response)
    assert problem["message"] == (
        "JSON decode error: nested too deeply (arrays and objects within one another are parsed "
        f"fewer than {sys.getrecursionlimit()} levels deep)"
    )
    assert await sandbox.store.customers.get("deep") is None


@pytest.mark.parametrize("path", ["/v1/events", "/v1/events/batch"])
async def test_a_body_with_an_integer_too_long_to_convert_gets_422_saying_so(
    api: httpx.AsyncClient, sandbox: Sandbox, path: str
) -> None:
    body = with_long_integer("long", DIGITS)
    if path.endswith("batch"):
        body = b'{"events": [' + body + b"]}"
    problem = the_problem(await api.post(path, content=body, headers=JSON))
    limit = sys.get_int_max_str_digits()
    assert problem["message"] == (
        f"JSON decode error: a number is too long (an integer of {DIGITS} digits, at most {limit})"
    )
    assert await sandbox.store.customers.get("long") is None


async def test_a_customer_put_with_an_integer_too_long_gets_422_saying_so(api: httpx.AsyncClient) -> None:
    body = b'{"first_name": "Lon", "plan_size": ' + b"9" * (sys.get_int_max_str_digits() + 1) + b"}"
    problem = the_problem(await api.put("/v1/customers/longer", content=body, headers=JSON))
    assert "a number is too long" in problem["message"]


async def test_nesting_and_integers_within_what_the_parser_takes_are_not_json_invalid(
    api: httpx.AsyncClient,
) -> None:
    """Parsed, so validated like any body: 422 for what the schema says, never json_invalid."""
    shallow = await api.post("/v1/events", content=deep_array(500), headers=JSON)
    long = await api.post("/v1/events", content=with_long_integer("fits", 4000), headers=JSON)
    for response in (shallow, long):
        assert response.status_code in (202, 422), response.text
        if response.status_code == 422:
            assert "json_invalid" not in {p["type"] for p in response.json()["errors"]}
