"""Errors of the journey language.

    JourneyValidationError      raised when a journey has one or more problems
      .errors: list[JourneyError]   every problem found, each with file, line, column and path

Validation collects every problem instead of stopping at the first.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, order=True)
class JourneyError:
    """One problem in a journey file, positioned as an editor would show it."""

    file: str
    line: int
    column: int
    path: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}:{self.column}"
        return f"{where} {self.path}: {self.message}" if self.path else f"{where} {self.message}"


class JourneyValidationError(Exception):
    """A journey (or several) failed validation; ``errors`` lists every problem."""

    def __init__(self, errors: list[JourneyError]) -> None:
        self.errors = sorted(errors)
        super().__init__("\n".join(str(e) for e in self.errors))
