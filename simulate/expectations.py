"""What a journey test expects of a story, and the first difference between that and what happened."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, model_validator

from simulate.timeline import Message, Timeline


class ExpectedMessage(BaseModel):
    """``welcome``, ``{email: welcome, day: 0}`` or ``{subject: "Welcome aboard, Ada!"}``."""

    model_config = ConfigDict(extra="forbid")

    email: str | None = None
    webhook: str | None = None
    subject: str | None = None
    day: int | None = None

    @model_validator(mode="before")
    @classmethod
    def _short(cls, value: object) -> object:
        return {"email": value} if isinstance(value, str) else value

    def matches(self, got: Message) -> bool:
        name = self.email or self.webhook
        if name is not None and name not in (got.name, got.subject):
            return False
        if self.subject is not None and self.subject != got.subject:
            return False
        return self.day is None or self.day == got.day

    def __str__(self) -> str:
        what = self.email or self.webhook or ""
        if self.subject is not None:
            what = f'{what} "{self.subject}"'.strip()
        return what + (f" on day {self.day}" if self.day is not None else "")


class Expect(BaseModel):
    model_config = ConfigDict(extra="forbid")

    entered: bool | None = None
    emails: list[ExpectedMessage] | None = None
    webhooks: list[ExpectedMessage] | None = None
    points: int | None = None
    stage: str | None = None
    tier: str | None = None
    badges: list[str] | None = None
    goal: bool | None = None
    outcome: str | None = None
    exit: str | None = None
    steps: list[str] | None = None


class Difference(BaseModel):
    what: str
    expected: str
    got: str
    day: int | None = None

    def __str__(self) -> str:
        on_day = f" (day {self.day})" if self.day is not None else ""
        return f"{self.what}: expected {self.expected}, got {self.got}{on_day}"


def first_difference(expect: Expect, timeline: Timeline) -> Difference | None:
    for check in (_entered, _emails, _webhooks, _points, _customer, _journey):
        found = check(expect, timeline)
        if found is not None:
            return found
    return None


def _entered(expect: Expect, timeline: Timeline) -> Difference | None:
    runs = timeline.runs_of(timeline.journey)
    if expect.entered is not None and expect.entered != bool(runs):
        return Difference(what="entered", expected=_yes(expect.entered), got=_yes(bool(runs)))
    return None


def _emails(expect: Expect, timeline: Timeline) -> Difference | None:
    sent = [m for m in timeline.summary.emails if m.status == "sent"]
    return _messages("emails", expect.emails, sent)


def _webhooks(expect: Expect, timeline: Timeline) -> Difference | None:
    sent = [m for m in timeline.summary.webhooks if m.status == "sent"]
    return _messages("webhooks", expect.webhooks, sent)


def _messages(what: str, expected: list[ExpectedMessage] | None, got: list[Message]) -> Difference | None:
    if expected is None:
        return None
    for index in range(max(len(expected), len(got))):
        label = f"{what}[{index + 1}]"
        if index >= len(got):
            return Difference(
                what=label, expected=str(expected[index]), got=f"no more {what} ({len(got)} sent)"
            )
        if index >= len(expected):
            return Difference(
                what=label, expected=f"no more {what} ({len(expected)} expected)", got=_sent(got[index])
            )
        if not expected[index].matches(got[index]):
            return Difference(what=label, expected=str(expected[index]), got=_sent(got[index]))
    return None


def _sent(message: Message) -> str:
    subject = f'"{message.subject}" ({message.name})' if message.subject else message.name
    return f"{subject} on day {message.day}"


def _points(expect: Expect, timeline: Timeline) -> Difference | None:
    summary = timeline.summary
    if expect.points is None or expect.points == summary.points:
        return None
    ledger = ", ".join(f"day {c.day} {c.points:+d} {c.reason}" for c in summary.ledger) or "no awards"
    return Difference(what="points", expected=str(expect.points), got=f"{summary.points} ({ledger})")


def _customer(expect: Expect, timeline: Timeline) -> Difference | None:
    summary = timeline.summary
    if expect.stage is not None and expect.stage != summary.stage:
        changes = [e for e in timeline.entries if e.text.startswith("stage ") or "; stage " in e.text]
        last = changes[-1] if changes else None
        by = f" (set on day {last.day} by {last.journey}.{last.step})" if last else ""
        return Difference(what="stage", expected=expect.stage, got=f"{summary.stage}{by}")
    if expect.tier is not None and expect.tier != summary.tier:
        return Difference(what="tier", expected=expect.tier, got=str(summary.tier))
    if expect.badges is not None and sorted(expect.badges) != sorted(summary.badges):
        return Difference(what="badges", expected=_list(expect.badges), got=_list(summary.badges))
    return None


def _journey(expect: Expect, timeline: Timeline) -> Difference | None:
    runs = timeline.runs_of(timeline.journey)
    last = runs[-1] if runs else None
    if expect.goal is not None:
        reached = [run for run in runs if run.goal_reached]
        if expect.goal != bool(reached):
            got = f"reached on day {reached[0].goal_day}" if reached else "not reached"
            return Difference(what="goal", expected="reached" if expect.goal else "not reached", got=got)
    outcome = last.outcome if last else "not entered"
    if expect.outcome is not None and expect.outcome != outcome:
        return Difference(
            what="outcome", expected=expect.outcome, got=f"{outcome}: {last.reason if last else ''}"
        )
    reason = last.reason if last else "not entered"
    if expect.exit is not None and expect.exit != reason:
        day = last.ended_day if last else None
        return Difference(what="exit", expected=f'"{expect.exit}"', got=f'"{reason}" ({outcome})', day=day)
    if expect.steps is not None:
        steps = [step for run in runs for step in run.steps]
        if steps != expect.steps:
            return _path(expect.steps, steps)
    return None


def _path(expected: list[str], got: list[str]) -> Difference:
    for index, (want, have) in enumerate(zip(expected, got, strict=False)):
        if want != have:
            return Difference(what=f"steps[{index + 1}]", expected=want, got=have)
    if len(expected) > len(got):
        return Difference(
            what=f"steps[{len(got) + 1}]", expected=expected[len(got)], got="the end of the journey"
        )
    return Difference(
        what=f"steps[{len(expected) + 1}]", expected="the end of the journey", got=got[len(expected)]
    )


def _yes(value: bool) -> str:
    return "yes" if value else "no"


def _list(values: list[str]) -> str:
    return "[" + ", ".join(sorted(values)) + "]"


__all__ = ["Difference", "Expect", "first_difference"]
