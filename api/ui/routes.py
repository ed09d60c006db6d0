"""The ``/ui`` router (pages, their data, step panels, customers) and where its static files are served."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.staticfiles import StaticFiles

from api.ui import (
    customer_pages,
    data,
    editor,
    editor_save,
    editor_templates,
    history,
    leaderboard_pages,
    pages,
    preview,
    reports_page,
    results_panel,
    segment_pages,
    steps,
)
from api.ui.templating import STATIC_DIR, STATIC_URL

router = APIRouter(include_in_schema=False)
for module in (
    pages,
    data,
    steps,
    customer_pages,
    leaderboard_pages,
    segment_pages,
    editor,
    editor_save,
    editor_templates,
    preview,
    history,
    reports_page,
    results_panel,
):
    router.include_router(module.router)


def static_files() -> StaticFiles:
    """Our ES modules, the stylesheet and the vendored files (``make vendor``), at ``STATIC_URL``."""
    return StaticFiles(directory=STATIC_DIR)


__all__ = ["STATIC_URL", "router", "static_files"]
