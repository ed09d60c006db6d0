"""Run a coroutine on uvloop where it is installed (Linux, macOS), on asyncio's own loop elsewhere.

The worker and simulations spend much of their time in the event loop (activity tasks, SQLite
and SMTP round trips); uvloop makes a simulation about 15% faster (``bench/simulate.py``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


def run(main: Coroutine[Any, Any, T]) -> T:
    try:
        import uvloop
    except ImportError:  # not available on Windows
        return asyncio.run(main)
    return uvloop.run(main)
