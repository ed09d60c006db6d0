"""Native referrals: a code per customer, a referee linked on sign-up unless a guard refuses, and the
referrer (and the referee, when the program says so) rewarded on the referee's first qualifying event.

- **Codes**: 9 characters of a 32-symbol alphabet without 0/O, 1/I (45 bits, from ``secrets``), made on
  first request and kept in ``loyalty_members.referral_code``. Read back case-blind, spaces and
  hyphens ignored.
- **Linking** (the program's ``referrals.signup_event`` carrying ``properties[code_property]``), the
  guards in this order, each refusal recorded in ``referral_attempts`` and emitted as
  ``referral_refused`` {reason, code, referrer} to the referee: ``unknown_code``; ``self_referral``;
  ``existing_customer``; ``same_email``; ``same_phone``; ``same_device``.
  *Existing customer*: the referee already had a referral (linked or refused at qualification), or,
  strictly before the sign-up's time (its timestamp, else when it is applied), any of: another event
  (``processed_events``), a ledger row, a points lot, or a journey step record (``step_events``). A
  customer row alone (a backend that identified them first) does not make an existing customer.
  *Email*: trimmed, lower-case. *Phone*: the trait ``phone``, digits only; a leading ``+`` or ``00``
  marks the country code, which is kept (``+44 20 7946 0000`` and ``0044 20 7946 0000`` are one
  number); fewer than 6 digits compare as none. *Device*: the trait ``device_hash``, or the sign-up
  event's property ``device_hash`` for the referee. The referee's event traits count over stored ones.
- **Qualifying**: the referee's first ``qualify_event`` meeting ``where``: the referrer gets the
  program's reward (``referral/{referee}/referrer``), the referee theirs if configured
  (``referral/{referee}/referee``), and ``referral_qualified`` {referee, referrer} goes to the
  referrer; unless the referrer already has ``max_per_referrer`` rewarded referrals qualified within
  the last ``period``: then the referral is refused with reason ``cap`` (recorded, emitted), for good.

Each step is keyed (attempts by event, the referral row locked while it qualifies, grants by key), so
a repeated or concurrent event changes nothing.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from contracts.events import CustomerEvent
from engine import expressions
from engine.durations import parse_duration
from engine.loyalty.program import Program
from engine.loyalty.schema import Referrals
from store.inserts import insert_ignore
from store.loyalty_grants import condition_context, emitted, grant
from store.loyalty_outcome import Outcome
from store.loyalty_tables import loyalty_members, points_lots, referral_attempts, referrals
from store.tables import customers, points_ledger, processed_events, step_events

ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # 32 symbols: no 0/O, no 1/I
CODE_LENGTH = 9  # 9 x 5 bits = 45 bits
CODE_MAX = 40  # the column; longer input is an unknown code
MIN_PHONE_DIGITS = 6

REASONS = (
    "unknown_code",
    "self_referral",
    "existing_customer",
    "same_email",
    "same_phone",
    "same_device",
    "cap",
)


def new_code() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))


def normalise_code(value: Any) -> str | None:
    """The code as stored (upper case, without spaces and hyphens); None for what cannot be one."""
    if not isinstance(value, str):
        return None
    code = re.sub(r"[\s-]+", "", value).upper()
    return code if 0 < len(code) <= CODE_MAX else None


def normalise_email(value: Any) -> str | None:
    if not isinstance(value, str):
        return None
    return value.strip().lower() or None


def normalise_phone(value: Any) -> str | None:
    if not isinstance(value, str | int):
        return None
    text = str(value).strip()
    digits = re.sub(r"\D", "", text)
    if not text.startswith("+") and digits.startswith("00"):
        digits = digits[2:]
    return digits if len(digits) >= MIN_PHONE_DIGITS else None


def _device(value: Any) -> str | None:
    return value.strip() or None if isinstance(value, str) else None


async def code_for(conn: AsyncConnection, customer_id: str, at: datetime) -> str:
    """The customer's referral code, made now if they have none (the same one ever after)."""
    await insert_ignore(conn, loyalty_members, {"customer_id": customer_id, "updated_at": at})
    current = await conn.scalar(
        sa.select(loyalty_members.c.referral_code)
        .where(loyalty_members.c.customer_id == customer_id)
        .with_for_update()
    )
    if current:
        return str(current)
    for _ in range(8):
        code = new_code()
        if await owner_of(conn, code) is not None:
            continue
        try:
            async with conn.begin_nested():
                await conn.execute(
                    loyalty_members.update()
                    .where(loyalty_members.c.customer_id == customer_id)
                    .values(referral_code=code, updated_at=at)
                )
        except IntegrityError:  # pragma: no cover - a concurrent customer drew the same 45 bits
            continue
        return code
    raise RuntimeError("no free referral code after 8 draws")  # pragma: no cover


async def owner_of(conn: AsyncConnection, code: str) -> str | None:
    owner = await conn.scalar(
        sa.select(loyalty_members.c.customer_id).where(loyalty_members.c.referral_code == code)
    )
    return None if owner is None else str(owner)


@dataclass(frozen=True)
class Contact:
    email: str | None
    phone: str | None
    device: str | None


async def _contact(conn: AsyncConnection, customer_id: str, event: CustomerEvent | None = None) -> Contact:
    row = (
        await conn.execute(
            sa.select(customers.c.email, customers.c.traits).where(customers.c.id == customer_id)
        )
    ).first()
    traits: dict[str, Any] = dict(row.traits or {}) if row is not None else {}
    email: Any = row.email if row is not None else None
    device: Any = traits.get("device_hash")
    if event is not None:
        given = event.traits or {}
        traits.update(given)
        email = given.get("email", email)
        device = event.properties.get("device_hash") or given.get("device_hash") or device
    return Contact(normalise_email(email), normalise_phone(traits.get("phone")), _device(device))


async def _existed(conn: AsyncConnection, customer_id: str, event: CustomerEvent, since: datetime) -> bool:
    """Whether the referee was a customer before this sign-up (see the module docstring)."""
    checks = [
        sa.select(referrals.c.referee_id).where(referrals.c.referee_id == customer_id),
        sa.select(processed_events.c.event_id).where(
            processed_events.c.customer_id == customer_id,
            processed_events.c.event_id != event.event_id,
            processed_events.c.at < since,
        ),
        sa.select(points_ledger.c.id).where(
            points_ledger.c.customer_id == customer_id, points_ledger.c.created_at < since
        ),
        sa.select(points_lots.c.id).where(
            points_lots.c.customer_id == customer_id, points_lots.c.earned_at < since
        ),
        sa.select(step_events.c.id).where(step_events.c.customer_id == customer_id, step_events.c.at < since),
    ]
    for check in checks:
        if await conn.scalar(check.limit(1)) is not None:
            return True
    return False


async def _refusal(
    conn: AsyncConnection,
    customer_id: str,
    referrer: str | None,
    code: str,
    event: CustomerEvent,
    at: datetime,
) -> str | None:
    if referrer is None:
        return "unknown_code"
    if referrer == customer_id:
        return "self_referral"
    if await _existed(conn, customer_id, event, event.timestamp or at):
        return "existing_customer"
    theirs, mine = await _contact(conn, referrer), await _contact(conn, customer_id, event)
    for reason, a, b in (
        ("same_email", theirs.email, mine.email),
        ("same_phone", theirs.phone, mine.phone),
        ("same_device", theirs.device, mine.device),
    ):
        if a is not None and a == b:
            return reason
    return None


def _refused_event(
    customer_id: str, reason: str, code: str, referrer: str | None, at: datetime, key: str
) -> CustomerEvent:
    return emitted(
        "referral_refused",
        customer_id,
        {"reason": reason, "code": code, "referrer": referrer},
        at,
        customer_id,
        key,
    )


async def _link(
    conn: AsyncConnection, settings: Referrals, customer_id: str, event: CustomerEvent, at: datetime
) -> Outcome:
    raw = event.properties.get(settings.code_property)
    if raw is None or raw == "":
        return Outcome()
    code = normalise_code(raw)
    shown = code if code is not None else str(raw)[:CODE_MAX]
    earlier = (
        await conn.execute(
            sa.select(referral_attempts).where(
                referral_attempts.c.event_id == event.event_id, referral_attempts.c.referee_id == customer_id
            )
        )
    ).first()
    if earlier is not None:  # applied before: say the same again
        if earlier.outcome == "refused":
            return Outcome(
                events=[
                    _refused_event(
                        customer_id,
                        earlier.reason,
                        earlier.code,
                        earlier.referrer_id,
                        earlier.at,
                        event.event_id,
                    )
                ]
            )
        return Outcome()
    referrer = await owner_of(conn, code) if code is not None else None
    reason = await _refusal(conn, customer_id, referrer, shown, event, at)
    attempt = {
        "event_id": event.event_id,
        "code": shown,
        "referrer_id": referrer,
        "referee_id": customer_id,
        "outcome": "refused" if reason else "linked",
        "reason": reason,
        "at": at,
    }
    if not await insert_ignore(conn, referral_attempts, attempt):
        return Outcome()  # a concurrent attempt with this event won
    if reason is not None:
        return Outcome(events=[_refused_event(customer_id, reason, shown, referrer, at, event.event_id)])
    assert referrer is not None and code is not None
    await insert_ignore(
        conn,
        referrals,
        {
            "referee_id": customer_id,
            "referrer_id": referrer,
            "code": code,
            "status": "linked",
            "linked_at": at,
        },
    )
    return Outcome()


async def _rewarded_within(conn: AsyncConnection, referrer: str, since: datetime) -> int:
    count = await conn.scalar(
        sa.select(sa.func.count())
        .select_from(referrals)
        .where(
            referrals.c.referrer_id == referrer,
            referrals.c.status == "qualified",
            referrals.c.qualified_at > since,
        )
    )
    return int(count or 0)


async def _qualify(
    conn: AsyncConnection,
    program: Program,
    settings: Referrals,
    customer_id: str,
    event: CustomerEvent,
    at: datetime,
) -> Outcome:
    link = (
        await conn.execute(
            sa.select(referrals).where(referrals.c.referee_id == customer_id).with_for_update()
        )
    ).first()
    if link is None or link.status != "linked":
        return Outcome()
    if settings.where and not expressions.evaluate(
        settings.where, await condition_context(conn, customer_id, event)
    ):
        return Outcome()
    referrer = str(link.referrer_id)
    # The referrer's member row serialises their referees qualifying at once, so the cap holds.
    await insert_ignore(conn, loyalty_members, {"customer_id": referrer, "updated_at": at})
    await conn.execute(
        sa.select(loyalty_members.c.customer_id)
        .where(loyalty_members.c.customer_id == referrer)
        .with_for_update()
    )
    since = at - timedelta(seconds=parse_duration(settings.period))
    done = referrals.update().where(referrals.c.referee_id == customer_id)
    if await _rewarded_within(conn, referrer, since) >= settings.max_per_referrer:
        await conn.execute(done.values(status="refused", reason="cap", qualifying_event_id=event.event_id))
        await insert_ignore(
            conn,
            referral_attempts,
            {
                "event_id": event.event_id,
                "code": link.code,
                "referrer_id": referrer,
                "referee_id": customer_id,
                "outcome": "refused",
                "reason": "cap",
                "at": at,
            },
        )
        return Outcome(events=[_refused_event(customer_id, "cap", link.code, referrer, at, "cap")])
    await conn.execute(done.values(status="qualified", qualified_at=at, qualifying_event_id=event.event_id))
    events: list[CustomerEvent] = []
    for who, reward, key in (
        (referrer, settings.referrer, "referrer"),
        (customer_id, settings.referee, "referee"),
    ):
        if reward.points > 0 or reward.badge is not None:
            earned = await grant(
                conn,
                program,
                who,
                key=f"referral/{customer_id}/{key}",
                points=reward.points,
                badge=reward.badge,
                reason="Referral" if key == "referrer" else "Referred by a friend",
                rule=f"referral_{key}",
                at=at,
            )
            if earned is not None:
                events.append(earned)
    qualified = emitted(
        "referral_qualified", referrer, {"referee": customer_id, "referrer": referrer}, at, customer_id
    )
    return Outcome(events=[qualified, *events])


async def on_event(
    conn: AsyncConnection, program: Program, customer_id: str, event: CustomerEvent, at: datetime
) -> Outcome:
    """Link on the sign-up event, qualify on the qualifying event (both, if they are one event)."""
    settings = program.source.referrals
    outcome = Outcome()
    if settings is None:
        return outcome
    if event.name == settings.signup_event:
        outcome.add(await _link(conn, settings, customer_id, event, at))
    if event.name == settings.qualify_event:
        outcome.add(await _qualify(conn, program, settings, customer_id, event, at))
    return outcome


async def settle(conn: AsyncConnection, program: Program, customer_id: str, at: datetime) -> Outcome:
    """Referrals keep no timers: nothing falls due."""
    return Outcome()


# Reading (the API).


@dataclass(frozen=True)
class Referee:
    customer_id: str
    status: str  # linked | qualified | refused
    reason: str | None
    linked_at: datetime
    qualified_at: datetime | None


@dataclass(frozen=True)
class Attempt:
    referee_id: str
    code: str
    reason: str
    at: datetime


@dataclass(frozen=True)
class ReferralsView:
    code: str | None
    referred_by: str | None
    referees: list[Referee]
    refused: list[Attempt]


async def referrals_view(conn: AsyncConnection, customer_id: str, limit: int = 500) -> ReferralsView:
    """The customer's code (None before one was asked for), who referred them, their referees (newest
    first) and the attempts with their code that were refused (newest first), ``limit`` of each."""
    code = await conn.scalar(
        sa.select(loyalty_members.c.referral_code).where(loyalty_members.c.customer_id == customer_id)
    )
    referred_by = await conn.scalar(
        sa.select(referrals.c.referrer_id).where(referrals.c.referee_id == customer_id)
    )
    rows = await conn.execute(
        sa.select(referrals)
        .where(referrals.c.referrer_id == customer_id)
        .order_by(referrals.c.linked_at.desc(), referrals.c.referee_id)
        .limit(limit)
    )
    referees = [
        Referee(str(row.referee_id), str(row.status), row.reason, row.linked_at, row.qualified_at)
        for row in rows
    ]
    attempts = await conn.execute(
        sa.select(referral_attempts)
        .where(referral_attempts.c.referrer_id == customer_id, referral_attempts.c.outcome == "refused")
        .order_by(referral_attempts.c.at.desc(), referral_attempts.c.id.desc())
        .limit(limit)
    )
    refused = [Attempt(str(row.referee_id), str(row.code), str(row.reason), row.at) for row in attempts]
    return ReferralsView(
        code=None if code is None else str(code),
        referred_by=None if referred_by is None else str(referred_by),
        referees=referees,
        refused=refused,
    )
