"""What the routes of a program-wide file share (``/v1/loyalty/program``, ``/v1/channels/policy``):
the YAML request body, the 422 of a file with problems, the active version or a 404, and the fields
every deploy answer has. Paths, summaries and the bodies' own fields stay with each route."""

from __future__ import annotations

from pathlib import Path
from typing import TypedDict, TypeVar

from fastapi import HTTPException

from api.deploying import FileDeployResult
from api.errors import Responses, problem
from api.schemas import JourneyProblem, ValidationProblem
from store.program_files import ActiveFileRepository, Versioned

V = TypeVar("V", bound=Versioned)


def file_invalid(what: str) -> Responses:
    """The documented 422 of a route that deploys the ``what`` file (``program``, ``policy``)."""
    return problem(
        422,
        f"The {what} file has problems (each with file, line, column and path), or the request is malformed",
        JourneyProblem | ValidationProblem,
    )


async def active_or_404(files: ActiveFileRepository[V], missing: str) -> V:
    """The active version of ``files``; a 404 saying ``missing`` when none was deployed."""
    found = await files.active()
    if found is None:
        raise HTTPException(404, detail=missing)
    return found


async def active_with_source(files: ActiveFileRepository[V], missing: str) -> tuple[V, str]:
    """The active version and its file as written; a 404 saying ``missing`` when none was deployed."""
    found = await active_or_404(files, missing)
    return found, await files.source(found.version) or ""


class DeployedFields(TypedDict):
    version: str
    new: bool
    saved_to: str | None
    save_error: str | None


def deployed_fields(result: FileDeployResult[V]) -> DeployedFields:
    """The fields of a deploy answer that are not the file's own name."""
    return DeployedFields(
        version=result.deployed.version,
        new=result.new,
        saved_to=_shown(result.saved_to),
        save_error=result.save_error,
    )


def _shown(path: Path | None) -> str | None:
    return str(path) if path else None
