"""``journeys api``: the HTTP API under uvicorn, logging through ``config.logs`` like every part.

A request's head (request line and headers) is bounded by ``MAX_REQUEST_HEAD_BYTES`` whichever
HTTP/1.1 parser serves it: a head over it gets 431 Request Header Fields Too Large and the connection
is closed, once that many bytes have come without the head ending (not once the whole head has
arrived). httptools has no such bound of its own: it gathers a header's value in memory however long
it grows (by repeated ``bytes +=``, so in quadratic time too: a 300 MB header took the process from
167 to 627 MB and held the event loop for seconds). ``HeadBoundHttpToolsProtocol`` counts the bytes
fed to it while a head is being read, an addition per read, which costs nothing measurable; h11 has a
bound (``max_incomplete_event_size``, 16 KiB by default), given the same value here, and
``HeadBoundH11Protocol`` answers 431 where uvicorn answered 400 to it.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from typing import Any

import h11
import uvicorn
from fastapi import FastAPI
from uvicorn.protocols.http.h11_impl import H11Protocol
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from api.app import create_app
from config.exposure import refuse_unsafe_exposure
from config.settings import Settings

log = logging.getLogger("journeys.api")

# The most bytes a request's head may take: request line, headers and the blank line ending them.
# nginx allows 1 KiB, and 4 x 8 KiB for the lines that do not fit it; 64 KiB leaves room for long
# cookies and tokens and still bounds each connection's buffered head.
MAX_REQUEST_HEAD_BYTES = 64 * 1024

_TOO_LARGE_DETAIL = (
    f"the request's head (request line and headers) is over {MAX_REQUEST_HEAD_BYTES} bytes; "
    "send fewer or shorter headers"
)


def _too_large_response(default_headers: list[tuple[bytes, bytes]]) -> bytes:
    """431 with a ``Problem`` body, closing the connection (its head was never read to the end)."""
    body = json.dumps({"detail": _TOO_LARGE_DETAIL}).encode("ascii")
    lines = [b"HTTP/1.1 431 Request Header Fields Too Large\r\n"]
    lines += [name + b": " + value + b"\r\n" for name, value in default_headers]
    lines += [
        b"content-type: application/json\r\n",
        b"content-length: " + str(len(body)).encode("ascii") + b"\r\n",
        b"connection: close\r\n",
        b"\r\n",
        body,
    ]
    return b"".join(lines)


class RefusalLog:
    """One warning for the first refused head, then at most one per ``every`` seconds saying how many
    were refused since: a client sending oversized heads in a loop cannot flood the log."""

    def __init__(self, every: float = 60.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.every = every
        self._clock = clock
        self._last: float | None = None
        self._since = 0  # refused since the last line

    def refused(self, client: tuple[str, int] | None) -> None:
        now = self._clock()
        self._since += 1
        if self._last is not None and now - self._last < self.every:
            return
        source = f" from {client[0]}:{client[1]}" if client else ""
        if self._last is None or self._since == 1:
            log.warning("refused a request head over %d bytes%s", MAX_REQUEST_HEAD_BYTES, source)
        else:
            log.warning(
                "refused %d request heads over %d bytes in the last %.0f s (the latest%s)",
                self._since,
                MAX_REQUEST_HEAD_BYTES,
                now - self._last,
                source,
            )
        self._last, self._since = now, 0


refusals = RefusalLog()


def _refuse(protocol: Any) -> None:
    refusals.refused(protocol.client)
    protocol.transport.write(_too_large_response(protocol.server_state.default_headers))
    protocol.transport.close()


class HeadBoundHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with each request head bounded by ``MAX_REQUEST_HEAD_BYTES``.

    httptools gathers a header whole before handing it over, so the bytes are counted as they are
    fed: from the end of one message (or the connection's start) until the parser reports the head
    complete. A read is fed in parts of at most the room left; a head still unfinished once it has
    filled the room, with more bytes to come, is refused (431). When a message ends inside a part
    (keep-alive, pipelining), the next head began somewhere in that part: it is counted afresh from
    the next part, so a head may exceed the bound by at most one part (less than the bound itself)
    before it is refused; memory stays bounded. The body is not counted (``max_body_bytes`` bounds
    it); a head starting inside a body's last read is counted from the next read on.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._head_bytes: int | None = 0  # of the head being read; None while reading a body
        self._ended = False  # a message ended in the part being fed

    def data_received(self, data: bytes) -> None:
        while data:
            if self._head_bytes is None:
                super().data_received(data)
                return
            room = MAX_REQUEST_HEAD_BYTES - self._head_bytes
            part, data = data[:room], data[room:]
            self._ended = False
            self._head_bytes += len(part)
            super().data_received(part)
            if self.transport.is_closing() or self.transport.get_protocol() is not self:
                return  # uvicorn answered 400 to what was fed, or upgraded the connection
            if self._ended and self._head_bytes is not None:
                self._head_bytes = 0  # a new head began inside the part: counted from the next one
                continue
            if data and self._head_bytes is not None and self._head_bytes >= MAX_REQUEST_HEAD_BYTES:
                _refuse(self)
                return

    def on_headers_complete(self) -> None:
        self._head_bytes = None
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        self._head_bytes = 0
        self._ended = True
        super().on_message_complete()


class _HeadBoundConnection(h11.Connection):
    """h11's connection, remembering the status h11 suggests for the request it refused."""

    refused_with: int | None = None

    def next_event(self) -> Any:
        try:
            return super().next_event()
        except h11.RemoteProtocolError as exc:
            self.refused_with = exc.error_status_hint
            raise


class HeadBoundH11Protocol(H11Protocol):
    """uvicorn's h11 protocol with h11's own bound on an incomplete event set to
    ``MAX_REQUEST_HEAD_BYTES`` (a head still incomplete past it is refused), answering that refusal
    431 as h11 suggests, with the same body as ``HeadBoundHttpToolsProtocol`` (uvicorn answered 400)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.conn = _HeadBoundConnection(h11.SERVER, max_incomplete_event_size=MAX_REQUEST_HEAD_BYTES)

    def send_400_response(self, msg: str) -> None:
        if isinstance(self.conn, _HeadBoundConnection) and self.conn.refused_with == 431:
            _refuse(self)
            return
        super().send_400_response(msg)


def http_protocol(setting: str) -> type[HttpToolsProtocol | H11Protocol]:
    """The protocol class for ``settings.api_http``: "auto" is httptools (a dependency, so always
    installed, as uvicorn's "auto" would pick it)."""
    return HeadBoundH11Protocol if setting == "h11" else HeadBoundHttpToolsProtocol


def server_config(settings: Settings, app: FastAPI) -> uvicorn.Config:
    """How ``journeys api`` serves ``app``: host, port and HTTP parser from settings ("auto":
    httptools), each with the request head bounded
    (``MAX_REQUEST_HEAD_BYTES``), uvloop where installed."""
    return uvicorn.Config(
        app,
        host=settings.api_host,
        port=settings.api_port,
        http=http_protocol(settings.api_http),
        h11_max_incomplete_event_size=MAX_REQUEST_HEAD_BYTES,
        loop="auto",
        log_config=None,  # keep the root handler configure_logging installed
        proxy_headers=True,
        server_header=False,
        timeout_graceful_shutdown=int(settings.stop_grace_seconds),
    )


def serve_api(settings: Settings) -> None:
    """Serve until SIGINT/SIGTERM; uvicorn lets requests in flight finish. Beyond loopback, refuse to
    start while a secret has its development value."""
    refuse_unsafe_exposure("journeys api", settings, {"API": (settings.api_host, settings.api_port)})
    uvicorn.Server(server_config(settings, create_app(settings))).run()
