"""Workflow modules compiled once per worker process instead of once per run.

The sandbox imports a workflow's module afresh for every run, so that each run has globals of its
own. Without a bytecode cache (``PYTHONDONTWRITEBYTECODE``, as the Docker image and this
environment set) Python compiles the module's source every time: about 8 ms of CPU per run for
``workflows/journey.py``, a third of what a new run cost the worker. ``compile_once`` makes the
import system take those modules' code from a cache kept in memory (compiled from the same file,
again when it changes), as it would take it from a ``.pyc``: each run still executes the module in
its own sandbox, with the same restrictions.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import os
import sys
import threading
from collections.abc import Iterable, Sequence
from types import CodeType, ModuleType

_CODE: dict[tuple[str, int, int], CodeType] = {}
_LOCK = threading.Lock()


class _CachedCode(importlib.machinery.SourceFileLoader):
    def get_code(self, fullname: str) -> CodeType:
        stat = os.stat(self.path)
        key = (self.path, stat.st_mtime_ns, stat.st_size)
        code = _CODE.get(key)
        if code is None:
            code = super().get_code(fullname)
            assert code is not None  # a source file always gives code (or raises)
            with _LOCK:
                _CODE[key] = code
        return code


class CompiledOnce(importlib.abc.MetaPathFinder):
    """Finds modules of ``packages`` as the other finders do, and loads them from ``_CODE``."""

    def __init__(self) -> None:
        self.packages: set[str] = set()

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname.partition(".")[0] not in self.packages:
            return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(fullname, path, target)
            if spec is None:
                continue
            loader = spec.loader
            if type(loader) is importlib.machinery.SourceFileLoader:
                spec.loader = _CachedCode(loader.name, loader.path)
            return spec
        return None


def compile_once(packages: Iterable[str]) -> None:
    """Load the modules of ``packages`` (top-level names, e.g. ``workflows``) from code compiled once."""
    with _LOCK:
        finder = next((f for f in sys.meta_path if isinstance(f, CompiledOnce)), None)
        if finder is None:
            finder = CompiledOnce()
            sys.meta_path.insert(0, finder)
        finder.packages.update(packages)
