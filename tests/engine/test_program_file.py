"""``engine.program_file``: a program-wide file (here a small one of its own) is found by its name in a
journeys folder, read within the size limit, validated with every problem positioned, then compiled."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest
from pydantic import BaseModel, ConfigDict

from engine.errors import JourneyValidationError
from engine.limits import MAX_FILE_BYTES
from engine.program_file import ProgramFile
from engine.validation import FileKind, Problem


class BudgetFile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    budget: str
    per_day: int
    per_week: int


@dataclass(frozen=True)
class Budget:
    name: str
    per_week: int


def week_covers_a_day(model: BudgetFile) -> list[Problem]:
    if model.per_day <= model.per_week:
        return []
    return [(("per_day",), "per_day is more than per_week")]


BUDGET_FILE = ProgramFile(
    "budget.yaml",
    FileKind(model=BudgetFile, shape="a budget file must be a mapping", problems=week_covers_a_day),
    lambda model: Budget(model.budget, model.per_week),
)


def test_the_file_is_found_by_its_name_in_the_folder_and_compiled(tmp_path: Path) -> None:
    (tmp_path / "budget.yaml").write_text("budget: spring\nper_day: 2\nper_week: 5\n")

    assert BUDGET_FILE.path_in(tmp_path) == tmp_path / "budget.yaml"
    assert BUDGET_FILE.load_in(tmp_path) == Budget("spring", 5)


def test_a_folder_without_the_file_has_none(tmp_path: Path) -> None:
    (tmp_path / "other.yaml").write_text("budget: spring\n")

    assert BUDGET_FILE.load_in(tmp_path) is None


def test_every_problem_is_listed_at_its_line_in_the_file_named() -> None:
    found, errors = BUDGET_FILE.validate_text("budget: spring\nper_day: many\nper_weak: 5\n", "b.yaml")

    assert found is None
    assert sorted((e.file, e.line, e.path, e.message) for e in errors) == [
        ("b.yaml", 1, "per_week", '"per_week" is required'),
        (
            "b.yaml",
            2,
            "per_day",
            "Input should be a valid integer, unable to parse string as an integer (got 'many')",
        ),
        ("b.yaml", 3, "per_weak", 'unknown key "per_weak"; did you mean "per_week"?'),
    ]


def test_the_kinds_own_checks_run_once_the_model_is_valid() -> None:
    with pytest.raises(JourneyValidationError) as raised:
        BUDGET_FILE.parse("budget: spring\nper_day: 9\nper_week: 5\n", "stored budget v1")

    [error] = raised.value.errors
    assert (error.file, error.line, error.path, error.message) == (
        "stored budget v1",
        2,
        "per_day",
        "per_day is more than per_week",
    )


def test_a_file_over_the_size_limit_is_refused_naming_its_path(tmp_path: Path) -> None:
    path = BUDGET_FILE.path_in(tmp_path)
    path.write_text("budget: spring\n" + "#" * MAX_FILE_BYTES + "\n")

    with pytest.raises(JourneyValidationError) as raised:
        BUDGET_FILE.load_in(tmp_path)

    assert [error.file for error in raised.value.errors] == [str(path)]
    assert "larger than" in raised.value.errors[0].message
