"""Where a program's segments live (``journeys/segments/*.yaml``) and the names they define, which
journeys are checked against (``customer.segments.<name>``, a scheduled trigger's ``segment``).

The names are read without validating the files (that is ``engine.segments.loader``'s job), and
kept per folder until a file in it changes, so an editor checking a journey as one types does not
parse every segment file on each keystroke.
"""

from __future__ import annotations

import re
from pathlib import Path

from engine.source import SourceSyntaxError, parse_source, read_source_file

SEGMENTS_DIR = "segments"
MAX_SEGMENTS = 200
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
_Stamp = tuple[tuple[str, int, int], ...]
_known: dict[Path, tuple[_Stamp, frozenset[str]]] = {}


def segments_dir(journeys_dir: Path) -> Path:
    return journeys_dir / SEGMENTS_DIR


def segment_files(journeys_dir: Path) -> list[Path]:
    folder = segments_dir(journeys_dir)
    if not folder.is_dir():
        return []
    return sorted([*folder.glob("*.yaml"), *folder.glob("*.yml")])


def segment_label(path: Path) -> str:
    """How errors name a segment file: ``segments/vip.yaml``."""
    return f"{SEGMENTS_DIR}/{path.name}"


def segment_names(journeys_dir: Path) -> frozenset[str]:
    """The names the segment files of ``journeys_dir`` define; a file whose name cannot be read
    (broken YAML, no ``segment:``) defines the name of its file, so that a journey naming it is
    not reported twice for one broken file."""
    files = segment_files(journeys_dir)[: MAX_SEGMENTS + 1]
    stamp = tuple(_stamp(file) for file in files)
    cached = _known.get(journeys_dir)
    if cached is not None and cached[0] == stamp:
        return cached[1]
    names = frozenset(_name(file) for file in files)
    _known[journeys_dir] = (stamp, names)
    return names


def _stamp(file: Path) -> tuple[str, int, int]:
    try:
        stat = file.stat()
    except OSError:
        return (file.name, 0, 0)
    return (file.name, stat.st_mtime_ns, stat.st_size)


def _name(file: Path) -> str:
    try:
        data = parse_source(read_source_file(file), file.name).data
    except (SourceSyntaxError, OSError):
        return file.stem
    name = data.get("segment") if isinstance(data, dict) else None
    return name if isinstance(name, str) and _NAME.match(name) else file.stem
