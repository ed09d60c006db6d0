"""A request head (request line and headers) over ``MAX_REQUEST_HEAD_BYTES``, over a raw socket to a
real server as ``journeys api`` runs it (``api.server.server_config``), with each HTTP/1.1 parser:
431 with a ``Problem`` body and the connection closed, as soon as the bound is passed (a head that
never ends is not gathered in memory), and the server answers the next request at once."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import AsyncIterator
from typing import Literal

import httpx
import pytest
from fastapi import FastAPI

import api.server
from api.server import MAX_REQUEST_HEAD_BYTES, RefusalLog
from simulate.sandbox import Sandbox
from tests.api.conftest import API_KEY
from tests.api.serving import serving as served

Parser = Literal["auto", "h11"]
PARSERS = ["auto", "h11"]
START = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n"


@contextlib.asynccontextmanager
async def serving(app: FastAPI, sandbox: Sandbox, parser: Parser) -> AsyncIterator[int]:
    """The served app's port."""
    async with served(app, sandbox, parser) as server:
        yield server.config.port


async def exchange(port: int, *parts: bytes) -> bytes:
    """Send ``parts`` in turn (each drained before the next), then read until the server closes."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        for part in parts:
            writer.write(part)
            await writer.drain()
        return await asyncio.wait_for(reader.read(), 10)
    finally:
        writer.close()


def status_and_body(answer: bytes) -> tuple[int, bytes]:
    head, _, body = answer.partition(b"\r\n\r\n")
    return int(head.split(b" ", 2)[1]), body


def content_length(head: bytes) -> int:
    lines = [line.lower() for line in head.split(b"\r\n")]
    return next(int(line.partition(b":")[2]) for line in lines if line.startswith(b"content-length:"))


async def healthy(port: int) -> float:
    """Seconds /healthz took to answer 200 on a new connection."""
    began = time.perf_counter()
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:
        assert (await http.get("/healthz")).status_code == 200
    return time.perf_counter() - began


@pytest.mark.parametrize("parser", PARSERS)
async def test_a_head_one_byte_over_the_bound_gets_431_naming_it_and_the_server_stays_healthy(
    app: FastAPI, sandbox: Sandbox, parser: Parser
) -> None:
    filler = b"X-Filler: " + b"a" * (MAX_REQUEST_HEAD_BYTES - len(START) - 10)
    assert len(START + filler) == MAX_REQUEST_HEAD_BYTES
    async with serving(app, sandbox, parser) as port:
        # The head never ends: the bound is passed by its last byte, all the server was sent.
        answer = await exchange(port, START + filler, b"a")
        assert await healthy(port) < 2
    status, body = status_and_body(answer)
    assert status == 431, answer[:300]
    assert b"\r\nconnection: close" in answer.partition(b"\r\n\r\n")[0].lower()
    detail = json.loads(body)["detail"]
    assert f"over {MAX_REQUEST_HEAD_BYTES} bytes" in detail
    assert "headers" in detail


@pytest.mark.parametrize("parser", PARSERS)
async def test_a_head_within_the_bound_is_served_with_a_body_read_with_it(
    app: FastAPI, sandbox: Sandbox, parser: Parser
) -> None:
    headers = b"X-Filler: " + b"a" * 60_000 + b"\r\n"
    body = b"{" + b" " * 150_000  # read with the head in the same reads: not counted as head
    request = (
        b"POST /v1/events HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
        + f"Authorization: Bearer {API_KEY}\r\nContent-Type: application/json\r\n".encode()
        + f"Content-Length: {len(body)}\r\n".encode()
        + headers
        + b"\r\n"
        + body
    )
    async with serving(app, sandbox, parser) as port:
        status, answer = status_and_body(await exchange(port, request))
    assert status == 422, answer[:300]
    assert [p["type"] for p in json.loads(answer)["errors"]] == ["json_invalid"]


@pytest.mark.parametrize("parser", PARSERS)
async def test_the_second_head_on_a_kept_alive_connection_is_bounded_too(
    app: FastAPI, sandbox: Sandbox, parser: Parser
) -> None:
    first = START + b"\r\n"
    async with serving(app, sandbox, parser) as port:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            writer.write(first)
            await writer.drain()
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
            await reader.readexactly(content_length(head))
            writer.write(START + b"X-Filler: " + b"a" * MAX_REQUEST_HEAD_BYTES)
            await writer.drain()
            answer = await asyncio.wait_for(reader.read(), 10)
        finally:
            writer.close()
    assert head.startswith(b"HTTP/1.1 200 ")
    assert status_and_body(answer)[0] == 431, answer[:300]


def statuses(answer: bytes) -> list[int]:
    """The status of every response in ``answer`` (responses one after another on one connection)."""
    found = []
    while answer:
        head, _, rest = answer.partition(b"\r\n\r\n")
        found.append(int(head.split(b" ", 2)[1]))
        answer = rest[content_length(head) :]
    return found


@pytest.mark.parametrize("parser", PARSERS)
async def test_pipelined_requests_beyond_the_bound_together_are_each_served(
    app: FastAPI, sandbox: Sandbox, parser: Parser
) -> None:
    # 3,000 small heads in one write (about 120 KB, more than the bound): each is within the bound,
    # so all are served; counting them as one head once answered with 431 after the first had run.
    small = [START + b"\r\n"] * 2999 + [START + b"Connection: close\r\n\r\n"]
    body = b"{" + b" " * 61_000  # a body that ends inside the first 64 KiB, then pipelined requests
    post = (
        b"POST /v1/events HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        + f"Authorization: Bearer {API_KEY}\r\nContent-Type: application/json\r\n".encode()
        + f"Content-Length: {len(body)}\r\n\r\n".encode()
        + body
    )
    async with serving(app, sandbox, parser) as port:
        many = await exchange(port, b"".join(small))
        after_a_body = await exchange(port, b"".join([post, *small[-1000:]]))
    assert statuses(many) == [200] * 3000
    assert statuses(after_a_body) == [422] + [200] * 1000


@pytest.mark.parametrize("parser", PARSERS)
async def test_a_header_that_never_ends_is_refused_early_not_gathered(
    app: FastAPI, sandbox: Sandbox, parser: Parser
) -> None:
    """Before, httptools gathered such a header whole (300 MB took the process from 167 to 627 MB,
    /healthz 5-9 s meanwhile): the server closes the connection long before 64 MiB are sent."""
    chunk = b"a" * (1 << 20)
    sent = 0
    async with serving(app, sandbox, parser) as port:
        _, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            writer.write(START + b"X-Huge: ")
            with pytest.raises((ConnectionResetError, BrokenPipeError)):
                while sent < 64 << 20:
                    writer.write(chunk)
                    await asyncio.wait_for(writer.drain(), 10)
                    sent += len(chunk)
        finally:
            writer.close()
        assert await healthy(port) < 2
    assert sent < 16 << 20  # what loopback socket buffers can hold, at most


async def test_a_client_refused_again_and_again_is_logged_once_not_once_a_request(
    app: FastAPI, sandbox: Sandbox, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(api.server, "refusals", RefusalLog())
    oversized = START + b"X-Filler: " + b"a" * MAX_REQUEST_HEAD_BYTES
    with caplog.at_level(logging.WARNING, logger="journeys.api"):
        async with serving(app, sandbox, "auto") as port:
            answers = [await exchange(port, oversized) for _ in range(5)]
    assert [status_and_body(answer)[0] for answer in answers] == [431] * 5
    lines = [r.getMessage() for r in caplog.records if "request head" in r.getMessage()]
    assert len(lines) == 1 and lines[0].startswith(
        f"refused a request head over {MAX_REQUEST_HEAD_BYTES} bytes"
    )


def test_the_refusal_log_says_how_many_were_refused_once_a_minute(caplog: pytest.LogCaptureFixture) -> None:
    now = [0.0]
    refusals = RefusalLog(every=60, clock=lambda: now[0])
    with caplog.at_level(logging.WARNING, logger="journeys.api"):
        for second in range(0, 150, 5):  # one refusal every 5 s for 150 s
            now[0] = float(second)
            refusals.refused(("203.0.113.7", 4000 + second))
    lines = [r.getMessage().replace(str(MAX_REQUEST_HEAD_BYTES), "N") for r in caplog.records]
    assert lines == [
        "refused a request head over N bytes from 203.0.113.7:4000",
        "refused 12 request heads over N bytes in the last 60 s (the latest from 203.0.113.7:4060)",
        "refused 12 request heads over N bytes in the last 60 s (the latest from 203.0.113.7:4120)",
    ]
