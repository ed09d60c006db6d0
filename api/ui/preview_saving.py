"""A preview story saved as a journey test: appended to ``<journeys>/tests/<journey>.yaml`` in the
format ``journeys test`` reads (``simulate.journey_tests``), with what the story produced as its
expectations: the emails sent (template and day), the steps entered, the points and how it ended.

Only editors save, only where ``JOURNEYS_SAVE_DIR`` names the journeys folder (``journeys up`` sets
it) and it is writable, only a story run on the version that is the file in that folder
(``journeys test`` runs the file), and never a second story of the same name. The file is
appended to as text, so its comments and layout stay as they are, then written atomically.
"""

from __future__ import annotations

import asyncio
import os
from io import StringIO
from pathlib import Path
from typing import Any

import yaml
from ruamel.yaml import YAML

from api.auth import Principal
from api.preview import Job
from api.preview_models import DEFAULT_HORIZON, SavedTest, StoryResult
from api.routes.journeys import compile_body, off_loop
from api.saving import write_source
from config.settings import Settings
from engine.errors import JourneyValidationError
from engine.source import SourceSyntaxError, parse_source, read_source_file

WRAP = 100  # characters of a flow list before it continues on the next line
_saving = asyncio.Lock()  # one save at a time: each reads, then rewrites, the whole file


class SaveRefused(Exception):
    """The story cannot be saved as a test; ``status`` is the answer's HTTP status."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def _writable(folder: Path) -> bool:
    tests = folder / "tests"
    target = tests if tests.exists() else folder
    return target.is_dir() and os.access(target, os.W_OK | os.X_OK)


def why_not_save(principal: Principal, settings: Settings) -> str:
    """Why ``principal`` may not save stories as tests here, or "" when they may."""
    if not principal.can_edit:
        return f"{principal.name} is a viewer: viewers may preview, not save tests."
    folder = settings.journeys_save_dir
    if folder is None:
        return (
            "Saving stories as tests is off here: JOURNEYS_SAVE_DIR (the journeys folder in git) is not set; "
            "journeys up sets it."
        )
    if not _writable(folder):
        return f"Saving stories as tests is off here: {folder / 'tests'} is not writable."
    return ""


# --------------------------------------------------------------------------- the case as YAML


def _flow(value: Any) -> str:
    """``value`` in YAML flow style on one line (a scalar quoted only where YAML needs it)."""
    text = yaml.safe_dump([value], default_flow_style=True, sort_keys=False, allow_unicode=True, width=10**9)
    return text.strip()[1:-1]


def _flow_list(values: list[Any], indent: int) -> str:
    """A flow list, continued on lines indented by ``indent`` past ``WRAP`` characters."""
    lines, line = [], "["
    for position, value in enumerate(values):
        item = _flow(value) + ("," if position < len(values) - 1 else "]")
        if len(line) + len(item) > WRAP and line != "[":
            lines.append(line.rstrip())
            line = " " * indent
        line += item + " "
    lines.append(line.rstrip() if values else "[]")
    return "\n".join(lines)


def case_of(result: StoryResult, name: str, file_customer: dict[str, Any]) -> dict[str, Any]:
    """The journey test of ``result``'s story: the story as played, what happened as expected."""
    story = result.story
    # The test's customer is the simulator's sample customer, then the file's `customer`, then
    # the story's: keep every trait the preview's customer had that the file would change.
    customer = {k: v for k, v in story.traits.items() if file_customer.get(k, v) != v or k in story.customer}
    expect: dict[str, Any] = {}
    if not result.runs:
        expect["entered"] = False
    expect["emails"] = [{"email": e.name, "day": e.day} for e in result.emails if e.status == "sent"]
    if result.path.steps:
        expect["steps"] = result.path.steps
    expect["points"] = result.points
    if result.runs:
        last = result.runs[-1]
        if any(run.goal_reached for run in result.runs):
            expect["goal"] = True
        expect["outcome"] = last.outcome
        if last.outcome == "exited":
            expect["exit"] = last.reason
    case: dict[str, Any] = {"name": name}
    if customer:
        case["customer"] = customer
    if story.variants:
        case["variants"] = story.variants
    if story.horizon != DEFAULT_HORIZON:
        case["horizon"] = story.horizon
    events = [
        {"at": e.at, "event": e.event, **({"properties": e.properties} if e.properties else {})}
        for e in story.events
    ]
    if events:
        case["events"] = events
    case["expect"] = expect
    return case


def case_text(case: dict[str, Any], indent: int) -> str:
    """``case`` as one item of the file's ``stories`` list, in the style of the example tests."""
    pad = " " * indent
    lines = [f"{pad}- name: {_flow(case['name'])}"]
    for key in ("customer", "variants", "horizon"):
        if key in case:
            lines.append(f"{pad}  {key}: {_flow(case[key])}")
    if "events" in case:
        lines.append(f"{pad}  events:")
        lines += [f"{pad}    - {_flow(event)}" for event in case["events"]]
    lines.append(f"{pad}  expect:")
    for key, value in case["expect"].items():
        if key == "emails" and value:
            lines.append(f"{pad}    emails:")
            lines += [f"{pad}      - {_flow(email)}" for email in value]
        elif key == "steps":
            lines.append(f"{pad}    steps: {_flow_list(value, indent + len('    steps: ['))}")
        else:
            lines.append(f"{pad}    {key}: {_flow(value)}")
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------- the file


def _read(file: Path, journey: str) -> tuple[str, dict[str, Any]]:
    """The test file's text and data (a new file's, if there is none), read as ``journeys test``
    reads it (the bounded loader)."""
    if not file.exists():
        text = (
            f"# Stories of the {journey} journey and what each customer should experience.\n"
            "# Run with: journeys test journeys/      (format: docs/testing.md)\n"
            f"journey: {journey}\nstories:\n"
        )
        return text, {"journey": journey, "stories": []}
    try:
        text = read_source_file(file)
        data = parse_source(text, str(file)).data
    except (SourceSyntaxError, ValueError) as exc:
        raise SaveRefused(409, f"{file.name} cannot be read, so nothing was added to it: {exc}") from exc
    stories = data.get("stories") if isinstance(data, dict) else None
    if not isinstance(data, dict) or not isinstance(stories, list):
        raise SaveRefused(409, f"{file.name} has no list of stories to add to; fix it by hand first")
    return text, data


def _append(text: str, data: dict[str, Any], case: dict[str, Any], file: Path) -> str:
    """``text`` with ``case`` added at the end of its stories; as text where the stories come last
    in block style (comments and layout untouched), else through ruamel's round trip."""
    stories = data["stories"]
    if list(data)[-1] == "stories":
        indent = 2
        if stories:
            line, column = parse_source(text, str(file)).position(("stories", 0))
            row = text.splitlines()[line - 1]
            indent = column - 3
            if indent < 0 or row[indent : indent + 2] != "- ":
                indent = -1  # a flow list, or another layout
        if indent >= 0:
            body = text.rstrip("\n") + "\n"
            if body.rstrip().endswith("stories: []"):
                body = body.rstrip()[: -len(" []")] + "\n"
            return body + ("\n" if stories else "") + case_text(case, indent)
    loader = YAML()
    loader.preserve_quotes = True
    document = loader.load(text)
    document["stories"].append(case)
    out = StringIO()
    loader.dump(document, out)
    return out.getvalue()


def _check(text: str, data: dict[str, Any], case: dict[str, Any], file: Path) -> None:
    """The new text reads as the old stories plus ``case``, everything else the same."""
    try:
        after = parse_source(text, str(file)).data
    except SourceSyntaxError as exc:
        raise SaveRefused(
            409, f"adding the story would break {file.name} ({exc}); nothing was written"
        ) from exc
    expected = {**data, "stories": [*data["stories"], case]}
    if after != expected:
        raise SaveRefused(409, f"the story could not be added to {file.name} as written; nothing was written")


async def save_story(settings: Settings, job: Job, name: str | None) -> SavedTest:
    """Append ``job``'s story to its journey's tests; ``SaveRefused`` says why not."""
    result = job.story
    if job.kind != "story" or result is None:
        state = "has not finished" if job.active else "has no story to save"
        raise SaveRefused(409, f"this preview {state}")
    folder = settings.journeys_save_dir
    assert folder is not None  # why_not_save said so
    journey = result.journey
    source = folder / f"{journey}.yaml"
    try:
        raw = await asyncio.to_thread(source.read_bytes)
        _, plan = await off_loop(source.name, lambda: compile_body(raw, source.name, folder))
    except (OSError, JourneyValidationError) as exc:
        raise SaveRefused(409, f"{source} cannot be compiled, so a test of it cannot run: {exc}") from exc
    if plan.version != result.version:
        raise SaveRefused(
            409,
            f"{source.name} in the journeys folder is version {plan.version}, the story ran on "
            f"{result.version}: journeys test would run it on the file; save the journey, run the story "
            "again, then save it as a test",
        )
    async with _saving:
        return await _save(folder, journey, result, name)


async def _save(folder: Path, journey: str, result: StoryResult, name: str | None) -> SavedTest:
    tests = folder / "tests"
    file = tests / f"{journey}.yaml"
    text, data = await asyncio.to_thread(_read, file, journey)
    title = name or result.story.name
    names = {str(s.get("name", "story")) for s in data["stories"] if isinstance(s, dict)}
    if title in names:
        raise SaveRefused(
            409, f'tests/{journey}.yaml already has a story named "{title}": give this one another name'
        )
    file_customer = data.get("customer") if isinstance(data.get("customer"), dict) else {}
    case = case_of(result, title, file_customer or {})
    new_text = _append(text, data, case, file)
    _check(new_text, data, case, file)
    await asyncio.to_thread(tests.mkdir, exist_ok=True)
    await asyncio.to_thread(write_source, tests, journey, new_text)
    return SavedTest(file=f"tests/{journey}.yaml", name=title, case=case_text(case, 2))
