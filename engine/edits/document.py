"""A journey source as a round-trip YAML document (ruamel.yaml): read within the engine's limits,
written back with its comments, key order, quoting, flow or block styles and indentation.

ruamel hangs the comment lines above a step on the step before it (on its deepest last value);
``load`` gives each step the lines above it instead, and keeps the lines after the last step apart,
so inserting, deleting or moving a step takes its own comments with it and leaves the others be.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedBase, CommentedMap, CommentedSeq
from ruamel.yaml.emitter import RoundTripEmitter
from ruamel.yaml.error import CommentMark, MarkedYAMLError, YAMLError
from ruamel.yaml.tokens import CommentToken

from engine.edits.layout import keep_layout
from engine.errors import JourneyError
from engine.limits import MAX_FILE_BYTES
from engine.source import Path as SourcePath
from engine.source import Source, SourceSyntaxError, format_path, parse_source

WIDTH = MAX_FILE_BYTES  # never fold a long line: the author decides where lines break


class EditRefused(Exception):
    """An edit that cannot be made; ``errors`` says what is wrong and where, as validation does."""

    def __init__(self, errors: list[JourneyError]) -> None:
        self.errors = errors
        super().__init__("\n".join(str(e) for e in errors))


@dataclass
class Document:
    """One journey source, loaded for editing. ``steps`` is the list the edits change."""

    file: str
    text: str
    source: Source  # the engine's own reading: positions for messages, as validation gives them
    yaml: YAML
    data: CommentedMap
    steps: CommentedSeq
    tail: str  # comment and blank lines after the last step (before the next key or the end)
    baseline: str  # the unedited document as ruamel writes it: equal to ``text`` when it round-trips

    def refuse(self, path: SourcePath, message: str) -> EditRefused:
        line, column = self.source.position(path)
        return EditRefused([JourneyError(self.file, line, column, format_path(path), message)])

    def step_path(self, step_id: str) -> SourcePath:
        """Where the step ``step_id`` stands in the text as it was given."""
        given = self.source.data.get("steps") if isinstance(self.source.data, dict) else None
        for index, step in enumerate(given if isinstance(given, list) else []):
            if isinstance(step, dict) and step.get("id") == step_id:
                return ("steps", index)
        return ("steps",)

    def dump(self) -> str:
        """The document as text, comments and layout as they were wherever nothing changed."""
        return keep_layout(self.text, self.baseline, self._write(), self._read)

    def _read(self, text: str) -> Any:
        try:
            return parse_source(text, self.file).data
        except SourceSyntaxError:
            return object()  # equal to nothing

    def _write(self) -> str:
        """The document as ruamel.yaml writes it."""
        _reset_comments(self.data)
        if len(self.steps):
            _attach_tail(self.steps, self.tail)
        try:
            out = io.StringIO()
            self.yaml.dump(self.data, out)
            return out.getvalue()
        finally:
            if len(self.steps):
                _detach_tail(self.steps)


def load(text: str, file: str) -> Document:
    """Read ``text`` for editing; ``EditRefused`` (positioned) where the engine would not read it,
    or where it has no list of steps, each a mapping with an id, to edit."""
    try:
        source = parse_source(text, file)  # every limit first: size, depth, values, anchors, tags
    except SourceSyntaxError as exc:
        raise EditRefused(
            [JourneyError(file, exc.line, exc.column, format_path(exc.path), exc.message)]
        ) from exc
    yaml = _yaml(text)
    try:
        data = yaml.load(text)
    except YAMLError as exc:  # libyaml and ruamel disagree on a few texts
        mark = exc.problem_mark if isinstance(exc, MarkedYAMLError) else None
        line, column = (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)
        problem = exc.problem if isinstance(exc, MarkedYAMLError) and exc.problem else str(exc)
        raise EditRefused([JourneyError(file, line, column, "", f"YAML syntax error: {problem}")]) from exc
    document = Document(file, text, source, yaml, CommentedMap(), CommentedSeq(), "", "")
    if not isinstance(data, CommentedMap):
        raise document.refuse((), "a journey file must be a mapping with journey, trigger and steps")
    steps = data.get("steps")
    if not isinstance(steps, CommentedSeq) or not steps:
        raise document.refuse(("steps",), "the journey needs a list of steps before it can be edited")
    for index, step in enumerate(steps):
        if not isinstance(step, CommentedMap) or not isinstance(step.get("id"), str):
            raise document.refuse(("steps", index), "each step needs an id before the journey can be edited")
    document.data, document.steps = data, steps
    _keep_gaps(yaml, data, text)
    _own_comments(data, steps)
    document.tail = _detach_tail(steps)
    document.baseline = document._write()
    return document


def _yaml(text: str) -> YAML:
    yaml = YAML(typ="rt")
    yaml.preserve_quotes = True
    yaml.width = WIDTH
    mapping, sequence, offset = guess_indentation(text)
    yaml.indent(mapping=mapping, sequence=sequence, offset=offset)
    return yaml


_KEY_ONLY = re.compile(r"^(\s*)(?:- +)*[^\s#-][^#]*:\s*(?:#.*)?$")


def guess_indentation(text: str) -> tuple[int, int, int]:
    """(mapping indent, sequence indent, dash offset) as the file writes nested blocks; the
    language's examples' (2, 4, 2) where the file has none."""
    mapping: int | None = None
    sequence: tuple[int, int] | None = None
    previous: tuple[int, bool] | None = None  # (indent of its content, whether it opens a block)
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        indent = len(line) - len(line.lstrip(" "))
        if previous is not None and previous[1]:
            if stripped.startswith("- ") and sequence is None:
                dash = indent - previous[0]
                content = len(stripped) - len(stripped[1:].lstrip(" "))
                sequence = (dash + content, dash)
            elif not stripped.startswith("-") and mapping is None and indent > previous[0]:
                mapping = indent - previous[0]
        content_indent = indent
        while line[content_indent : content_indent + 2] == "- ":
            after_dash = line[content_indent + 2 :]
            content_indent += 2 + len(after_dash) - len(after_dash.lstrip(" "))
        previous = (content_indent, bool(_KEY_ONLY.match(line)))
        if mapping is not None and sequence is not None:
            break
    seq, offset = sequence if sequence is not None and sequence[1] >= 0 else (4, 2)
    return mapping or 2, max(seq, offset + 2), offset


# ruamel keeps a comment as one token holding the text after a value: the end-of-line comment,
# then every full line up to the next value. The full lines belong to what follows.


def _own_comments(data: CommentedMap, steps: CommentedSeq) -> None:
    """Hang the comment lines above each step on that step (ruamel hangs them on the one before)."""
    lead = steps.ca.comment[1] if steps.ca.comment and len(steps.ca.comment) > 1 else None
    if lead:
        steps.ca.comment[1] = None
        key_comments = data.ca.items.get("steps")
        if key_comments is not None and len(key_comments) > 3:
            key_comments[3] = None
        _before(steps, 0)[:0] = lead
    for index in range(len(steps) - 1):
        after = _split_trailing(steps, index)
        if after:
            _before(steps, index + 1).insert(0, CommentToken(after, CommentMark(0), None))


def _before(steps: CommentedSeq, index: int) -> list[Any]:
    """The comment tokens written above step ``index`` (a list ruamel writes before the item)."""
    slot = steps.ca.items.setdefault(index, [None, None, None, None])
    if slot[1] is None:
        slot[1] = []
    before: list[Any] = slot[1]
    return before


def _trailing_slot(parent: Any, key: Any) -> tuple[list[Any], int]:
    """Where the comment after ``parent[key]`` is kept: on its deepest last value, if it is a block."""
    value = parent[key]
    if isinstance(value, CommentedMap | CommentedSeq) and len(value) and not value.fa.flow_style():
        last = next(reversed(value)) if isinstance(value, CommentedMap) else len(value) - 1
        return _trailing_slot(value, last)
    slot = parent.ca.items.setdefault(key, [None, None, None, None])
    return slot, 2 if isinstance(parent, CommentedMap) else 0


def _split_trailing(steps: CommentedSeq, index: int) -> str:
    """Keep only the end-of-line comment after step ``index``; return the full lines after it."""
    slot, position = _trailing_slot(steps, index)
    token = slot[position]
    if token is None:
        return ""
    first, _, after = token.value.partition("\n")
    if first.strip():
        token.value = first + "\n"
    else:
        slot[position] = None
    return str(after)


def _detach_tail(steps: CommentedSeq) -> str:
    return _split_trailing(steps, len(steps) - 1)


def _attach_tail(steps: CommentedSeq, tail: str) -> None:
    if not tail:
        return
    slot, position = _trailing_slot(steps, len(steps) - 1)
    token = slot[position]
    if token is None:
        slot[position] = CommentToken("\n" + tail, CommentMark(0), None)
    else:
        token.value = token.value.partition("\n")[0] + "\n" + tail


def _comment_tokens(node: Any) -> list[CommentToken]:
    found: list[CommentToken] = []
    stack = [node]
    while stack:
        current = stack.pop()
        if not isinstance(current, CommentedBase):
            continue
        comments = current.ca
        tokens: list[Any] = [comments.comment, *comments.items.values(), comments.end]
        while tokens:
            token = tokens.pop()
            if isinstance(token, list):
                tokens.extend(token)
            elif isinstance(token, CommentToken):
                found.append(token)
        children: Any = current.values() if isinstance(current, CommentedMap) else current
        stack.extend(children)
    return found


def _reset_comments(node: Any) -> None:
    """Forget what the last dump wrote: ruamel marks comments above a block as written."""
    for token in _comment_tokens(node):
        token.reset()


def _keep_gaps(yaml: YAML, data: CommentedMap, text: str) -> None:
    """Write each end-of-line comment as many spaces after its line's text as the author did: ruamel
    keeps its column instead, so a value that got shorter would leave a wider gap."""
    lines = text.splitlines()
    gaps: dict[int, int] = {}
    for token in _comment_tokens(data):
        mark = token.start_mark
        line = getattr(mark, "line", None)
        if not isinstance(line, int) or line >= len(lines) or not token.value.startswith("#"):
            continue
        before = lines[line][: mark.column]
        if before.strip():
            gaps[id(token)] = len(before) - len(before.rstrip())

    class Emitter(RoundTripEmitter):
        def write_comment(self, comment: Any, pre: bool = False) -> None:
            gap = gaps.get(id(comment))
            if gap is not None and not pre:
                comment.start_mark.column = self.column + gap
            super().write_comment(comment, pre)

    yaml.Emitter = Emitter
