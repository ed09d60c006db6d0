"""Preview on the real workflow, for the journey and editor pages (anyone signed in: a preview
changes nothing; the session's CSRF token on every POST).

- ``POST /ui/journeys/{name}/preview/options``: what the story form offers (splits and their
  variants, the events the journey listens for, its tests' stories to start from).
- ``POST /ui/journeys/{name}/preview``: run one story (202: a job to poll).
- ``POST /ui/journeys/{name}/forecast``: run N generated customers (202: a job to poll).
- ``GET /ui/preview/{job}``: its state, progress and, once done, its answer.
- ``GET /ui/preview/{job}/emails/{index}``: one of the story's emails as rendered (for a frame).
- ``POST /ui/preview/{job}/stop``: stop it.
- ``POST /ui/preview/{job}/test``: save the story as a journey test (editors only).

Each request names the journey deployed (its current version, or ``version``) or carries the
editor's unsaved ``source``, validated as ``POST /v1/journeys/validate`` validates it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, HTTPException, Request
from fastapi import Path as PathParam
from fastapi.responses import HTMLResponse, JSONResponse

from api.auth import UiPrincipalDep
from api.deps import SettingsDep, StoreDep
from api.preview import Job, PreviewError, PreviewFull, PreviewJobs
from api.preview_models import (
    DEFAULT_HORIZON,
    ForecastRequest,
    JobOut,
    PresetStory,
    PreviewOptions,
    RunJob,
    SavedTest,
    SaveTestRequest,
    SplitChoice,
    StoryIn,
    StoryRequest,
    Target,
)
from api.routes.journeys import compile_body, invalid, off_loop
from api.ui.params import JourneyName
from api.ui.preview_saving import SaveRefused, save_story, why_not_save
from api.ui.steps import EMAIL_POLICY
from api.ui.versions import shown
from config.settings import Settings
from engine.errors import JourneyError, JourneyValidationError
from engine.plan import Plan, SplitNode, WaitForNode
from engine.source import SourceSyntaxError, parse_source, read_source_file
from store.database import Store

JobId = Annotated[str, PathParam(pattern=r"^[0-9a-f]{32}$", description="preview job id")]
RETRY_AFTER = "30"


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    yield
    jobs: PreviewJobs | None = getattr(app.state, "previews", None)
    if jobs is not None:
        await jobs.close()  # no run outlives the API


router = APIRouter(prefix="/ui", lifespan=_lifespan)


async def get_jobs(request: Request) -> PreviewJobs:
    jobs: PreviewJobs | None = getattr(request.app.state, "previews", None)
    if jobs is None:
        jobs = request.app.state.previews = PreviewJobs()
    return jobs


JobsDep = Annotated[PreviewJobs, Depends(get_jobs)]


async def _plan(name: str, target: Target, store: Store, settings: Settings) -> tuple[Plan, bool]:
    """The journey to play: the unsaved ``source`` (validated as a deploy would be), else the
    version deployed. ``JourneyValidationError`` for a text with problems."""
    if target.source is None:
        return (await shown(store, name, target.version)).plan, False
    file = f"{name}.yaml"
    data = target.source.encode("utf-8", errors="replace")
    _, plan = await off_loop(file, lambda: compile_body(data, file, settings.journeys_dir))
    if plan.journey != name:
        message = f'the text is journey "{plan.journey}", not "{name}": preview it on its own page'
        raise JourneyValidationError([JourneyError(file, 1, 1, "journey", message)])
    return plan, True


async def _start(jobs: PreviewJobs, owner: str, run: RunJob, unsaved: bool) -> JobOut:
    try:
        job = await jobs.start(owner, run, unsaved=unsaved)
    except PreviewError as exc:
        headers = {"Retry-After": RETRY_AFTER} if isinstance(exc, PreviewFull) else None
        raise HTTPException(exc.status, detail=exc.message, headers=headers) from exc
    return job.out()


def _job(jobs: PreviewJobs, owner: str, job_id: str) -> Job:
    job = jobs.get(owner, job_id)
    if job is None:
        raise HTTPException(
            404, detail="no such preview (finished ones are kept an hour, the last 3 of each user)"
        )
    return job


# --------------------------------------------------------------------------- the form


def _listens_for(plan: Plan) -> list[str]:
    names = [node.event for node in plan.nodes if isinstance(node, WaitForNode)]
    if plan.goal is not None:
        names.append(plan.goal.event)
    names += plan.exit_on
    return [n for n in dict.fromkeys(names) if n != plan.trigger.event]


def _cli_value(value: Any, *, spaces: bool = False) -> str | None:
    """A property (or, with ``spaces``, a trait) as ``key=value`` writes it on the command line, or
    None if it cannot be written so that it reads back the same."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, str) and value and (spaces or not any(c.isspace() for c in value)):
        try:
            same = parse_source(value, "value").data == value
        except SourceSyntaxError:
            same = False
        return value if same else None
    return None


def _preset(story: dict[str, Any], customer: dict[str, Any]) -> PresetStory | None:
    """A test's story as the form takes it; None if the form cannot say it (a value with spaces)."""
    lines = []
    for event in story.get("events") or []:
        if not isinstance(event, dict) or not isinstance(event.get("event"), str):
            return None
        at = event.get("at", 0)
        words = [f"{at}d" if isinstance(at, int) else str(at), event["event"]]
        for key, value in (event.get("properties") or {}).items():
            text = _cli_value(value)
            if text is None:
                return None
            words.append(f"{key}={text}")
        lines.append(" ".join(words))
    traits = []
    for key, value in {**customer, **(story.get("customer") or {})}.items():
        text = _cli_value(value, spaces=True)
        if text is None:
            return None
        traits.append(f"{key}={text}")
    variants = story.get("variants") or {}
    return PresetStory(
        name=str(story.get("name", "story")),
        events=lines,
        traits=traits,
        variants={str(k): str(v) for k, v in variants.items()} if isinstance(variants, dict) else {},
        horizon=str(story.get("horizon", DEFAULT_HORIZON)),
    )


def _presets(settings: Settings, journey: str) -> list[PresetStory]:
    """The stories of the journey's tests, to start from (none when the file cannot be read)."""
    folder = settings.journeys_save_dir or settings.journeys_dir
    file = Path(folder) / "tests" / f"{journey}.yaml"
    try:
        data = parse_source(read_source_file(file), str(file)).data
    except (OSError, ValueError, SourceSyntaxError):
        return []
    if not isinstance(data, dict) or not isinstance(data.get("stories"), list):
        return []
    customer = data.get("customer") if isinstance(data.get("customer"), dict) else {}
    found = [_preset(s, customer or {}) for s in data["stories"] if isinstance(s, dict)]
    return [p for p in found if p is not None]


@router.post("/journeys/{name}/preview/options", response_model=PreviewOptions)
async def preview_options(
    name: JourneyName, target: Target, principal: UiPrincipalDep, store: StoreDep, settings: SettingsDep
) -> PreviewOptions | JSONResponse:
    try:
        plan, _ = await _plan(name, target, store, settings)
    except JourneyValidationError as exc:
        return invalid(exc.errors)
    splits = [
        SplitChoice(step=n.id, variants=[v.name for v in n.variants], control=n.control_percent > 0)
        for n in plan.nodes
        if isinstance(n, SplitNode)
    ]
    why_not = why_not_save(principal, settings)
    return PreviewOptions(
        journey=plan.journey,
        version=plan.version,
        trigger=plan.trigger.event,
        events=_listens_for(plan),
        splits=splits,
        stories=_presets(settings, plan.journey),
        can_save=not why_not,
        why_not_save=why_not,
    )


# --------------------------------------------------------------------------- runs


@router.post("/journeys/{name}/preview", status_code=202, response_model=JobOut)
async def preview_story(
    name: JourneyName,
    body: StoryRequest,
    principal: UiPrincipalDep,
    store: StoreDep,
    settings: SettingsDep,
    jobs: JobsDep,
) -> JobOut | JSONResponse:
    """Play one story on the time-skipping test server with the real workflow and activities."""
    try:
        plan, unsaved = await _plan(name, body, store, settings)
    except JourneyValidationError as exc:
        return invalid(exc.errors)
    program, policy = await store.loyalty_programs.active(), await store.channel_policies.active()
    run = RunJob(kind="story", plan=plan, story=body.story, program=program, policy=policy)
    return await _start(jobs, principal.name, run, unsaved)


@router.post("/journeys/{name}/forecast", status_code=202, response_model=JobOut)
async def preview_forecast(
    name: JourneyName,
    body: ForecastRequest,
    principal: UiPrincipalDep,
    store: StoreDep,
    settings: SettingsDep,
    jobs: JobsDep,
) -> JobOut | JSONResponse:
    """Play ``customers`` generated stories, as ``journeys simulate --customers N --p …``."""
    try:
        plan, unsaved = await _plan(name, body, store, settings)
    except JourneyValidationError as exc:
        return invalid(exc.errors)
    base = StoryIn(name="forecast", traits=body.traits, horizon=body.horizon)
    program, policy = await store.loyalty_programs.active(), await store.channel_policies.active()
    run = RunJob(
        kind="forecast",
        plan=plan,
        story=base,
        customers=body.customers,
        p=body.p,
        seed=body.seed,
        program=program,
        policy=policy,
    )
    return await _start(jobs, principal.name, run, unsaved)


@router.get("/preview/{job_id}", response_model=JobOut)
async def preview_job(job_id: JobId, principal: UiPrincipalDep, jobs: JobsDep) -> JobOut:
    return _job(jobs, principal.name, job_id).out()


@router.post("/preview/{job_id}/stop", response_model=JobOut)
async def stop_preview(job_id: JobId, principal: UiPrincipalDep, jobs: JobsDep) -> JobOut:
    job = _job(jobs, principal.name, job_id)
    await jobs.stop(job)
    return job.out()


@router.get("/preview/{job_id}/emails/{index}", response_class=HTMLResponse)
async def preview_email(
    job_id: JobId, index: Annotated[int, PathParam(ge=0, le=10_000)], principal: UiPrincipalDep, jobs: JobsDep
) -> HTMLResponse:
    """An email of the story as it was rendered, for a sandboxed frame (the step panel's policy)."""
    story = _job(jobs, principal.name, job_id).story
    email = story.emails[index] if story is not None and index < len(story.emails) else None
    if email is None or email.html is None:
        raise HTTPException(404, detail=f"this preview has no email {index} with HTML")
    return HTMLResponse(
        email.html, headers={"Content-Security-Policy": EMAIL_POLICY, "Cache-Control": "no-store"}
    )


@router.post("/preview/{job_id}/test", status_code=201, response_model=SavedTest)
async def save_as_test(
    job_id: JobId, body: SaveTestRequest, principal: UiPrincipalDep, settings: SettingsDep, jobs: JobsDep
) -> SavedTest:
    """Append the story, with what it produced as expectations, to ``tests/<journey>.yaml``."""
    job = _job(jobs, principal.name, job_id)
    why_not = why_not_save(principal, settings)
    if why_not:
        raise HTTPException(403, detail=why_not)
    try:
        return await save_story(settings, job, body.name)
    except SaveRefused as exc:
        raise HTTPException(exc.status, detail=exc.message) from exc
