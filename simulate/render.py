"""The timeline as text a marketer reads, and the rendered emails as files for review."""

from __future__ import annotations

import re
from pathlib import Path

from outbox.server import OutboxMessage
from simulate.timeline import Timeline


def timeline_text(timeline: Timeline) -> str:
    several = len({entry.journey for entry in timeline.entries if entry.journey}) > 1
    lines = [
        f'{timeline.journey}: story "{timeline.story}" for customer {timeline.customer_id}',
        f"day 0 = {timeline.start:%Y-%m-%d} {timeline.timezone}; horizon {timeline.horizon}",
        "",
    ]
    width = max((len(_where(entry.journey, entry.step, several)) for entry in timeline.entries), default=0)
    for entry in timeline.entries:
        where = _where(entry.journey, entry.step, several)
        lines.append(f"day {entry.day:>2}  {entry.time}  {where:<{width}}  {entry.text}".rstrip())
    lines += ["", *summary_lines(timeline)]
    return "\n".join(lines) + "\n"


def _where(journey: str | None, step: str | None, several: bool) -> str:
    if step is None:
        return journey or ""
    return f"{journey}.{step}" if several and journey else step


def summary_lines(timeline: Timeline) -> list[str]:
    summary = timeline.summary
    sent = [m for m in summary.emails if m.status == "sent"]
    lines = ["Summary", f"  emails   {len(sent)} sent"]
    lines += [f'           day {m.day}: "{m.subject}" ({m.name}) to {m.recipient}' for m in sent]
    lines += [
        f"           day {m.day}: {m.name} skipped ({m.reason})" for m in summary.emails if m not in sent
    ]
    for hook in summary.webhooks:
        lines.append(f"  webhook  day {hook.day}: {hook.name} {hook.status}" + _payload(hook.payload))
    extras = [f"tier {summary.tier}"] if summary.tier else []
    if summary.badges:
        extras.append("badges " + ", ".join(summary.badges))
    lines.append(f"  points   {summary.points}" + (f" ({'; '.join(extras)})" if extras else ""))
    lines.append(f"  stage    {summary.stage or '-'}")
    if not summary.runs:
        lines.append(f"  journey  {timeline.journey}: not entered")
    for run in summary.runs:
        goal = f"goal reached on day {run.goal_day}" if run.goal_reached else "goal not reached"
        ended = f" on day {run.ended_day}" if run.ended_day is not None else ""
        lines.append(
            f"  journey  {run.journey} (day {run.entered_day}): {run.outcome}{ended}: {run.reason}; {goal}"
        )
    return lines


def _payload(payload: dict[str, object] | None) -> str:
    if not payload:
        return ""
    return ": " + ", ".join(f"{k}={v!r}" for k, v in payload.items())


def write_html(timeline: Timeline, messages: list[OutboxMessage], directory: Path) -> list[Path]:
    """Write each email the story sent as ``<day>-<step>-<template>.html``; return the files."""
    directory.mkdir(parents=True, exist_ok=True)
    by_id = {(m.message_id or "").strip(): m for m in messages}
    written = []
    for number, email in enumerate(timeline.summary.emails, start=1):
        message = by_id.get((email.message_id or "").strip())
        if message is None or message.html is None:
            continue
        name = re.sub(r"[^a-z0-9_-]+", "-", f"{email.journey}-{email.step}".lower())
        path = directory / f"day{email.day:02d}-{number:02d}-{name}.html"
        path.write_text(message.html, "utf-8")
        written.append(path)
    return written
