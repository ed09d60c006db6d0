"""Versions by content: the same data always gives the same short hash (plans, the loyalty program,
the channel policy). Stored versions and recorded histories name these hashes: never change how one
is made."""

from __future__ import annotations

import hashlib
import json
from typing import Any


def content_hash(data: Any, length: int) -> str:
    """The first ``length`` hex digits of the SHA-256 of ``data`` as canonical JSON (keys sorted, no
    spaces)."""
    text = json.dumps(data, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:length]
