"""What ``journeys up`` runs: one command line (and environment) per part of the stack."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field

from config.exposure import is_loopback
from config.settings import Settings
from contracts.visibility import SEARCH_ATTRIBUTES
from devstack.ports import split_address
from worker.binaries import dev_server_file_args, temporal_cli_path


@dataclass(frozen=True)
class Part:
    name: str  # the log prefix: [temporal], [smtp], [worker], [api]
    argv: list[str]
    env: dict[str, str] = field(default_factory=dict)
    # Drop all but error lines once stopping (the dev server warns about every poller it closes).
    quiet_on_stop: bool = False


def journeys_command(*args: str) -> list[str]:
    """The ``journeys`` CLI of this very installation (same interpreter, same packages)."""
    return [sys.executable, "-m", "cli", *args]


def temporal_part(settings: Settings) -> Part:
    host, port = split_address(settings.temporal_address)
    argv = [
        str(temporal_cli_path()),
        "server",
        "start-dev",
        *dev_server_file_args(settings.data_dir / "temporal.db"),
        "--ip",
        host,
        "--port",
        str(port),
        "--ui-port",
        str(settings.temporal_ui_port),
        "--namespace",
        settings.temporal_namespace,
        "--ui-disable-news-fetch",
        "--log-level",
        "warn",
        "--log-format",
        "json",
    ]
    for key in SEARCH_ATTRIBUTES:
        argv += ["--search-attribute", f"{key.name}=Keyword"]
    return Part("temporal", argv, quiet_on_stop=True)


def smtp_part() -> Part:
    return Part("smtp", journeys_command("smtp"))


def app_env(settings: Settings) -> dict[str, str]:
    """Links in emails point at this API unless ``public_base_url`` was set."""
    if "public_base_url" in settings.model_fields_set:
        return {}
    return {"JOURNEYS_PUBLIC_BASE_URL": f"http://{loopback(settings.api_host)}:{settings.api_port}"}


def loopback(host: str) -> str:
    """A host to type into a browser: a wildcard bind is reachable on loopback."""
    return "127.0.0.1" if host in {"", "0.0.0.0", "::"} else host


def worker_part(settings: Settings) -> Part:
    return Part("worker", journeys_command("worker"), app_env(settings))


def outbox_page_on(settings: Settings) -> bool:
    """The embedded stack shows the Outbox page on loopback unless a setting turned it off."""
    wanted = settings.outbox_page if "outbox_page" in settings.model_fields_set else True
    return wanted and is_loopback(settings.api_host)


def save_dir_env(settings: Settings) -> dict[str, str]:
    """A deploy through the API (or the UI's save) writes the journey into the folder ``journeys up``
    deploys from, so ``git diff`` shows it, unless ``journeys_save_dir`` was set."""
    if "journeys_save_dir" in settings.model_fields_set:
        return {}
    return {"JOURNEYS_SAVE_DIR": str(settings.journeys_dir.resolve())}


def api_part(settings: Settings) -> Part:
    env = {
        **app_env(settings),
        **save_dir_env(settings),
        "JOURNEYS_OUTBOX_PAGE": str(outbox_page_on(settings)).lower(),
    }
    return Part("api", journeys_command("api"), env)
