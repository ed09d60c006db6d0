"""YAML source with positions: plain Python data plus the line and column of every value and key.

Paths are tuples of keys and indices, e.g. ``("steps", 3, "wait_for", "timeout")``, and print as
``steps[3].wait_for.timeout``.

Reading is bounded before anything is built: a file is at most ``MAX_FILE_BYTES``, valid UTF-8,
free of control characters, at most ``MAX_DEPTH`` levels deep, and has no anchors or aliases
(``&``, ``*``), so a few hundred bytes can never expand into gigabytes. Each refusal is a
``SourceSyntaxError`` with the line, column and path where it happened.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path as FsPath
from typing import Any

import yaml
from yaml._yaml import CParser
from yaml.composer import Composer
from yaml.constructor import SafeConstructor
from yaml.events import AliasEvent, CollectionStartEvent, Event
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from yaml.resolver import Resolver

from engine.limits import MAX_DEPTH, MAX_FILE_BYTES, MAX_NODES

Path = tuple[str | int, ...]
# YAML 1.1 reads 10:00 as the sexagesimal number 600; a journey means a time of day.
_CLOCK = re.compile(r"^\d{1,2}:\d{2}$")
# What YAML refuses to read (its Reader's NON_PRINTABLE); found here first, to say where.
_NOT_PRINTABLE = re.compile("[^\x09\x0a\x0d\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_BINARY = "tag:yaml.org,2002:binary"
_PLAIN_TAGS = frozenset({"tag:yaml.org,2002:map", "tag:yaml.org,2002:seq"})
ANCHORS_MESSAGE = "anchors and aliases (&, *) are not allowed in journey files"
DEPTH_MESSAGE = f"nesting deeper than {MAX_DEPTH} levels is not allowed in journey files"
NODES_MESSAGE = f"the file holds more than {MAX_NODES:,} values, more than any journey needs"
SIZE_MESSAGE = f"the file is larger than {MAX_FILE_BYTES // 1024} KB, the most a journey file may be"


def format_path(path: Path) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


@dataclass
class Source:
    """A parsed YAML document and where each part of it stands in the file."""

    file: str
    data: Any
    values: dict[Path, tuple[int, int]] = field(default_factory=dict)
    keys: dict[Path, tuple[int, int]] = field(default_factory=dict)
    duplicate_keys: list[Path] = field(default_factory=list)

    def position(self, path: Path, *, key: bool = False) -> tuple[int, int]:
        """Line and column (1-based) of ``path``, or of its nearest ancestor that has one."""
        table = self.keys if key else self.values
        probe = path
        while probe:
            if probe in table:
                return table[probe]
            if probe in self.values:
                return self.values[probe]
            probe = probe[:-1]
        return self.values.get((), (1, 1))


class SourceSyntaxError(Exception):
    """A file that cannot be read as YAML within the limits; ``path`` is where, when known."""

    def __init__(self, message: str, line: int, column: int, path: Path = ()) -> None:
        super().__init__(message)
        self.message = message
        self.line = line
        self.column = column
        self.path = path


def read_source_file(file: FsPath) -> str:
    """The text of a journey (or story) file: at most ``MAX_FILE_BYTES`` of UTF-8, else refused.

    Never reads more than the limit (a huge file, a FIFO or /dev/zero cost nothing).
    """
    try:
        with file.open("rb") as stream:
            data = stream.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise SourceSyntaxError(f"the file cannot be read: {exc.strerror or exc}", 1, 1) from exc
    return decode_source(data)


def decode_source(data: bytes) -> str:
    """Bytes of a journey file as text: refused past the size limit or where they are not UTF-8."""
    if len(data) > MAX_FILE_BYTES:
        raise SourceSyntaxError(SIZE_MESSAGE, 1, 1)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        text = data[: exc.start].decode("utf-8")
        line, column = _line_column(text, len(text))
        raise SourceSyntaxError(
            f"the file is not valid UTF-8: byte 0x{data[exc.start]:02x} cannot start or continue a character",
            line,
            column,
        ) from exc


def check_text(text: str) -> None:
    """Refuse a text past the size limit or with a character YAML does not allow (NUL, controls)."""
    if len(text) > MAX_FILE_BYTES or len(text.encode("utf-8", "surrogatepass")) > MAX_FILE_BYTES:
        raise SourceSyntaxError(SIZE_MESSAGE, 1, 1)
    found = _NOT_PRINTABLE.search(text)
    if found:
        line, column = _line_column(text, found.start())
        raise SourceSyntaxError(_character_message(found.group()), line, column)


def _character_message(character: str) -> str:
    code = ord(character)
    kind = "control character" if code < 0x20 or 0x7F <= code < 0xA0 else "character"
    return f"{kind} U+{code:04X} is not allowed in a journey file"


def _line_column(text: str, offset: int) -> tuple[int, int]:
    line = text.count("\n", 0, offset) + 1
    return line, offset - (text.rfind("\n", 0, offset) + 1) + 1


def parse_source(text: str, file: str) -> Source:
    """Parse one YAML document, raising ``SourceSyntaxError`` with its position on bad YAML.

    libyaml scans and parses (in C); the bounded composer builds the nodes. PyYAML's own parser,
    used before, took seconds for a 256 KB file of small flow items; libyaml reads a few texts
    differently from it (it takes ``{id: c? d}``) and words some syntax errors its own way.
    """
    check_text(text)
    try:
        loader = _BoundedLoader(text)
    except yaml.YAMLError as exc:  # a ReaderError: check_text finds these first, with a position
        raise SourceSyntaxError(f"YAML syntax error: {exc}", 1, 1) from exc
    try:
        node = loader.get_single_node()
        source = Source(file=file, data=None)
        source.data = _build(loader, node, (), source) if node is not None else None
    except _Refused as exc:
        raise SourceSyntaxError(exc.message, *_mark(exc.mark), exc.path) from exc
    except yaml.YAMLError as exc:
        raise _syntax_error(exc) from exc
    finally:
        loader.dispose()
    return source


def _syntax_error(exc: yaml.YAMLError) -> SourceSyntaxError:
    if not isinstance(exc, yaml.MarkedYAMLError):
        return SourceSyntaxError(f"YAML syntax error: {exc}", 1, 1)
    mark = exc.problem_mark or exc.context_mark
    line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
    problem = exc.problem or str(exc)
    if exc.context:
        problem = f"{problem} ({exc.context})"
    return SourceSyntaxError(f"YAML syntax error: {problem}", line, column)


class _Refused(Exception):
    """What the bounded loader will not read, where it stands."""

    def __init__(self, message: str, mark: Any, path: Path) -> None:
        super().__init__(message)
        self.message = message
        self.mark = mark
        self.path = path


class _BoundedComposer(Composer):
    """PyYAML's composer, refusing anchors, aliases and deep nesting before it builds a node.

    A refused event is never composed, so an alias bomb is stopped at its first ``&``.
    """

    def __init__(self) -> None:
        super().__init__()
        self._path: list[str | int] = []
        self._depth = 0
        self._nodes = 0

    def compose_node(self, parent: Node | None, index: Any) -> Node | None:
        event: Event = self.peek_event()  # type: ignore[attr-defined]  # mixed in by Parser
        step = _path_step(parent, index)
        path = (*self._path, step) if step is not None else tuple(self._path)
        if isinstance(event, AliasEvent) or getattr(event, "anchor", None) is not None:
            raise _Refused(ANCHORS_MESSAGE, event.start_mark, path)
        collection = isinstance(event, CollectionStartEvent)
        if collection and self._depth >= MAX_DEPTH:
            raise _Refused(DEPTH_MESSAGE, event.start_mark, path)
        self._nodes += 1
        if self._nodes > MAX_NODES:
            raise _Refused(NODES_MESSAGE, event.start_mark, path)
        if step is not None:
            self._path.append(step)
        self._depth += collection
        try:
            node = super().compose_node(parent, index)
        finally:
            self._depth -= collection
            if step is not None:
                self._path.pop()
        return node


def _path_step(parent: Node | None, index: Any) -> str | int | None:
    """The path component of a node composed in ``parent`` at ``index`` (None for a mapping's key)."""
    if isinstance(parent, SequenceNode) and isinstance(index, int):
        return index
    if isinstance(parent, MappingNode) and isinstance(index, Node):
        return str(index.value) if isinstance(index, ScalarNode) else "?"
    return None


class _BoundedLoader(_BoundedComposer, CParser, SafeConstructor, Resolver):
    """libyaml's scanner and parser (C: a 256 KB file reads in milliseconds, where PyYAML's own
    takes seconds) under the bounded composer, which builds every node in Python."""

    def __init__(self, stream: str) -> None:
        CParser.__init__(self, stream)
        _BoundedComposer.__init__(self)
        SafeConstructor.__init__(self)
        Resolver.__init__(self)


def _mark(node: Any) -> tuple[int, int]:
    """Line and column (1-based) of a node or a mark."""
    mark = node.start_mark if isinstance(node, yaml.Node) else node
    return (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)


def _build(loader: SafeConstructor, node: yaml.Node, path: Path, source: Source) -> Any:
    source.values[path] = _mark(node)
    if node.tag not in _PLAIN_TAGS and not isinstance(node, yaml.ScalarNode):
        # !!set, !!omap, !!python/object/apply:...: only plain mappings and lists.
        raise SourceSyntaxError(f'the tag "{node.tag}" is not allowed in journey files', *_mark(node), path)
    if isinstance(node, yaml.MappingNode):
        result: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = _construct(loader, key_node, path)
            key = key if isinstance(key, str) else str(key)
            child = (*path, key)
            if key in result:
                source.duplicate_keys.append(child)
            source.keys[child] = _mark(key_node)
            result[key] = _build(loader, value_node, child, source)
        return result
    if isinstance(node, yaml.SequenceNode):
        return [_build(loader, item, (*path, i), source) for i, item in enumerate(node.value)]
    if isinstance(node, yaml.ScalarNode) and not node.style and _CLOCK.match(node.value):
        return node.value
    return _construct(loader, node, path)


def _construct(loader: SafeConstructor, node: yaml.Node, path: Path) -> Any:
    """The value of a scalar (or of a key), refused with its position when it cannot be read."""
    if node.tag == _BINARY:
        raise SourceSyntaxError(
            "binary values (!!binary) are not allowed in journey files", *_mark(node), path
        )
    try:
        value = loader.construct_object(node, deep=True)
    except yaml.MarkedYAMLError as exc:  # an unknown tag (!!python/object, !foo), ...
        raise SourceSyntaxError(f"YAML syntax error: {exc.problem}", *_mark(node), path) from exc
    except (ValueError, OverflowError, TypeError) as exc:
        # int() past 4300 digits, a timestamp such as 2024-13-45, ...: not a YAML error to PyYAML.
        text = str(node.value) if isinstance(node, ScalarNode) else ""
        text = text if len(text) <= 40 else text[:40] + "..."
        reason = str(exc).split(";")[0]
        raise SourceSyntaxError(f'the value "{text}" cannot be read: {reason}', *_mark(node), path) from exc
    found = _NOT_PRINTABLE.search(value) if isinstance(value, str) else None
    if found:  # written as an escape ("\0", "\x1b") rather than as the character itself
        raise SourceSyntaxError(_character_message(found.group()), *_mark(node), path)
    return value
