"""The OpenAPI document: every route, its success schema, and its documented error responses."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from api.app import create_app
from config.settings import Settings

V1 = {"401"}
EXPECTED: dict[tuple[str, str], set[str]] = {
    ("post", "/v1/events"): V1 | {"202", "409", "413", "422", "503"},
    ("post", "/v1/events/batch"): V1 | {"202", "409", "413", "422", "503"},
    ("put", "/v1/customers/{customer_id}"): V1 | {"200", "413", "422", "503"},
    ("get", "/v1/customers/{customer_id}"): V1 | {"200", "404", "422", "503"},
    ("delete", "/v1/customers/{customer_id}"): V1 | {"200", "404", "422", "503"},
    ("get", "/v1/customers/{customer_id}/points"): V1 | {"200", "404", "422"},
    ("post", "/v1/customers/{customer_id}/points/redeem"): V1 | {"200", "404", "409", "413", "422"},
    ("post", "/v1/customers/{customer_id}/points/award"): V1 | {"200", "404", "413", "422"},
    ("get", "/v1/loyalty/program"): V1 | {"200", "404"},
    ("put", "/v1/loyalty/program"): V1 | {"200", "413", "422"},
    ("get", "/v1/channels/policy"): V1 | {"200", "404"},
    ("put", "/v1/channels/policy"): V1 | {"200", "413", "422"},
    ("get", "/v1/loyalty/rewards"): V1 | {"200"},
    ("post", "/v1/loyalty/rewards/{reward_id}/vouchers"): V1 | {"200", "404", "409", "413", "422"},
    ("post", "/v1/customers/{customer_id}/rewards/{reward_id}/redeem"): V1
    | {"200", "404", "409", "413", "422"},
    ("get", "/v1/customers/{customer_id}/wallet"): V1 | {"200", "404", "422"},
    ("get", "/v1/customers/{customer_id}/ledger"): V1 | {"200", "404", "422"},
    ("get", "/v1/customers/{customer_id}/referral-code"): V1 | {"200", "404", "422"},
    ("get", "/v1/customers/{customer_id}/referrals"): V1 | {"200", "404", "422"},
    ("get", "/v1/customers/{customer_id}/challenges"): V1 | {"200", "404", "422"},
    ("put", "/v1/customers/{customer_id}/leaderboard-opt-out"): V1 | {"200", "404", "413", "422"},
    ("get", "/v1/leaderboards"): V1 | {"200"},
    ("get", "/v1/leaderboards/{board_id}"): V1 | {"200", "404", "422"},
    ("get", "/v1/segments"): V1 | {"200"},
    ("get", "/v1/segments/{name}"): V1 | {"200", "404", "422"},
    ("get", "/v1/journeys"): V1 | {"200"},
    ("post", "/v1/journeys/validate"): V1 | {"200", "413", "422"},
    ("post", "/v1/journeys/edit"): V1 | {"200", "413", "422"},
    ("get", "/v1/journeys/{name}"): V1 | {"200", "404", "422"},
    ("put", "/v1/journeys/{name}"): V1 | {"200", "413", "422"},
    ("post", "/v1/journeys/{name}/pause"): V1 | {"200", "404", "422"},
    ("post", "/v1/journeys/{name}/resume"): V1 | {"200", "404", "422"},
    ("get", "/v1/journeys/{name}/stats"): V1 | {"200", "404", "422"},
    ("get", "/v1/journeys/{name}/results"): V1 | {"200", "404", "422"},
    ("get", "/v1/reports/lifecycle"): V1 | {"200", "422"},
    ("get", "/v1/reports/clv"): V1 | {"200", "422"},
    ("get", "/v1/reports/acquisition"): V1 | {"200", "422"},
    ("post", "/v1/journeys/{name}/review"): V1 | {"200", "413", "422"},
    ("get", "/v1/journeys/{name}/versions"): V1 | {"200", "404", "422"},
    ("get", "/v1/journeys/{name}/versions/{before}/diff/{after}"): V1 | {"200", "404", "422"},
    ("post", "/v1/journeys/{name}/rollback"): V1 | {"200", "404", "413", "422"},
    ("post", "/v1/webhooks/bounces"): V1 | {"200", "409", "413", "422", "503"},
    ("get", "/unsubscribe/{token}"): {"200", "400", "422"},
    ("get", "/t/o/{token}"): {"200", "404", "422"},
    ("get", "/t/c/{token}"): {"302", "404", "422"},
    ("post", "/unsubscribe/{token}"): {"200", "400", "422", "503"},
    ("get", "/healthz"): {"200"},
    ("get", "/readyz"): {"200", "503"},
    ("get", "/metrics"): {"200"},
}


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    return create_app(Settings(_env_file=None)).openapi()


def operations(document: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    return {(method, path): op for path, ops in document["paths"].items() for method, op in ops.items()}


def test_every_route_is_documented_with_its_error_responses(document: dict[str, Any]) -> None:
    found = operations(document)
    assert set(found) == set(EXPECTED)
    for key, codes in EXPECTED.items():
        assert set(found[key]["responses"]) == codes, key


def test_every_response_has_a_described_schema(document: dict[str, Any]) -> None:
    for key, op in operations(document).items():
        assert op.get("summary"), key
        for code, response in op["responses"].items():
            assert response["description"], (key, code)
            schemas = [media.get("schema") for media in response.get("content", {}).values()]
            assert schemas and all(schemas), (key, code)


def test_v1_routes_need_a_bearer_key(document: dict[str, Any]) -> None:
    assert document["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"
    for (_, path), op in operations(document).items():
        assert ("security" in op) == path.startswith("/v1"), path


def test_errors_use_the_api_problem_schemas(document: dict[str, Any]) -> None:
    ops = operations(document)

    def ref(key: tuple[str, str], code: str) -> str:
        return str(ops[key]["responses"][code]["content"]["application/json"]["schema"]["$ref"])

    assert ref(("post", "/v1/events"), "422").endswith("/ValidationProblem")
    assert ref(("post", "/v1/events"), "401").endswith("/Problem")
    assert ref(("post", "/v1/customers/{customer_id}/points/redeem"), "409").endswith("/Overdrawn")
    assert "Retry-After" in ops[("post", "/v1/events")]["responses"]["503"]["headers"]
    deploy_422 = ops[("put", "/v1/journeys/{name}")]["responses"]["422"]["content"]["application/json"]
    assert {s["$ref"].rsplit("/", 1)[1] for s in deploy_422["schema"]["anyOf"]} == {
        "JourneyProblem",
        "ValidationProblem",
    }
    assert "application/yaml" in ops[("put", "/v1/journeys/{name}")]["requestBody"]["content"]
    assert "HTTPValidationError" not in document["components"]["schemas"]


async def test_the_document_and_docs_are_served(anonymous: httpx.AsyncClient) -> None:
    assert (await anonymous.get("/openapi.json")).json()["info"]["title"] == "Journeys"
    assert (await anonymous.get("/docs")).status_code == 200
