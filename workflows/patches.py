"""The one registry of live Temporal patches in ``JourneyWorkflow`` (lifecycle: docs/patches.md).

A patch is live from the ``workflow.patched(id)`` that introduces it, through its
``workflow.deprecate_patch(id)``, until the call is deleted; then its entry leaves ``LIVE_PATCHES``.
``workflows/journey.py`` takes every patch id from here, as ``SOME_CHANGE.id``, never a string of
its own; ``tests/workflows/test_patches.py`` fails on a call whose id is not registered, on a
registered patch no call uses, and on a listed history that is not recorded.

The three patches written before the first release (``effects-carry-records``,
``customer-in-input``, ``reenter-on-current-version``) were folded into the baseline while no run
of the old code existed anywhere.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Patch:
    id: str
    """The Temporal patch id: kebab-case, never reused for another change."""
    why: str
    """The behaviour change it protects: what runs started before it do, what runs after it do."""
    histories: tuple[str, ...]
    """Recorded histories (file names in ``tests/workflows/histories/``) that guard it: the
    ``before-<id>`` generation (old branch) and the ``<id>`` one (new branch), then
    ``<id>-deprecated`` once it moved to ``deprecate_patch``."""
    deprecate_after: str
    """When it may move to ``deprecate_patch``: the release that shipped it and the time it was
    deployed (the bound of the visibility query in docs/patches.md), and the earliest date that can
    be true (deployment plus the longest a run of any journey lasts)."""


STORE_STEPS_LOCAL = Patch(
    id="store-steps-local",
    why=(
        "Runs started before it schedule an activity for each award and set_stage step (its request,"
        " step records included, in history), and update a search attribute as each step is entered"
        " or each stage set. Runs started after it queue those store-only steps and run each as a"
        " local activity (only its result in history, no workflow task of its own) at the run's next"
        " wait, send, customer read or end, the first carrying the step records gathered by then"
        " (no record_steps of their own); and they update the search attributes once per workflow"
        " task, before the run waits or sends, with the last value of each (JourneyStep,"
        " LifecycleStage). Issue #14: an onboarding run waiting at wait_profile 6.3 KB -> under 4 KB."
        " Runs whose input says store_steps_local (every start since the generation"
        " store-steps-local-by-input) take the new branch without asking: no marker in their history."
    ),
    histories=tuple(
        f"{name}-{generation}.json"
        for generation in ("before-store-steps-local", "store-steps-local", "store-steps-local-by-input")
        for name in (
            "onboarding-converts",
            "onboarding-quiet",
            "onboarding-leaves",
            "winback-converts",
            "referral-converts",
            "engagement-quiet",
            "referral-reentry",
        )
    ),
    deprecate_after="not released yet: the release that ships it, its deployment time, plus the longest run",
)

# Add a patch here before its first workflow.patched call; keep ids unique.
LIVE_PATCHES: tuple[Patch, ...] = (STORE_STEPS_LOCAL,)
