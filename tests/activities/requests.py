"""Activity requests the tests send: onboarding's welcome email, as the workflow schedules it."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from contracts.activities import SendEmailRequest
from engine.templates import read_email_sources

TEMPLATES = Path(__file__).resolve().parents[2] / "journeys" / "templates"


def welcome_email(customer_id: str, templates: dict[str, str] | None = None) -> SendEmailRequest:
    """onboarding's welcome step for ``customer_id``, its template files overlaid with ``templates``."""
    return SendEmailRequest(
        key=f"journey/onboarding/{customer_id}/e1/welcome/1",
        workflow_id=f"journey/onboarding/{customer_id}",
        journey="onboarding",
        version="v1",
        step="welcome",
        customer_id=customer_id,
        at=datetime(2030, 3, 4, 9, 30, tzinfo=UTC),
        template="welcome",
        templates={**read_email_sources(TEMPLATES, "welcome"), **(templates or {})},
    )
