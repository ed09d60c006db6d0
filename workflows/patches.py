"""The one registry of live Temporal patches in ``JourneyWorkflow`` (lifecycle: docs/patches.md).

A patch is live from the ``workflow.patched(id)`` that introduces it, through its
``workflow.deprecate_patch(id)``, until the call is deleted; then its entry leaves ``LIVE_PATCHES``.
``workflows/journey.py`` takes every patch id from here, as ``SOME_CHANGE.id``, never a string of
its own; ``tests/workflows/test_patches.py`` fails on a call whose id is not registered, on a
registered patch no call uses, and on a listed history that is not recorded.

Empty: the three patches written before the first release (``effects-carry-records``,
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


# Add a patch here before its first workflow.patched call; keep ids unique.
LIVE_PATCHES: tuple[Patch, ...] = ()
