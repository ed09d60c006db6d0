"""Load and validate segment files (``journeys/segments/*.yaml``): every problem positioned at its line."""

from __future__ import annotations

from pathlib import Path

from pydantic import ValidationError

from engine import expressions
from engine.checks import did_you_mean
from engine.errors import JourneyError, JourneyValidationError
from engine.limits import MAX_ERRORS
from engine.loader import _at_most, _error, _pydantic_errors, _source_error
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
from engine.source import Source, SourceSyntaxError, parse_source, read_source_file

__all__ = [
    "SEGMENTS_DIR",
    "check_segments",
    "load_segment",
    "load_segments",
    "segment_files",
    "segments_dir",
    "validate_segment_text",
]


def validate_segment_text(text: str, file: str) -> tuple[Segment | None, list[JourneyError]]:
    """Every problem of one segment text, each positioned; the segment when there are none."""
    try:
        source = parse_source(text, file)
    except SourceSyntaxError as exc:
        return None, [_source_error(file, exc)]
    errors = [
        _error(source, path, f'key "{path[-1]}" is written twice; the second would win', key=True)
        for path in source.duplicate_keys
    ]
    if not isinstance(source.data, dict):
        errors.append(
            _error(source, (), "a segment file must be a mapping with segment, description and where")
        )
        return None, errors
    try:
        model = SegmentFile.model_validate(source.data)
    except ValidationError as exc:
        return None, _at_most(errors + _model_errors(source, exc), MAX_ERRORS)
    try:
        expressions.check(model.where, NAMES)
    except expressions.ExpressionError as exc:
        return None, [*errors, _error(source, ("where",), str(exc))]
    found, problems = reads(model.where)
    errors += [_error(source, ("where",), problem) for problem in problems]
    if errors:
        return None, _at_most(errors, MAX_ERRORS)
    return Segment(model.segment, model.description, model.where, found, file), []


def _model_errors(source: Source, exc: ValidationError) -> list[JourneyError]:
    """The model's complaints; an unknown key's did-you-mean is drawn from a segment file's keys."""
    errors = []
    keys = list(SegmentFile.model_fields)
    for error in _pydantic_errors(source, exc):
        if error.message.startswith('unknown key "') and "." not in error.path and "[" not in error.path:
            key = error.path
            hint = did_you_mean(key, keys) or "; a segment file has " + ", ".join(keys)
            error = JourneyError(
                error.file, error.line, error.column, error.path, f'unknown key "{key}"' + hint
            )
        errors.append(error)
    return errors


def load_segment(path: Path) -> Segment:
    """The segment in ``path``; raises ``JourneyValidationError`` listing every problem, each
    positioned in ``segments/<file>``."""
    label = segment_label(path)
    try:
        text = read_source_file(path)
    except SourceSyntaxError as exc:
        raise JourneyValidationError([_source_error(label, exc)]) from exc
    segment, errors = validate_segment_text(text, label)
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
