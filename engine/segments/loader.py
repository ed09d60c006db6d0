"""Load and validate segment files (``journeys/segments/*.yaml``): every problem positioned at its line."""

from __future__ import annotations

from pathlib import Path

from engine import expressions
from engine.checks import did_you_mean
from engine.errors import JourneyError, JourneyValidationError
from engine.segments.evaluation import Segment
from engine.segments.folder import (
    MAX_SEGMENTS,
    SEGMENTS_DIR,
    segment_files,
    segment_label,
    segments_dir,
)
from engine.segments.schema import SegmentFile
from engine.segments.vocabulary import NAMES, reads
from engine.validation import FileKind, Problem, read_source, validate_source

__all__ = [
    "SEGMENTS_DIR",
    "check_segments",
    "load_segment",
    "load_segments",
    "segment_files",
    "segments_dir",
    "validate_segment_text",
]


def _where_problems(model: SegmentFile) -> list[Problem]:
    """The condition: within the language, and reading only what a segment may read."""
    try:
        expressions.check(model.where, NAMES)
    except expressions.ExpressionError as exc:
        return [(("where",), str(exc))]
    return [(("where",), problem) for problem in reads(model.where)[1]]


def _segment_key_hint(key: str, keys: list[str]) -> str:
    """A near key, else the keys a segment file may have (it has few)."""
    return did_you_mean(key, keys) or ("; allowed here: " + ", ".join(keys) if keys else "")


_SEGMENT_FILE_KIND = FileKind(
    model=SegmentFile,
    shape="a segment file must be a mapping with segment, description and where",
    problems=_where_problems,
    unknown_key_hint=_segment_key_hint,
)


def validate_segment_text(text: str, file: str) -> tuple[Segment | None, list[JourneyError]]:
    """Every problem of one segment text, each positioned; the segment when there are none."""
    model, errors = validate_source(text, file, _SEGMENT_FILE_KIND)
    if model is None:
        return None, errors
    found, _problems = reads(model.where)
    return Segment(model.segment, model.description, model.where, found, file), []


def load_segment(path: Path) -> Segment:
    """The segment in ``path``; raises ``JourneyValidationError`` listing every problem, each
    positioned in ``segments/<file>``."""
    label = segment_label(path)
    segment, errors = validate_segment_text(read_source(path, label), label)
    if segment is None:
        raise JourneyValidationError(errors)
    return segment


def check_segments(journeys_dir: Path) -> tuple[list[Segment], list[JourneyError]]:
    """The valid segments of a journeys folder (none without ``segments/``) and every problem of the
    others, each at its file and line: a service starts on the valid ones and reports the rest."""
    segments: list[Segment] = []
    errors: list[JourneyError] = []
    files = segment_files(journeys_dir)
    if len(files) > MAX_SEGMENTS:
        message = f"{len(files)} segment files; a program has at most {MAX_SEGMENTS}"
        return [], [JourneyError(str(segments_dir(journeys_dir)), 1, 1, "", message)]
    for file in files:
        try:
            segments.append(load_segment(file))
        except JourneyValidationError as exc:
            errors += exc.errors
    seen: dict[str, str] = {}
    kept: list[Segment] = []
    for segment in segments:
        if segment.name in seen:
            message = f'"{segment.name}" is defined twice (also in {seen[segment.name]})'
            errors.append(JourneyError(segment.file, 1, 1, "segment", message))
            continue
        seen[segment.name] = segment.file
        kept.append(segment)
    return kept, errors


def load_segments(journeys_dir: Path) -> list[Segment]:
    """Every segment of a journeys folder (none without ``segments/``); one error lists every problem."""
    segments, errors = check_segments(journeys_dir)
    if errors:
        raise JourneyValidationError(errors)
    return segments
