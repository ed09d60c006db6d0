"""Journey tests: ``journeys/tests/<journey>.yaml`` files of stories with expectations, run on the real
workflow; a verdict per story with the first difference, and step coverage per journey.

```yaml
journey: onboarding               # default: the file name
with: [winback]                   # other journeys deployed beside it (default: none)
customer: {first_name: Ada}       # traits for every story (a story's own `customer` is laid over)
stories:
  - name: completes profile day 2, buys day 5
    events:
      - {at: 2d, event: profile_completed}
      - {at: "5d 10:00", event: purchase_completed, properties: {total: 42}}
    expect: {emails: [welcome, first_purchase_thanks], points: 350, stage: conversion, goal: true}
```
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from engine.channels.loader import load_policy_in
from engine.channels.policy import ChannelPolicy
from engine.loader import journey_files, load_directory
from engine.loyalty.loader import load_program_in
from engine.loyalty.program import Program
from engine.plan import Plan
from simulate.expectations import Difference, Expect, first_difference
from simulate.simulation import simulate
from simulate.story import Story, StoryFileError, read_yaml
from simulate.timeline import Timeline


class StoryCase(Story):
    expect: Expect = Field(default_factory=Expect)


class CaseFile(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    journey: str | None = None
    also: list[str] = Field(default_factory=list, alias="with")
    customer: dict[str, Any] = Field(default_factory=dict)
    stories: list[StoryCase] = Field(min_length=1)


@dataclass
class StoryVerdict:
    name: str
    difference: Difference | None
    timeline: Timeline

    @property
    def passed(self) -> bool:
        return self.difference is None


@dataclass
class FileResult:
    path: Path
    journey: str
    verdicts: list[StoryVerdict]


@dataclass
class Coverage:
    journey: str
    steps: list[str]
    entered: set[str] = field(default_factory=set)

    @property
    def uncovered(self) -> list[str]:
        return [step for step in self.steps if step not in self.entered]

    @property
    def percent(self) -> float:
        return 100.0 * (len(self.steps) - len(self.uncovered)) / len(self.steps) if self.steps else 100.0


@dataclass
class SuiteReport:
    files: list[FileResult]
    coverage: list[Coverage]

    @property
    def failed(self) -> int:
        return sum(not v.passed for f in self.files for v in f.verdicts)

    @property
    def passed(self) -> int:
        return sum(v.passed for f in self.files for v in f.verdicts)


def find_case_files(path: Path) -> tuple[Path, list[Path]]:
    """``(journeys folder, test files)`` for a journeys folder, its ``tests/`` folder, or one test file."""
    if path.is_file():
        return path.parent.parent, [path]
    if (path / "tests").is_dir():
        return path, journey_files(path / "tests")
    return path.parent, journey_files(path)


def read_case_file(path: Path) -> CaseFile:
    data = read_yaml(path)
    try:
        test_file = CaseFile.model_validate(data)
    except ValidationError as exc:
        raise StoryFileError(f"{path}: {_pydantic_errors(exc)}") from exc
    test_file.journey = test_file.journey or path.stem
    return test_file


def _pydantic_errors(exc: ValidationError) -> str:
    return "; ".join(
        f"{'.'.join(str(p) for p in error['loc']) or 'file'}: {error['msg']}" for error in exc.errors()
    )


async def run_file(
    path: Path,
    test_file: CaseFile,
    plans: dict[str, Plan],
    program: Program | None = None,
    policy: ChannelPolicy | None = None,
) -> FileResult:
    journey = test_file.journey or path.stem
    for name in [journey, *test_file.also]:
        if name not in plans:
            raise StoryFileError(f"{path}: no journey {name!r} in {', '.join(plans) or 'the folder'}")
    main = plans[journey]
    deployed = [main] + [plans[name] for name in test_file.also if name != journey]
    stories = [
        story.model_copy(update={"customer": {**test_file.customer, **story.customer}})
        for story in test_file.stories
    ]
    result = await simulate(main, deployed, stories, program=program, policy=policy)
    verdicts = [
        StoryVerdict(story.name, first_difference(story.expect, timeline), timeline)
        for story, timeline in zip(test_file.stories, result.timelines, strict=True)
    ]
    return FileResult(path, journey, verdicts)


@dataclass(frozen=True)
class _Suite:
    plans: dict[str, Plan]
    program: Program | None  # the folder's loyalty program and channel policy run beside its journeys
    policy: ChannelPolicy | None
    files: list[tuple[Path, CaseFile]]
    whole_folder: bool


def _load(path: Path) -> _Suite:
    folder, files = find_case_files(path)
    plans = {plan.journey: plan for plan in load_directory(folder)}
    parsed = [(file, read_case_file(file)) for file in files]
    return _Suite(plans, load_program_in(folder), load_policy_in(folder), parsed, path.is_dir())


async def run_tests(path: Path) -> SuiteReport:
    suite = await asyncio.to_thread(_load, path)
    plans, whole_folder = suite.plans, suite.whole_folder
    # One file after another: each gets its own Sandbox, and the stories inside a file run together.
    results = [
        await run_file(file, case_file, plans, suite.program, suite.policy) for file, case_file in suite.files
    ]
    tested = {result.journey for result in results}
    coverage = {
        name: Coverage(name, [node.id for node in plan.nodes])
        for name, plan in plans.items()
        if whole_folder or name in tested
    }
    for result in results:
        for verdict in result.verdicts:
            for run in verdict.timeline.summary.runs:
                if run.journey in coverage:
                    coverage[run.journey].entered.update(run.steps)
    return SuiteReport(results, list(coverage.values()))


def report_lines(report: SuiteReport) -> list[str]:
    lines: list[str] = []
    for result in report.files:
        lines.append(f"{result.journey}  ({result.path})")
        for verdict in result.verdicts:
            if verdict.passed:
                lines.append(f"  PASS  {verdict.name}")
            else:
                lines.append(f"  FAIL  {verdict.name}")
                lines.append(f"        {verdict.difference}")
        lines.append("")
    lines.append("step coverage")
    width = max((len(c.journey) for c in report.coverage), default=0)
    for cov in report.coverage:
        covered = len(cov.steps) - len(cov.uncovered)
        line = f"  {cov.journey:<{width}}  {cov.percent:5.1f}%  {covered}/{len(cov.steps)} steps"
        if cov.uncovered:
            line += "; not entered: " + ", ".join(cov.uncovered)
        lines.append(line)
    lines += ["", f"{report.passed} passed, {report.failed} failed"]
    return lines
