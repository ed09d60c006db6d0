"""What the leaderboards page shows: every board of the active program for this period or the one
before, read as the API reads it (``store.leaderboards.board``), with each period in dates and each
customer's name (one bounded read for all the rows)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from api.ui import customer_reads as reads
from store import leaderboards
from store.database import Store
from store.leaderboards import Which
from store.reading import reading

PERIOD_WORDS = {
    ("week", "current"): "This week",
    ("week", "previous"): "Last week",
    ("month", "current"): "This month",
    ("month", "previous"): "Last month",
}


def _heading(name: str, period: str, which: str) -> str:
    """A board named after its period ("This week") is headed by the period shown ("Last week")."""
    if which == "previous" and name.strip().lower() == PERIOD_WORDS[(period, "current")].lower():
        return PERIOD_WORDS[(period, "previous")]
    return name


@dataclass(frozen=True)
class Row:
    rank: int
    tied: bool  # shares its rank with another row
    customer_id: str
    name: str  # their name, or "" when they have none
    points: int


@dataclass(frozen=True)
class BoardView:
    id: str
    name: str
    kind: str  # week | month
    period_words: str  # "This week"
    heading: str  # the name, or "Last week" for a board named "This week" shown for the previous period
    period_dates: str  # "2026-11-30 to 2026-12-06"
    period_key: str  # week:2026-W49
    top: int
    rows: list[Row]


@dataclass(frozen=True)
class Leaderboards:
    program: str | None  # None: no program is deployed
    which: Which
    boards: list[BoardView]


def period_dates(key: str) -> str:
    """``week:2026-W49`` -> "2026-11-30 to 2026-12-06"; ``month:2026-12`` -> "2026-12-01 to 2026-12-31"."""
    kind, _, value = key.partition(":")
    if kind == "week":
        year, week = value.split("-W")
        first = date.fromisocalendar(int(year), int(week), 1)
        last = first + timedelta(days=6)
    else:
        year, month = value.split("-")
        first = date(int(year), int(month), 1)
        last = (first.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
    return f"{first.isoformat()} to {last.isoformat()}"


def _rows(board: leaderboards.Board, names: dict[str, str]) -> list[Row]:
    ranks = [standing.rank for standing in board.standings]
    return [
        Row(s.rank, ranks.count(s.rank) > 1, s.customer_id, names.get(s.customer_id, ""), s.points)
        for s in board.standings
    ]


async def leaderboards_view(store: Store, which: Which, at: datetime) -> Leaderboards:
    program = await store.loyalty_programs.active()
    if program is None:
        return Leaderboards(program=None, which=which, boards=[])
    found: list[leaderboards.Board] = []
    async with reading(store.engine).connect() as conn:
        for model in program.source.leaderboards:
            found.append(await leaderboards.board(conn, program, model.id, at, None, which))
    names = await reads.names(store, {s.customer_id for board in found for s in board.standings})
    views = []
    for board, model in zip(found, program.source.leaderboards, strict=True):
        views.append(
            BoardView(
                id=board.id,
                name=board.name,
                kind=model.period,
                period_words=PERIOD_WORDS[(model.period, which)],
                heading=_heading(board.name, model.period, which),
                period_dates=period_dates(board.period),
                period_key=board.period,
                top=board.top,
                rows=_rows(board, names),
            )
        )
    return Leaderboards(program=program.source.program, which=which, boards=views)
