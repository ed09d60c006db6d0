"""The loyalty part of the customer page: the wallet (available, pending and expiring by day,
lifetime), the tier with its progress to the next one, its perks and a scheduled downgrade, the
customer's referrals and challenges, and what each ledger entry came from (its earning rule and
campaigns, or its journey step). Read with the store functions the API's loyalty routes use."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from api.ui import customer_reads as reads
from engine.loyalty.program import Program
from store import challenges, referrals, tiers, wallet_read
from store.database import Store
from store.reading import reading
from store.wallet_read import LedgerRow, Wallet

REFERRALS_SHOWN = 20  # referees, and refused sign-ups, each; the API lists 500
REFUSALS = {
    "unknown_code": "no customer has this code",
    "self_referral": "their own code",
    "existing_customer": "already a customer",
    "same_email": "same email as the referrer",
    "same_phone": "same phone as the referrer",
    "same_device": "same device as the referrer",
    "cap": "over the referrer's cap for the period",
}


@dataclass(frozen=True)
class TierProgress:
    tier: str | None
    qualifying: int  # the points the tiers go by
    basis: str  # what those points are, in words
    target: str | None  # the tier the bar runs to: the next one up, or their own when below it
    keeping: bool  # ``target`` is their own tier: their points fell below it (a grace period)
    target_threshold: int
    points_needed: int  # to reach ``target`` (0 at the top)
    perks: list[str]
    downgrade_at: datetime | None  # a scheduled downgrade (the grace ends), if they do not requalify
    downgrade_to: str | None  # the tier they fall to (None: no tier)
    keep_threshold: int  # the points that keep their tier

    @property
    def toward_target(self) -> int:
        """How far along the bar (its maximum is ``target_threshold``)."""
        return min(self.qualifying, self.target_threshold)


@dataclass(frozen=True)
class Referrals:
    code: str | None  # None until the code is first asked for (GET /v1/customers/{id}/referral-code)
    referred_by: str | None
    referees: list[referrals.Referee]
    refused: list[referrals.Attempt]
    more: bool  # more referees or refusals than shown


@dataclass(frozen=True)
class Loyalty:
    program: str | None  # the active program's id; None: none is deployed
    wallet: Wallet
    tier: TierProgress | None
    referrals: Referrals
    challenges: list[challenges.Progress]


@dataclass(frozen=True)
class LedgerEntry:
    row: LedgerRow
    source: str  # "rule purchase · campaign black_friday x2", "onboarding · signup_bonus", or ""


def refusal_words(reason: str | None) -> str:
    return REFUSALS.get(reason or "", reason or "")


def _basis(program: Program) -> str:
    tiers_of = program.source.tiers
    if tiers_of.qualify_on == "lifetime":
        return "lifetime points"
    return f"points earned in the last {tiers_of.window_months} months"


def _tier(program: Program, wallet: Wallet, state: tiers.TierState) -> TierProgress:
    current = program.tier(wallet.tier)
    # Below their own tier (a downgrade pending) the bar shows what keeps it; otherwise the wallet's
    # next tier, the one above theirs.
    keeping = current is not None and wallet.qualifying_points < current.threshold
    target = current if keeping else program.tier(wallet.next_tier)
    needed = current.threshold - wallet.qualifying_points if keeping and current else wallet.points_to_next
    falls_to = program.qualifying_tier(wallet.qualifying_points) if state.downgrade_at else None
    return TierProgress(
        tier=wallet.tier,
        qualifying=wallet.qualifying_points,
        basis=_basis(program),
        target=target.name if target else None,
        keeping=keeping,
        target_threshold=target.threshold if target else wallet.qualifying_points,
        points_needed=needed if target else 0,
        perks=wallet.perks,
        downgrade_at=state.downgrade_at,
        downgrade_to=falls_to.name if falls_to else None,
        keep_threshold=current.threshold if current else 0,
    )


async def loyalty_of(store: Store, program: Program | None, customer_id: str, at: datetime) -> Loyalty:
    """The customer's loyalty as of ``at`` under ``program``, the active one (None: none deployed)."""
    wallet = await wallet_read.wallet(store.engine, program, customer_id, at)
    async with reading(store.engine).connect() as conn:
        state = await tiers.tier_state(conn, customer_id)
        view = await referrals.referrals_view(conn, customer_id, limit=REFERRALS_SHOWN + 1)
        progress = await challenges.progress(conn, program, customer_id, at) if program else []
    more = len(view.referees) > REFERRALS_SHOWN or len(view.refused) > REFERRALS_SHOWN
    return Loyalty(
        program=program.source.program if program else None,
        wallet=wallet,
        tier=_tier(program, wallet, state) if program else None,
        referrals=Referrals(
            code=view.code,
            referred_by=view.referred_by,
            referees=view.referees[:REFERRALS_SHOWN],
            refused=view.refused[:REFERRALS_SHOWN],
            more=more,
        ),
        challenges=progress,
    )


def _source(program: Program | None, row: LedgerRow, earned: datetime | None) -> str:
    if row.rule is None:
        return " · ".join(part for part in (row.journey, row.step) if part)
    parts = [f"rule {row.rule}"]
    if program is not None and program.rule(row.rule) is not None and earned is not None:
        parts += [
            f"campaign {campaign.id} \u00d7{campaign.multiplier:g}"  # a multiplication sign
            for campaign in program.campaigns_on(row.rule, earned.date())
        ]
    return " · ".join(parts)


async def ledger_entries(
    store: Store, program: Program | None, rows: Sequence[LedgerRow]
) -> list[LedgerEntry]:
    """Each row with what it came from: campaigns are those in force the day its lot was earned."""
    earned = await reads.earned_at(store, [row.id for row in rows if row.rule is not None])
    return [LedgerEntry(row, _source(program, row, earned.get(row.id))) for row in rows]
