"""The side panel of a step (an HTML fragment the journey page puts in its panel), the page of
customers waiting there, and an email rendered for the sample customer (framed, sandboxed)."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse

from api.auth import UiPrincipalDep
from api.deps import StoreDep
from api.ui.graph import KIND_LABELS, diagram, summary
from api.ui.live import live_counts
from api.ui.params import After, JourneyName, Locale, StepId, Version
from api.ui.step_panel import locales, preview, previews, step_source
from api.ui.templating import page
from api.ui.versions import Shown, shown
from engine.plan import Node, SendEmailNode
from store.database import Store

router = APIRouter(prefix="/ui")
PAGE_SIZE = 20
# An email is shown as sent, but may not run scripts or load anything but images (as the Outbox).
EMAIL_POLICY = (
    "default-src 'none'; img-src data: http: https:; style-src 'unsafe-inline'; sandbox; "
    "frame-ancestors 'self'"
)


def _node(view: Shown, step: str) -> Node:
    try:
        return view.plan.node(step)
    except KeyError:
        raise HTTPException(404, detail=f"journey {view.plan.journey!r} has no step {step!r}") from None


async def _waiting(store: Store, view: Shown, step: str, after: str | None) -> tuple[list[str], str | None]:
    """A page of customers at ``step`` now, and the id to ask for the next page after (None: last)."""
    plan = view.plan
    found = await store.steps.waiting(plan.journey, plan.version, step, after=after, limit=PAGE_SIZE + 1)
    more = len(found) > PAGE_SIZE
    shown_ids = found[:PAGE_SIZE]
    return shown_ids, shown_ids[-1] if more and shown_ids else None


@router.get("/journeys/{name}/steps/{step}", response_class=HTMLResponse)
async def step_panel(
    request: Request,
    name: JourneyName,
    step: StepId,
    principal: UiPrincipalDep,
    store: StoreDep,
    version: Version = None,
) -> HTMLResponse:
    view = await shown(store, name, version)
    node = _node(view, step)
    written = step_source(view.plan, node, view.version.source)
    emails = previews(view.plan, node, written.sample) if isinstance(node, SendEmailNode) else []
    found = await store.steps.counts(name, view.plan.version)
    numbers = live_counts(diagram(view.plan), found)
    # Nobody there (the counts say so): no need to look for them among everyone who passed.
    nobody = numbers.nodes[step].waiting == 0
    waiting, next_after = ([], None) if nobody else await _waiting(store, view, step, None)
    context = {
        "plan": view.plan,
        "view": view,
        "node": node,
        "kind_label": KIND_LABELS[node.kind],
        "summary": summary(node),
        "written": written,
        "emails": emails,
        "numbers": numbers.nodes[step],
        "waiting": waiting,
        "next_after": next_after,
    }
    return page(request, "panel.html", principal, context)


@router.get("/journeys/{name}/steps/{step}/customers", response_class=HTMLResponse)
async def waiting_page(
    request: Request,
    name: JourneyName,
    step: StepId,
    principal: UiPrincipalDep,
    store: StoreDep,
    version: Version = None,
    after: After = None,
) -> HTMLResponse:
    view = await shown(store, name, version)
    _node(view, step)
    waiting, next_after = await _waiting(store, view, step, after)
    context = {"view": view, "step": step, "waiting": waiting, "next_after": next_after}
    return page(request, "waiting.html", principal, context)


@router.get("/journeys/{name}/steps/{step}/email", response_class=HTMLResponse)
async def email_preview(
    name: JourneyName,
    step: StepId,
    _: UiPrincipalDep,
    store: StoreDep,
    version: Version = None,
    locale: Locale = None,
) -> HTMLResponse:
    view = await shown(store, name, version)
    node = _node(view, step)
    if not isinstance(node, SendEmailNode) or locale not in locales(view.plan, node.template):
        raise HTTPException(404, detail=f"step {step!r} sends no email in locale {locale!r}")
    written = step_source(view.plan, node, view.version.source)
    rendered = preview(view.plan, node, written.sample, locale).rendered
    body = rendered.html if rendered else "<p>This email does not render for the sample customer.</p>"
    return HTMLResponse(body, headers={"Content-Security-Policy": EMAIL_POLICY, "Cache-Control": "no-store"})
