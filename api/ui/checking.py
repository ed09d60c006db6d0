"""What the editor shows after each pause in typing: the same bounded validation as ``journeys
validate`` (same thread pool, time limit and words), each problem placed at its line and column and
on the step it belongs to, and, when the text is valid, the diagram of its plan."""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import partial
from pathlib import Path

from pydantic import BaseModel, Field

from api.routes.journeys import off_loop
from api.ui.graph import Diagram, diagram
from api.ui.template_edits import TemplateEditError, check_edits, with_edits
from engine.errors import JourneyError, JourneyValidationError
from engine.limits import MAX_FILE_BYTES
from engine.loader import compile_text, decode_journey
from engine.plan import Plan
from engine.source import SourceSyntaxError, parse_source

_STEP_PATH = re.compile(r"^steps\[(\d+)\]")
_TEMPLATE = re.compile(r'\btemplate "([a-z][a-z0-9_-]*)"')


class Problem(BaseModel):
    line: int
    column: int
    path: str
    message: str
    step: str | None  # the step (diagram node id) the problem belongs to, when it is in one
    template: str | None = None  # the email template it is about (shown in that template's tab)
    text: str  # as the CLI prints it: ``file:line:column path: message``


class CheckRequest(BaseModel):
    """What the editor sends to be checked: the YAML as typed and the template files edited."""

    source: str = Field(max_length=MAX_FILE_BYTES, description="the journey YAML")
    templates: dict[str, str] = Field(
        default_factory=dict, description="edited template files by name (welcome/body.html) -> text"
    )


class Checked(BaseModel):
    valid: bool
    journey: str | None = None
    version: str | None = None  # the content hash a deploy of this text would create
    problems: list[Problem] = []
    diagram: Diagram | None = None  # of the text when valid


def _step_ids(text: str, file: str) -> list[str | None]:
    """The id of each step in ``text`` by position (None where a step has none), if it parses."""
    try:
        data = parse_source(text, file).data
    except SourceSyntaxError:
        return []
    steps = data.get("steps") if isinstance(data, dict) else None
    if not isinstance(steps, list):
        return []
    return [str(s["id"]) if isinstance(s, dict) and isinstance(s.get("id"), str) else None for s in steps]


def _problems(errors: list[JourneyError], text: str, file: str) -> list[Problem]:
    ids = _step_ids(text, file) if any(_STEP_PATH.match(e.path) for e in errors) else []
    found = []
    for error in errors:
        match = _STEP_PATH.match(error.path)
        index = int(match.group(1)) if match else -1
        step = ids[index] if 0 <= index < len(ids) else None
        template = _TEMPLATE.search(error.message) if error.path.endswith(".send.email") else None
        found.append(
            Problem(
                line=error.line,
                column=error.column,
                path=error.path,
                message=error.message,
                step=step,
                template=template.group(1) if template else None,
                text=str(error),
            )
        )
    return found


def _tab(file: str | None) -> str | None:
    """The editor tab an edited file is shown in: its template's, or "_shared" for a shared file."""
    if file is None:
        return None
    return file.split("/")[0] if "/" in file else "_shared"


def compile_with(data: bytes, file: str, templates_dir: Path) -> tuple[str, Plan]:
    """Decode and compile ``data`` against the email templates in ``templates_dir``."""
    text = decode_journey(data, file)
    return text, compile_text(text, file, templates_dir)


def _renamed(text: str, file: str, expected: str, found: str) -> JourneyError:
    line, column = parse_source(text, file).position(("journey",))
    message = f'this editor changes journey "{expected}": the text names "{found}" (rename it in git instead)'
    return JourneyError(file, line, column, "journey", message)


async def check(
    data: bytes, file: str, journeys_dir: Path, *, journey: str, templates: Mapping[str, str] | None = None
) -> Checked:
    """Validate ``data`` (the YAML as typed) as ``journeys validate`` would, off the event loop,
    with ``templates`` (edited email template files, api.ui.template_edits) over the saved ones;
    a valid text must still name ``journey``, the one being edited."""
    text = data.decode("utf-8", errors="replace")
    edits = dict(templates or {})
    try:
        check_edits(edits)
    except TemplateEditError as exc:
        message = str(exc)
        problem = Problem(
            line=1,
            column=1,
            path="templates",
            message=message,
            step=None,
            template=_tab(exc.file),
            text=message,
        )
        return Checked(valid=False, problems=[problem])
    try:
        text, plan = await off_loop(
            file, lambda: with_edits(journeys_dir / "templates", edits, partial(compile_with, data, file))
        )
        if plan.journey != journey:
            raise JourneyValidationError([_renamed(text, file, journey, plan.journey)])
    except JourneyValidationError as exc:
        errors = exc.errors
        return Checked(valid=False, problems=await off_loop(file, lambda: _problems(errors, text, file)))
    return Checked(valid=True, journey=plan.journey, version=plan.version, diagram=diagram(plan))
