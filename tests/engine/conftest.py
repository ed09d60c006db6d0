"""Fixtures for the engine tests: a validator of journey texts that must fail."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from engine.errors import JourneyValidationError
from engine.loader import compile_file
from tests.support.journey_files import WriteJourney

Problem = tuple[int, int, str, str]  # line, column, path, message


@pytest.fixture
def problems(write: WriteJourney) -> Callable[[str], list[Problem]]:
    """Validate a journey text that must fail; return every problem as (line, column, path, message)."""

    def problems(text: str) -> list[Problem]:
        path = write(text, "broken.yaml")
        with pytest.raises(JourneyValidationError) as info:
            compile_file(path)
        assert {error.file for error in info.value.errors} == {"broken.yaml"}
        return [(e.line, e.column, e.path, e.message) for e in info.value.errors]

    return problems
