"""Remembers every journey run the router starts (workflow id and run id), so a simulation can read
each run's steps afterwards — also earlier runs of a journey a customer entered more than once."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from temporalio.client import Client

from contracts.events import CustomerEvent
from workflows.models import JourneyInput


@dataclass(frozen=True)
class StartedRun:
    journey: str
    customer_id: str
    workflow_id: str
    run_id: str | None
    trigger: CustomerEvent


class RunTracker:
    def __init__(self) -> None:
        self.by_customer: dict[str, list[StartedRun]] = defaultdict(list)

    @classmethod
    def install(cls, client: Client) -> RunTracker:
        """Wrap ``client.start_workflow`` (the router's only way to start a run) to note each start."""
        tracker = cls()
        original = client.start_workflow

        async def start_workflow(*args: Any, **kwargs: Any) -> Any:
            handle = await original(*args, **kwargs)
            inp = args[1] if len(args) > 1 else kwargs.get("arg")
            if isinstance(inp, JourneyInput):
                tracker.by_customer[inp.customer_id].append(
                    StartedRun(
                        journey=inp.journey,
                        customer_id=inp.customer_id,
                        workflow_id=handle.id,
                        run_id=handle.result_run_id,
                        trigger=inp.trigger,
                    )
                )
            return handle

        client.start_workflow = start_workflow  # type: ignore[method-assign]  # wrapped on this client only
        return tracker
