"""YAML source with positions: plain Python data plus the line and column of every value and key.

Paths are tuples of keys and indices, e.g. ``("steps", 3, "wait_for", "timeout")``, and print as
``steps[3].wait_for.timeout``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import yaml

Path = tuple[str | int, ...]
# YAML 1.1 reads 10:00 as the sexagesimal number 600; a journey means a time of day.
_CLOCK = re.compile(r"^\d{1,2}:\d{2}$")


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
    def __init__(self, message: str, line: int, column: int) -> None:
        super().__init__(message)
        self.message = message
        self.line = line
        self.column = column


def parse_source(text: str, file: str) -> Source:
    """Parse one YAML document, raising ``SourceSyntaxError`` with its position on bad YAML."""
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        source = Source(file=file, data=None)
        source.data = _build(loader, node, (), source) if node is not None else None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        problem = exc.problem or str(exc)
        if exc.context:
            problem = f"{problem} ({exc.context})"
        raise SourceSyntaxError(f"YAML syntax error: {problem}", line, column) from exc
    finally:
        loader.dispose()
    return source


def _mark(node: yaml.Node) -> tuple[int, int]:
    return node.start_mark.line + 1, node.start_mark.column + 1


def _build(loader: yaml.SafeLoader, node: yaml.Node, path: Path, source: Source) -> Any:
    source.values[path] = _mark(node)
    if isinstance(node, yaml.MappingNode):
        result: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = loader.construct_object(key_node, deep=True)
            key = key if isinstance(key, str) else str(key)
            child = (*path, key)
            if key in result:
                source.duplicate_keys.append(child)
            source.keys[child] = _mark(key_node)
            result[key] = _build(loader, value_node, child, source)
        return result
    if isinstance(node, yaml.SequenceNode):
        return [_build(loader, item, (*path, i), source) for i, item in enumerate(node.value)]
    if isinstance(node, yaml.ScalarNode) and node.style is None and _CLOCK.match(node.value):
        return node.value
    return loader.construct_object(node, deep=True)
