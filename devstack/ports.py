"""The ports the embedded stack listens on, each with the setting that moves it; taken ones are refused."""

from __future__ import annotations

import errno
import socket
from dataclasses import dataclass

from config.settings import Settings


class PortTaken(Exception):
    """A port the stack needs is already in use; the message names the setting to change."""


@dataclass(frozen=True)
class Port:
    part: str
    host: str
    port: int
    setting: str


def split_address(address: str) -> tuple[str, int]:
    """``host:port`` -> (host, port)."""
    host, _, port = address.rpartition(":")
    return host.strip("[]") or "127.0.0.1", int(port)


def stack_ports(settings: Settings) -> list[Port]:
    temporal_host, temporal_port = split_address(settings.temporal_address)
    metrics = settings.worker_metrics_host, settings.worker_metrics_port
    worker = [Port("worker metrics", *metrics, "JOURNEYS_WORKER_METRICS_PORT")] if metrics[1] else []
    return [
        Port("Temporal", temporal_host, temporal_port, "JOURNEYS_TEMPORAL_ADDRESS"),
        Port("Temporal UI", temporal_host, settings.temporal_ui_port, "JOURNEYS_TEMPORAL_UI_PORT"),
        Port("Outbox SMTP server", settings.smtp_host, settings.smtp_port, "JOURNEYS_SMTP_PORT"),
        Port("API", settings.api_host, settings.api_port, "JOURNEYS_API_PORT"),
        *worker,
    ]


def is_free(host: str, port: int) -> bool:
    """Whether a server could listen on ``host:port`` (with SO_REUSEADDR, as servers do)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:
            if exc.errno in (errno.EADDRINUSE, errno.EACCES):
                return False
            raise
    return True


def check_ports(ports: list[Port]) -> None:
    """Raise ``PortTaken`` for the first port in use, or one asked for twice."""
    seen: dict[tuple[str, int], Port] = {}
    for port in ports:
        other = seen.get((port.host, port.port))
        if other is not None:
            raise PortTaken(
                f"the {port.part} and the {other.part} both want port {port.port}; "
                f"set {port.setting} to another port"
            )
        seen[(port.host, port.port)] = port
        if not is_free(port.host, port.port):
            raise PortTaken(
                f"port {port.port} on {port.host} (the {port.part}) is already in use; "
                f"stop what uses it or set {port.setting} to a free port"
            )
