"""The ``journeys`` command line and the loyalty program: validate, loyalty-schema."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from typer.testing import CliRunner

from cli.main import app
from engine.loyalty.loader import load_program
from engine.loyalty.schema import json_schema

JOURNEYS = Path(__file__).resolve().parents[2] / "journeys"
runner = CliRunner()


def test_loyalty_schema_prints_the_program_files_schema() -> None:
    result = runner.invoke(app, ["loyalty-schema"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == json_schema()


def test_validate_checks_the_program_file_itself() -> None:
    program = load_program(JOURNEYS / "loyalty.yaml")
    result = runner.invoke(app, ["validate", str(JOURNEYS / "loyalty.yaml")])
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        f"ok  {JOURNEYS / 'loyalty.yaml'}  (loyalty program rewards v{program.version})"
    ]


def test_validate_positions_every_problem_of_a_folders_program(tmp_path: Path) -> None:
    folder = tmp_path / "journeys"
    shutil.copytree(JOURNEYS, folder)
    text = (folder / "loyalty.yaml").read_text("utf-8")
    (folder / "loyalty.yaml").write_text(text.replace("after_months: 12", "after_months: 0"), "utf-8")
    result = runner.invoke(app, ["validate", str(folder)])
    assert result.exit_code == 1
    file = folder / "loyalty.yaml"
    checked = 1 + sum(line.startswith("ok  ") for line in result.stdout.splitlines())  # + the broken one
    assert checked > 10  # every journey, segment and the program were read, not only the broken file
    assert result.stderr.splitlines() == [
        f"{file}:44:17 expiry.after_months: Input should be greater than or equal to 1 (got 0)",
        f"1 problem(s) in {checked} file(s)",
    ]
    changed = text.replace("tier: gold,", "tier: golden,")
    (folder / "loyalty.yaml").write_text(changed, "utf-8")
    line = next(n for n, row in enumerate(changed.splitlines(), 1) if "golden" in row)
    column = changed.splitlines()[line - 1].index("golden") + 1
    result = runner.invoke(app, ["validate", str(file)])
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        f'{file}:{line}:{column} rewards[2].tier: there is no tier "golden"; did you mean "gold"?',
        "1 problem(s) in 1 file(s)",
    ]
