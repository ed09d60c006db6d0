"""The compiled code of email templates, kept in memory by name and source for every environment of
``engine.templates`` to share.

Each email template renders in an environment of its own sources, and every one of them holds the
shared layouts (``templates/_layout.html``): without this, each environment compiled the layout
again (``journeys validate journeys/`` compiled it 15 times of 67 compilations). A template's code
depends on its name, its source and the environment's settings, and those environments all have
the same settings, so one compiled code serves them all. Nothing is written to disk; the cache
keeps the ``MAX_TEMPLATES`` most recently used templates.
"""

from __future__ import annotations

from collections import OrderedDict
from types import CodeType

from jinja2 import BytecodeCache
from jinja2.bccache import Bucket

MAX_TEMPLATES = 512


class CompiledTemplates(BytecodeCache):
    """Jinja2's bytecode cache hooks, holding the code objects themselves (no marshalling)."""

    def __init__(self, capacity: int = MAX_TEMPLATES) -> None:
        self.capacity = capacity
        self._code: OrderedDict[tuple[str, str], CodeType] = OrderedDict()

    def load_bytecode(self, bucket: Bucket) -> None:
        key = (bucket.key, bucket.checksum)  # the name's hash and the source's
        code = self._code.get(key)
        if code is not None:
            self._code.move_to_end(key)
            bucket.code = code

    def dump_bytecode(self, bucket: Bucket) -> None:
        if bucket.code is None:
            return
        self._code[(bucket.key, bucket.checksum)] = bucket.code
        if len(self._code) > self.capacity:
            self._code.popitem(last=False)

    def clear(self) -> None:
        self._code.clear()

    def __len__(self) -> int:
        return len(self._code)
