"""Save in the editor: ``POST /ui/journeys/{name}/save`` deploys the text (with the template files
edited beside it) as the journey's new version — editors only, only when JOURNEYS_UI_EDIT allows,
only when it is valid. Edited templates are written into the templates folder the API compiles
against (so later deploys keep them, and under ``journeys up`` ``git diff`` shows them), each file
atomically, after the whole change has been checked and before the journey is deployed through the
one deploy path (``api.deploying.deploy_source``), which records who saved it."""

from __future__ import annotations

import asyncio
import os
import tempfile
from pathlib import Path

from fastapi import APIRouter, HTTPException
from pydantic import BaseModel

from api.auth import UiPrincipalDep
from api.deploying import deploy_source
from api.deps import RouterDep, SettingsDep, StoreDep
from api.ui.checking import CheckRequest, check
from api.ui.editor import may_save
from api.ui.params import JourneyName
from engine.errors import JourneyValidationError

router = APIRouter(prefix="/ui")


class Saved(BaseModel):
    journey: str
    version: str
    created: bool  # a version never deployed before (else an earlier one is current again)
    previous: str | None
    templates_written: list[str]  # template files written into the templates folder
    saved_to: str | None  # the journey file written under JOURNEYS_SAVE_DIR, if any
    save_error: str | None


def _write_atomically(target: Path, text: str) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as file:
            file.write(text)
            file.flush()
            os.fsync(file.fileno())
        os.chmod(temporary, 0o644)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _write_templates(folder: Path, edits: dict[str, str]) -> list[str]:
    for name, text in sorted(edits.items()):
        _write_atomically(folder / name, text)  # names checked by api.ui.template_edits first
    return sorted(edits)


@router.post("/journeys/{name}/save", response_model=Saved)
async def save(
    body: CheckRequest,
    name: JourneyName,
    principal: UiPrincipalDep,
    store: StoreDep,
    events: RouterDep,
    settings: SettingsDep,
) -> Saved:
    allowed, why_not = may_save(principal, settings)
    if not allowed:
        raise HTTPException(403, detail=why_not)
    data = body.source.encode("utf-8")
    checked = await check(data, f"{name}.yaml", settings.journeys_dir, journey=name, templates=body.templates)
    if not checked.valid:
        count = len(checked.problems)
        detail = f"not saved: {count} problem{'s' if count != 1 else ''} ({checked.problems[0].text})"
        raise HTTPException(422, detail=detail)
    try:
        written = await asyncio.to_thread(
            _write_templates, settings.journeys_dir / "templates", body.templates
        )
    except OSError as exc:
        folder = settings.journeys_dir / "templates"
        raise HTTPException(
            409, detail=f"not saved: cannot write to {folder}: {exc.strerror or exc}"
        ) from exc
    try:
        result = await deploy_source(
            data, name, store=store, events=events, settings=settings, deployed_by=principal.name
        )
    except JourneyValidationError as exc:  # the templates folder changed between check and deploy
        raise HTTPException(422, detail=f"not saved: {exc.errors[0]}") from exc
    return Saved(
        journey=name,
        version=result.plan.version,
        created=result.deployment.new_version,
        previous=result.deployment.previous,
        templates_written=written,
        saved_to=str(result.saved_to) if result.saved_to else None,
        save_error=result.save_error,
    )
