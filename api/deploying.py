"""The one way the API deploys a journey — ``PUT /v1/journeys/{name}``, the rollback route and the
UI's save all come here: the YAML validated within the bounds of ``POST /v1/journeys/validate``
(size, depth, values, time; off the event loop), deployed with who did it (the deploy history),
the event router told, and, when ``journeys_save_dir`` is set, the YAML written to
``<dir>/<name>.yaml`` atomically so that ``git diff`` shows it. The loyalty program
(``PUT /v1/loyalty/program``, ``deploy_program``) and the channel policy (``PUT /v1/channels/policy``,
``deploy_policy``) are deployed the same way.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, TypeVar

from api.routes.journeys import compile_body, off_loop
from api.saving import write_source
from config.settings import Settings
from engine.channels.loader import CHANNEL_POLICY_FILE, POLICY_FILE
from engine.channels.policy import ChannelPolicy
from engine.errors import JourneyError, JourneyValidationError
from engine.loader import decode_journey
from engine.loyalty.loader import LOYALTY_PROGRAM_FILE, PROGRAM_FILE
from engine.loyalty.program import Program
from engine.plan import Plan
from engine.program_file import ProgramFile
from engine.source import parse_source
from ingest.router import EventRouter
from store.database import Store
from store.deployments import Deployment
from store.program_files import Versioned

log = logging.getLogger("journeys.api")
T = TypeVar("T")


@dataclass(frozen=True)
class DeployResult:
    plan: Plan
    source: str
    deployment: Deployment  # new version or not, the version before, deploy / rollback / nothing
    saved_to: Path | None  # the file written under journeys_save_dir, if any
    save_error: str | None = None  # why that file could not be written (the deploy stands)


async def compile_for(name: str, data: bytes | str, settings: Settings) -> tuple[str, Plan]:
    """The text and plan of ``data`` as a version of ``name``, compiled off the event loop within
    the time budget against the deployed templates; ``JourneyValidationError`` with every problem,
    positioned in ``<name>.yaml``, when it is invalid or defines another journey."""
    file = f"{name}.yaml"
    raw = data.encode("utf-8", "surrogatepass") if isinstance(data, str) else data
    text, plan = await off_loop(file, lambda: compile_body(raw, file, settings.journeys_dir))
    if plan.journey != name:
        line, column = await off_loop(file, lambda: parse_source(text, file).position(("journey",)))
        message = f"journey is {plan.journey!r} but the URL names {name!r}"
        raise JourneyValidationError([JourneyError(file, line, column, "journey", message)])
    return text, plan


async def deploy_source(
    data: bytes | str,
    name: str,
    *,
    store: Store,
    events: EventRouter,
    settings: Settings,
    deployed_by: str,
) -> DeployResult:
    """Validate ``data`` (a journey file's bytes or text) and make it the current version of ``name``.

    Raises ``JourneyValidationError`` with every problem, positioned in ``<name>.yaml``, when it is
    invalid, takes too long to check, or defines another journey; nothing is deployed then.
    Customers in flight keep the version they entered on.
    """
    text, plan = await compile_for(name, data, settings)
    deployment = await store.deployments.publish(plan, text, deployed_by=deployed_by)
    await events.reload()
    return await _saved(settings, plan, text, deployment)


async def rollback(
    name: str, version: str, *, store: Store, events: EventRouter, settings: Settings, deployed_by: str
) -> DeployResult | None:
    """Make the stored ``version`` of ``name`` current again (a rollback in the history); None when
    no such version was ever deployed."""
    deployment = await store.deployments.rollback(name, version, deployed_by=deployed_by)
    stored = await store.deployments.get(name, version)
    if deployment is None or stored is None:
        return None
    await events.reload()
    return await _saved(settings, stored.plan, stored.source, deployment)


async def _saved(settings: Settings, plan: Plan, source: str, deployment: Deployment) -> DeployResult:
    """The result, after writing the source under ``journeys_save_dir`` when it is set."""
    folder = settings.journeys_save_dir
    if folder is None or not source:  # versions deployed without their YAML (simulations) have none
        return DeployResult(plan, source, deployment, None)
    try:
        saved = await asyncio.to_thread(write_source, folder, plan.journey, source)
    except OSError as exc:
        log.error("deployed %s %s but could not write it to %s: %s", plan.journey, plan.version, folder, exc)
        reason = f"could not write {plan.journey}.yaml to {folder}: {exc.strerror or exc}"
        return DeployResult(plan, source, deployment, None, reason)
    return DeployResult(plan, source, deployment, saved)


V = TypeVar("V", bound=Versioned)


@dataclass(frozen=True)
class FileDeployResult(Generic[V]):
    """A program-wide file's deploy: the ``deployed`` file (a ``Program``, a ``ChannelPolicy``), its
    text, and where it was written (or why it could not be)."""

    deployed: V
    source: str
    new: bool  # False when this version was already the active one
    saved_to: Path | None
    save_error: str | None = None


def _validated_file(data: bytes, kind: ProgramFile[Any, T]) -> tuple[str, T]:
    text = decode_journey(data, kind.name)  # the same size and UTF-8 bounds as a journey file
    return text, kind.parse(text, kind.name)


async def _checked(data: bytes | str, kind: ProgramFile[Any, T]) -> tuple[str, T]:
    """The text and compiled file of ``data`` (a program-wide file), checked off the event loop within
    the time budget; ``JourneyValidationError`` with every problem, positioned in ``kind.name``."""
    raw = data.encode("utf-8", "surrogatepass") if isinstance(data, str) else data
    return await off_loop(kind.name, lambda: _validated_file(raw, kind))


async def _save_file(settings: Settings, file: str, text: str, what: str) -> tuple[Path | None, str | None]:
    """``file`` written under ``journeys_save_dir`` when it is set: where, or why it could not be."""
    folder = settings.journeys_save_dir
    if folder is None:
        return None, None
    try:
        return await asyncio.to_thread(write_source, folder, file.removesuffix(".yaml"), text), None
    except OSError as exc:
        log.error("deployed %s but could not write it to %s: %s", what, folder, exc)
        return None, f"could not write {file} to {folder}: {exc}"


async def validate_program(data: bytes | str) -> tuple[str, Program]:
    """The text and program of ``data`` (a ``loyalty.yaml``), checked off the event loop within the
    time budget; ``JourneyValidationError`` with every problem, positioned in ``loyalty.yaml``."""
    return await _checked(data, LOYALTY_PROGRAM_FILE)


async def deploy_program(
    data: bytes | str, *, store: Store, events: EventRouter, settings: Settings
) -> FileDeployResult[Program]:
    """Validate ``data`` and make it the active loyalty program (customers' lots, tiers and
    redemptions stay; what the new version says applies from the next event). The event router reads
    it again; with ``journeys_save_dir`` set, ``loyalty.yaml`` is written there too."""
    text, program = await validate_program(data)
    new = await store.loyalty_programs.deploy(program, text)
    await events.reload()
    saved, error = await _save_file(settings, PROGRAM_FILE, text, f"loyalty program {program.version}")
    return FileDeployResult(program, text, new, saved, error)


async def deploy_policy(
    data: bytes | str, *, store: Store, settings: Settings
) -> FileDeployResult[ChannelPolicy]:
    """Validate ``data`` (a ``channels.yaml``) and make it the active channel policy: every send from
    then on follows it (counts already taken stay); with ``journeys_save_dir`` set, ``channels.yaml``
    is written there too. ``JourneyValidationError`` with every problem, positioned."""
    text, policy = await _checked(data, CHANNEL_POLICY_FILE)
    new = await store.channel_policies.deploy(policy, text)
    saved, error = await _save_file(settings, POLICY_FILE, text, f"channel policy {policy.version}")
    return FileDeployResult(policy, text, new, saved, error)
