"""A journey's YAML written into a folder as ``<name>.yaml``, atomically: a temporary file beside it,
flushed to disk, then renamed over it, so a reader (git, an editor, ``journeys up``) never sees half."""

from __future__ import annotations

import os
import stat
import tempfile
from pathlib import Path


def journey_file(directory: Path, name: str) -> Path:
    return directory / f"{name}.yaml"


def write_source(directory: Path, name: str, source: str) -> Path:
    """Write ``source`` to ``<directory>/<name>.yaml`` (keeping the mode of a file already there);
    the path written."""
    target = journey_file(directory, name)
    try:
        mode = stat.S_IMODE(target.stat().st_mode)
    except FileNotFoundError:
        mode = 0o644  # what a new file in a checkout usually has (os.umask would race other threads)
    handle, temporary = tempfile.mkstemp(prefix=f".{name}.", suffix=".yaml.tmp", dir=directory)
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as file:
            file.write(source)
            file.flush()
            os.fsync(file.fileno())
        os.chmod(temporary, mode)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return target
