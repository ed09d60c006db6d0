"""Error answers: the exception handlers, and the documented error responses of each route."""

from __future__ import annotations

import logging
import re
import sys
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException
from temporalio.service import RPCError

from api.schemas import FieldProblem, Problem, ValidationProblem
from ingest.outages import TemporalUnavailable, is_outage
from ingest.router import EventInFlight

log = logging.getLogger("journeys.api")

RETRY_AFTER_SECONDS = 5


Responses = dict[int | str, dict[str, Any]]


def problem(status: int, description: str, model: Any = Problem) -> Responses:
    return {status: {"model": model, "description": description}}


UNAUTHORIZED = problem(401, "Missing or wrong API key")
INVALID = problem(
    422, "The request does not match its schema; every problem with its field path", ValidationProblem
)
TOO_LARGE = problem(413, "The request body is over the configured limit")
UNAVAILABLE: Responses = {
    503: {
        "model": Problem,
        "description": "Temporal is unreachable: nothing was acknowledged; retry after the given seconds",
        "headers": {"Retry-After": {"schema": {"type": "integer"}, "description": "seconds to wait"}},
    }
}


IN_FLIGHT: Responses = {
    409: {
        "model": Problem,
        "description": "Another request holds this event_id's claim (it is delivering it, or died doing so); "
        "retry after the given seconds: 1 while that delivery presumably runs, else when the abandoned "
        "claim can be taken over",
        "headers": {
            "Retry-After": {
                "schema": {"type": "integer"},
                "description": "seconds until a retry can succeed",
            }
        },
    }
}


def responses(*groups: Responses) -> Responses:
    merged: Responses = {}
    for group in groups:
        merged.update(group)
    return merged


def _path(loc: tuple[int | str, ...] | list[int | str]) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


async def _invalid(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [
        FieldProblem(
            path=_path(err.get("loc", ())), message=str(err.get("msg", "")), type=str(err.get("type", ""))
        )
        for err in exc.errors()
    ]
    body = ValidationProblem(detail=f"{len(errors)} problem(s) in the request", errors=errors)
    return JSONResponse(body.model_dump(), status_code=422)


_DIGITS = re.compile(r"value has (\d+) digits")


def _unparsable_body(cause: BaseException | None) -> str | None:
    """What was wrong with a JSON body FastAPI could not parse for another reason than its syntax (it
    answers those 400 "There was an error parsing the body", naming nothing), or None for a cause
    that is not the body's: not UTF-8; arrays and objects nested deeper than the parser recurses
    (``json`` raises RecursionError, near ``sys.getrecursionlimit()`` levels); an integer longer
    than Python converts (``sys.get_int_max_str_digits()``, a ValueError)."""
    if isinstance(cause, UnicodeDecodeError):
        return f"JSON decode error: {cause.reason}"
    if isinstance(cause, RecursionError):
        return (
            "JSON decode error: nested too deeply (arrays and objects within one another are parsed "
            f"fewer than {sys.getrecursionlimit()} levels deep)"
        )
    if isinstance(cause, ValueError) and "integer string conversion" in str(cause):
        found = _DIGITS.search(str(cause))
        digits = f"{found[1]} digits" if found else "more digits"
        limit = sys.get_int_max_str_digits()
        return f"JSON decode error: a number is too long (an integer of {digits}, at most {limit})"
    return None


async def _http_error(request: Request, exc: Exception) -> Response:
    """FastAPI's answer, except for the cases that did not say what the document says.

    A JSON body FastAPI could not parse for another reason than its syntax (``_unparsable_body``:
    not even text, nested too deeply, a number too long) is malformed JSON like any other: 422
    ``json_invalid`` at ``body``, saying what is wrong (FastAPI answered an undocumented 400 naming
    nothing). A 405 lists in ``Allow`` every method the document gives the path, not only those of
    the first route tried (``PUT`` alone for ``/v1/customers/{id}``).
    """
    assert isinstance(exc, HTTPException)
    if exc.status_code == 400 and (reason := _unparsable_body(exc.__cause__)) is not None:
        return await _invalid(
            request, RequestValidationError([{"type": "json_invalid", "loc": ("body",), "msg": reason}])
        )
    if exc.status_code == 405:
        given = (exc.headers or {}).get("Allow", "")
        allowed = documented_methods(request.app, request.scope["path"]) or {
            method.strip() for method in given.split(",") if method.strip()
        }
        if "GET" in allowed:
            allowed.add("HEAD")
        exc = HTTPException(
            405, exc.detail, headers={**(exc.headers or {}), "Allow": ", ".join(sorted(allowed))}
        )
    return await http_exception_handler(request, exc)


_HTTP_METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}


def documented_methods(app: FastAPI, path: str) -> set[str]:
    """The methods the OpenAPI document gives ``path``: those of the path templates it matches with
    the fewest parameters (concrete paths before templated ones, as OpenAPI matches them)."""
    found: dict[int, set[str]] = {}
    for template, operations in app.openapi()["paths"].items():
        pattern = re.sub(r"\\\{[^/]*?\\\}", "[^/]+", re.escape(template))
        if re.fullmatch(pattern, path):
            methods = {key.upper() for key in operations if key in _HTTP_METHODS}
            found.setdefault(template.count("{"), set()).update(methods)
    return found[min(found)] if found else set()


def unavailable_response() -> JSONResponse:
    body = Problem(detail="Temporal is unavailable; nothing was acknowledged, send the request again")
    return JSONResponse(body.model_dump(), status_code=503, headers={"Retry-After": str(RETRY_AFTER_SECONDS)})


async def _temporal_unavailable(_: Request, exc: Exception) -> JSONResponse:
    log.warning("Temporal unavailable: %s", exc)
    return unavailable_response()


async def _rpc_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RPCError)
    if is_outage(exc):
        return await _temporal_unavailable(request, exc)
    log.error("Temporal call failed: %s (%s)", exc, exc.status)
    detail = f"Temporal refused the call ({exc.status.name})"  # e.g. INVALID_ARGUMENT: not worth a retry
    return JSONResponse(Problem(detail=detail).model_dump(), status_code=502)


async def _runtime_error(request: Request, exc: Exception) -> JSONResponse:
    if is_outage(exc):
        return await _temporal_unavailable(request, exc)
    raise exc


async def _event_in_flight(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, EventInFlight)
    body = Problem(detail=str(exc))
    return JSONResponse(body.model_dump(), status_code=409, headers={"Retry-After": str(exc.retry_after)})


def install_handlers(app: FastAPI) -> None:
    app.add_exception_handler(EventInFlight, _event_in_flight)
    app.add_exception_handler(RequestValidationError, _invalid)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(TemporalUnavailable, _temporal_unavailable)
    app.add_exception_handler(RPCError, _rpc_error)
    app.add_exception_handler(RuntimeError, _runtime_error)
