"""Workflow modules are compiled once per process, and still run in the sandbox as they did."""

from __future__ import annotations

import importlib
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest
from temporalio import workflow
from temporalio.worker.workflow_sandbox import RestrictedWorkflowAccessError

from worker.compiled import compile_once
from worker.service import sandboxed_runner

MODULE = '''
"""A workflow module of a package only this test knows."""

import datetime

from temporalio import workflow

LOADED_AT = datetime.datetime.now()  # a restricted call: fine on import, refused in the sandbox


def answer() -> int:
    return {answer}


@workflow.defn(name="Compiled{answer}")
class Compiled:
    @workflow.run
    async def run(self) -> int:
        return answer()
'''


@pytest.fixture
def package(tmp_path: Path) -> Iterator[Path]:
    """A package ``compiled_pkg`` importable from ``tmp_path``, forgotten afterwards."""
    root = tmp_path / "compiled_pkg"
    root.mkdir()
    (root / "__init__.py").write_text("")
    (root / "flow.py").write_text(textwrap.dedent(MODULE.format(answer=1)))
    sys.path.insert(0, str(tmp_path))
    try:
        yield root
    finally:
        sys.path.remove(str(tmp_path))
        for name in [n for n in sys.modules if n.partition(".")[0] == "compiled_pkg"]:
            del sys.modules[name]


def fresh_import() -> ModuleType:
    """Import ``compiled_pkg.flow`` anew, as the sandbox does for every run."""
    sys.modules.pop("compiled_pkg.flow", None)
    return importlib.import_module("compiled_pkg.flow")


def test_each_import_executes_the_module_from_code_compiled_once(package: Path) -> None:
    compile_once(["compiled_pkg"])
    first, second = fresh_import(), fresh_import()

    assert first is not second and first.answer is not second.answer  # executed twice
    assert first.answer.__code__ is second.answer.__code__  # from one compilation


def test_a_changed_file_is_compiled_again(package: Path) -> None:
    compile_once(["compiled_pkg"])
    before = fresh_import()
    (package / "flow.py").write_text(textwrap.dedent(MODULE.format(answer=22)))

    after = fresh_import()

    assert (before.answer(), after.answer()) == (1, 22)


def test_the_sandbox_still_imports_it_afresh_with_its_restrictions(package: Path) -> None:
    compile_once(["compiled_pkg"])
    defn = workflow._Definition.must_from_class(fresh_import().Compiled)

    with pytest.raises(RestrictedWorkflowAccessError, match="datetime"):
        sandboxed_runner().prepare_workflow(defn)
