"""The referral journey of a backend that computes referrals itself and sends ``referral_completed``.

It was an example journey before native referrals (``journeys/referral_native.yaml``) replaced it; the
tests that replay its recorded histories, re-enter it or count its awards read it from this fixture
folder (the journey, its journey test, its one template with the layout it extends, and a loyalty
program with the lifetime tiers its histories were recorded with) instead.
"""

from __future__ import annotations

from pathlib import Path

from engine.loader import compile_file
from engine.plan import Plan

BACKEND_REFERRAL_DIR = Path(__file__).resolve().parents[1] / "fixtures" / "backend_referral"
BACKEND_REFERRAL_FILE = BACKEND_REFERRAL_DIR / "referral.yaml"
BACKEND_REFERRAL_TEMPLATES = BACKEND_REFERRAL_DIR / "templates"


def backend_referral_plan() -> Plan:
    """The fixture's ``referral`` journey, compiled with its own templates."""
    return compile_file(BACKEND_REFERRAL_FILE)
