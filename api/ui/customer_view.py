"""What the customer page shows, read from the store in a bounded number of bounded queries: the
profile and traits, consent, loyalty (``api.ui.customer_loyalty``) and a page of the ledger, the
journeys they are in or have finished (each run with its version's diagram and where they are on
it), and the timeline."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, urlencode

from api.ui import customer_reads as reads
from api.ui.customer_loyalty import LedgerEntry, Loyalty, ledger_entries, loyalty_of
from api.ui.customer_runs import Run, runs_of
from api.ui.customer_timeline import LIMIT as TIMELINE_LIMIT
from api.ui.customer_timeline import Timeline, timeline
from api.ui.graph import END, Diagram, diagram
from api.ui.versions import plan_of
from config.settings import Settings
from contracts.visibility import workflow_id
from store import wallet_read
from store.customers import Customer
from store.database import Store
from store.types import utcnow

LEDGER_PAGE = 15
RUNS_SHOWN = 3  # entries of one journey drawn (the newest); the count says how many there were
RUN_WINDOW = 300  # newest step records of one journey read to find its runs
TRAITS_SHOWN = 40
TRAIT_TEXT = 160  # characters of a trait's value shown


@dataclass(frozen=True)
class Trait:
    key: str
    value: str
    full: str  # the whole value (a title) when ``value`` is shortened, else ""


@dataclass(frozen=True)
class RunCard:
    run: Run
    diagram_id: str | None  # the embedded diagram of its version; None when that plan is not stored
    here: str | None  # the node marked on it
    here_label: str
    status: str
    visited: list[str]
    steps: list[str]
    earlier_steps: int
    temporal_url: str
    journey_url: str

    @property
    def here_is_end(self) -> bool:
        return self.here == END


@dataclass(frozen=True)
class JourneyRuns:
    journey: str
    entries: int  # how often the customer entered it
    runs: list[RunCard]  # the newest first

    @property
    def in_progress(self) -> bool:
        return any(not card.run.finished for card in self.runs)


@dataclass(frozen=True)
class CustomerView:
    customer: Customer
    name: str
    traits: list[Trait]
    traits_more: int
    loyalty: Loyalty
    ledger: list[LedgerEntry]
    ledger_older: int | None  # the cursor of the next (older) page, None on the last
    ledger_first: bool  # the ledger shows its newest entries (no cursor given)
    totals: reads.Totals
    journeys: list[JourneyRuns]
    diagrams: dict[str, dict[str, Any]]  # diagram id -> the diagram as embedded
    timeline: Timeline


def display_name(customer: Customer) -> str:
    return " ".join(p for p in (customer.first_name, customer.last_name) if p) or customer.id


def _trait(key: str, value: Any) -> Trait:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, separators=(", ", ": "))
    if len(text) <= TRAIT_TEXT:
        return Trait(key, text, "")
    return Trait(key, text[: TRAIT_TEXT - 1] + "…", text[:2000])


def traits_of(customer: Customer) -> tuple[list[Trait], int]:
    items = list(customer.traits.items())
    return [_trait(key, value) for key, value in items[:TRAITS_SHOWN]], max(len(items) - TRAITS_SHOWN, 0)


def temporal_url(settings: Settings, workflow: str) -> str:
    namespace = quote(settings.temporal_namespace, safe="")
    return f"{settings.temporal_ui_url}/namespaces/{namespace}/workflows/{quote(workflow, safe='')}"


def _status(run: Run, here: str | None) -> tuple[str, str]:
    """The run in words, and the words on the node the diagram marks."""
    if run.finished:
        assert run.finished_at is not None
        return run.how_it_left(), "finished" if here == END else "left here"
    if here is None:
        return "In progress", "here now"
    return f"In progress, at {here}", "here now"


def _card(
    run: Run, drawn: Diagram | None, diagram_id: str | None, settings: Settings, customer_id: str
) -> RunCard:
    nodes = {node.id for node in drawn.nodes} if drawn else set()
    here = run.here(nodes) if drawn else run.here(set(run.visited()) | {END})
    status, here_label = _status(run, here)
    steps, earlier = run.listed()
    query: dict[str, str] = {"version": run.version}
    if here and here != END:
        query["step"] = here
    return RunCard(
        run=run,
        diagram_id=diagram_id,
        here=here,
        here_label=here_label,
        status=status,
        visited=run.visited(),
        steps=steps,
        earlier_steps=earlier,
        temporal_url=temporal_url(settings, run.workflow_id or workflow_id(run.journey, customer_id)),
        journey_url=f"/ui/journeys/{quote(run.journey, safe='')}?{urlencode(query)}",
    )


def _latest(runs: JourneyRuns) -> datetime:
    newest = runs.runs[0].run
    moments = [newest.finished_at, newest.entered_at, *(visit.at for visit in newest.visits[-1:])]
    return max((moment for moment in moments if moment is not None), default=datetime.min.replace(tzinfo=UTC))


async def _journeys(
    store: Store, settings: Settings, customer_id: str
) -> tuple[list[JourneyRuns], dict[str, dict[str, Any]]]:
    entries = await reads.entries_by_journey(store, customer_id, await store.deployments.names())
    drawn: dict[tuple[str, str], tuple[str, Diagram] | None] = {}
    found: list[JourneyRuns] = []
    for journey, entered in entries.items():
        records = await reads.journey_records(store, customer_id, journey, limit=RUN_WINDOW)
        cards = []
        for run in reversed(runs_of(records)[-RUNS_SHOWN:]):
            key = (journey, run.version)
            if key not in drawn:
                plan = await plan_of(store, journey, run.version)
                drawn[key] = (f"plan-{len(drawn)}", diagram(plan)) if plan else None
            shown = drawn[key]
            cards.append(
                _card(run, shown[1] if shown else None, shown[0] if shown else None, settings, customer_id)
            )
        if cards:
            found.append(JourneyRuns(journey=journey, entries=entered, runs=cards))
    # Runs in progress first, then the most recently active.
    found.sort(key=_latest, reverse=True)
    found.sort(key=lambda runs: not runs.in_progress)
    diagrams = {shown[0]: shown[1].model_dump() for shown in drawn.values() if shown}
    return found, diagrams


async def customer_view(
    store: Store, settings: Settings, customer: Customer, *, ledger_before: int | None
) -> CustomerView:
    traits, traits_more = traits_of(customer)
    journeys, diagrams = await _journeys(store, settings, customer.id)
    # The newest entries serve the timeline and, unless an older page is asked for, the ledger.
    recent = await wallet_read.ledger(store.engine, customer.id, None, TIMELINE_LIMIT)
    if ledger_before is None:
        rows = recent.entries[:LEDGER_PAGE]
        older = rows[-1].id if len(recent.entries) > LEDGER_PAGE else None
    else:
        page = await wallet_read.ledger(store.engine, customer.id, ledger_before, LEDGER_PAGE)
        rows, older = page.entries, page.next
    totals = await reads.totals(store, customer.id)
    program = await store.loyalty_programs.active()
    records = await reads.newest_records(store, customer.id, limit=TIMELINE_LIMIT)
    sent = await store.deliveries.log_for_customer(customer.id, limit=TIMELINE_LIMIT)
    return CustomerView(
        customer=customer,
        name=display_name(customer),
        traits=traits,
        traits_more=traits_more,
        loyalty=await loyalty_of(store, program, customer.id, utcnow()),
        ledger=await ledger_entries(store, program, rows),
        ledger_older=older,
        ledger_first=ledger_before is None,
        totals=totals,
        journeys=journeys,
        diagrams=diagrams,
        timeline=timeline(records, sent, recent.entries, totals),
    )
