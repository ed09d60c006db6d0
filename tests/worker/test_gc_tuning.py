"""The worker's garbage collector follows the JOURNEYS_WORKER_GC_* settings."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator

import pytest

from config.settings import Settings
from worker.gc_tuning import tune_gc


@pytest.fixture(autouse=True)
def collector_restored() -> Iterator[None]:
    threshold = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*threshold)


def test_the_settings_name_the_threshold_and_the_freeze(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JOURNEYS_WORKER_GC_THRESHOLD", "50000")
    monkeypatch.setenv("JOURNEYS_WORKER_GC_FREEZE", "1")
    settings = Settings()

    assert (settings.worker_gc_threshold, settings.worker_gc_freeze) == (50_000, True)


def test_a_threshold_is_set_and_the_older_generations_keep_theirs() -> None:
    _, older, oldest = gc.get_threshold()

    tune_gc(25_000, freeze=False)

    assert gc.get_threshold() == (25_000, older, oldest)
    assert gc.get_freeze_count() == 0


def test_freezing_leaves_what_is_alive_out_of_later_collections() -> None:
    kept: list[list[int]] = [[] for _ in range(1000)]  # tracked containers, alive as the worker starts

    tune_gc(700, freeze=True)

    assert gc.get_freeze_count() >= len(kept)
    assert not any(item is kept[0] for item in gc.get_objects())  # frozen: no generation lists it


def test_cycles_made_after_the_freeze_are_still_collected() -> None:
    tune_gc(700, freeze=True)

    class Node:
        def __init__(self) -> None:
            self.me = self

    node = Node()
    assert any(o is node for o in gc.get_objects())  # in a generation, not frozen
    gone = weakref.ref(node)
    del node  # only its own cycle holds it now

    gc.collect()
    assert gone() is None
