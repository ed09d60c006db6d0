"""A one-shot command imports what it runs without the cycle collector walking it again and again.

Importing the simulator creates several hundred thousand objects (modules, classes, functions,
pydantic and SQLAlchemy schemas) that live until the process ends. While they are being created,
the collector runs hundreds of young and a few full collections over them (about 0.1 s of a
one-story ``journeys simulate``), and every full collection after that walks them again.
``command_imports()`` turns the collector off while a command imports its modules, then
``gc.freeze()``s what is alive, so later collections walk only what the command itself creates.

Only in a process that ends with its command (``cli.main.main`` says so with ``one_shot_process``):
objects frozen are never collected, which a process that goes on (tests calling the app, a worker)
must not have; there ``command_imports()`` changes nothing.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

_one_shot = False


def one_shot_process() -> None:
    """This process ends when its command does: its commands' imports may be frozen."""
    global _one_shot
    _one_shot = True


@contextmanager
def command_imports() -> Iterator[None]:
    """Around a command's imports: no collection while they run, and what they made frozen after
    (in a one-shot process whose collector is on; elsewhere nothing changes)."""
    if not (_one_shot and gc.isenabled()):
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        gc.enable()
