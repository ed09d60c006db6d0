"""The worker's garbage collector, tuned from the ``JOURNEYS_WORKER_GC_*`` settings.

A worker's heap is mostly what it holds for a long time: its imports and, for every cached run, the
sandbox's module copy and the run's state (README "Sizing"). Python's cycle collector walks the
objects of a generation each time it collects it, so with a full cache each collection of the old
generations walks hundreds of thousands of objects that stay. ``gc.freeze`` moves everything alive
once the worker has started into a generation no collection walks; a larger ``threshold0`` makes the
young collections, and with them the older ones they count towards, rarer. The cycles runs leave
when they are evicted (a sandboxed module refers to itself through its functions' globals) are still
collected, only later.
"""

from __future__ import annotations

import gc


def tune_gc(threshold: int, freeze: bool) -> None:
    """Set the young generation's ``threshold`` (0: no automatic collection) and, if ``freeze``,
    collect once and leave every object alive now out of the collections to come."""
    _, older, oldest = gc.get_threshold()
    gc.set_threshold(threshold, older, oldest)
    if freeze:
        gc.collect()
        gc.freeze()
