"""What may face a network: a process that listens beyond loopback refuses to start while a secret
still has its development value (they are printed in the README, so anyone could use them)."""

from __future__ import annotations

import ipaddress
import sys

from config.settings import (
    DEV_API_KEY,
    DEV_SESSION_SECRET,
    DEV_UNSUBSCRIBE_SECRET,
    DEV_WEBHOOK_SECRET,
    Settings,
)

EXIT_UNSAFE = 2


def is_loopback(host: str) -> bool:
    """Whether ``host`` reaches only this machine (127.0.0.0/8, ::1, localhost)."""
    if host.strip("[]").lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a host name: it may resolve to anything


def development_secrets(settings: Settings) -> list[str]:
    """One line per setting that still has its development value, naming the setting."""
    found = []
    if DEV_API_KEY in [key.key for key in settings.keys()]:
        found.append(f'JOURNEYS_API_KEYS still accepts the development key "{DEV_API_KEY}"')
    if settings.unsubscribe_secret == DEV_UNSUBSCRIBE_SECRET:
        found.append(
            "JOURNEYS_UNSUBSCRIBE_SECRET has its development value: anyone could forge unsubscribe links"
        )
    if settings.webhook_secret == DEV_WEBHOOK_SECRET:
        found.append("JOURNEYS_WEBHOOK_SECRET has its development value: anyone could sign webhooks as you")
    if settings.session_secret == DEV_SESSION_SECRET:
        found.append("JOURNEYS_SESSION_SECRET has its development value: anyone could forge a UI sign-in")
    return found


def exposure_problems(settings: Settings, listeners: dict[str, tuple[str, int]]) -> list[str]:
    """What stops ``listeners`` (part -> host, port) from starting: empty when all may start."""
    exposed = [
        f"{part} on {host}:{port}" for part, (host, port) in listeners.items() if not is_loopback(host)
    ]
    secrets = development_secrets(settings)
    if not exposed or not secrets:
        return []
    return [f"refusing to listen beyond loopback ({', '.join(exposed)}) with a development secret:", *secrets]


def refuse_unsafe_exposure(command: str, settings: Settings, listeners: dict[str, tuple[str, int]]) -> None:
    """Exit with code 2, one line per problem on stderr, if ``listeners`` may not start."""
    problems = exposure_problems(settings, listeners)
    if problems:
        for line in problems:
            print(f"{command}: {line}", file=sys.stderr)
        sys.stderr.flush()
        raise SystemExit(EXIT_UNSAFE)
