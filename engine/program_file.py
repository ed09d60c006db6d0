"""A program-wide file of a journeys folder (``loyalty.yaml``, ``channels.yaml``): found by its name
in the folder, read within the limits of ``engine.source``, validated with every problem positioned
(``engine.validation``) and compiled into what the engine runs on. One ``ProgramFile`` per kind:

    LOYALTY_PROGRAM = ProgramFile("loyalty.yaml", kind, Program.of)
    program = LOYALTY_PROGRAM.load_in(journeys_dir)   # None when the folder has no loyalty.yaml
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Generic, TypeVar

from pydantic import BaseModel

from engine.errors import JourneyError, JourneyValidationError
from engine.validation import FileKind, read_source, validate_source

M = TypeVar("M", bound=BaseModel)
T = TypeVar("T")


@dataclass(frozen=True)
class ProgramFile(Generic[M, T]):
    """One kind of program file: its ``name`` in a journeys folder, its ``kind`` for
    ``validate_source`` and how a valid model ``compile``\\ s into what the engine uses."""

    name: str
    kind: FileKind[M]
    compile: Callable[[M], T]

    def path_in(self, journeys_dir: Path) -> Path:
        return journeys_dir / self.name

    def validate_text(self, text: str, file: str) -> tuple[T | None, list[JourneyError]]:
        """Every problem of a text, each positioned in ``file``; the compiled file when there are none."""
        model, errors = validate_source(text, file, self.kind)
        return (None if model is None else self.compile(model)), errors

    def parse(self, text: str, file: str) -> T:
        """The compiled file of ``text``; raises ``JourneyValidationError`` listing every problem."""
        found, errors = self.validate_text(text, file)
        if found is None:
            raise JourneyValidationError(errors)
        return found

    def load(self, path: Path) -> T:
        """The compiled file in ``path``; raises ``JourneyValidationError`` listing every problem
        (also for a file too large or not text)."""
        file = str(path)
        return self.parse(read_source(path, file), file)

    def load_in(self, journeys_dir: Path) -> T | None:
        """The file of a journeys folder, compiled, or None when the folder has none."""
        path = self.path_in(journeys_dir)
        return self.load(path) if path.is_file() else None
