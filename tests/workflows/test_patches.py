"""Every Temporal patch in the workflows is registered in ``workflows.patches`` (docs/patches.md).

Read from the source with ``ast``: each ``workflow.patched(...)`` / ``workflow.deprecate_patch(...)``
call under ``workflows/`` must name its id as ``<Patch>.id`` of a patch in ``LIVE_PATCHES``, every
registered patch must still be called somewhere, ids are unique, and the recorded histories that
guard a patch exist.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest

import workflows.patches
from workflows.patches import LIVE_PATCHES, Patch

ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS = ROOT / "workflows"
HISTORIES = Path(__file__).resolve().parent / "histories"
PATCH_FUNCTIONS = {"patched", "deprecate_patch"}
REGISTRY_MODULE = "workflows.patches"


@dataclass(frozen=True)
class PatchCall:
    where: str  # file:line
    function: str  # patched or deprecate_patch
    id: str | None  # the registered id it resolves to, None if it does not
    problem: str | None = None


def patch_calls(
    source: str,
    filename: str,
    registry: Mapping[str, object] | None = None,
    live: tuple[Patch, ...] | None = None,
) -> list[PatchCall]:
    """The patch calls in ``source``, each resolved against the registry (by default the real one)."""
    registry = vars(workflows.patches) if registry is None else registry
    live = LIVE_PATCHES if live is None else live
    tree = ast.parse(source, filename)
    imported: dict[str, str] = {}  # local name -> name in the registry module
    modules: set[str] = set()  # dotted local names bound to the registry module
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module == REGISTRY_MODULE:
            imported.update({alias.asname or alias.name: alias.name for alias in node.names})
        elif isinstance(node, ast.ImportFrom) and node.module == "workflows":
            modules.update(alias.asname or alias.name for alias in node.names if alias.name == "patches")
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name == REGISTRY_MODULE:
                    modules.add(alias.asname or REGISTRY_MODULE)

    def registered(argument: ast.expr) -> tuple[str | None, str | None]:
        if not (isinstance(argument, ast.Attribute) and argument.attr == "id"):
            return None, f"{ast.unparse(argument)} is not a Patch's .id from {REGISTRY_MODULE}"
        holder = argument.value
        name: str | None = None
        if isinstance(holder, ast.Name) and holder.id in imported:
            name = imported[holder.id]
        elif isinstance(holder, ast.Attribute) and ast.unparse(holder.value) in modules:
            name = holder.attr
        if name is None:
            return None, f"{ast.unparse(holder)} is not imported from {REGISTRY_MODULE}"
        patch = registry.get(name)
        if not isinstance(patch, Patch) or patch not in live:
            return None, f"{name} is not a Patch in LIVE_PATCHES"
        return patch.id, None

    calls = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        function = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", None)
        if function not in PATCH_FUNCTIONS:
            continue
        where = f"{filename}:{node.lineno}"
        arguments = [*node.args[:1], *(k.value for k in node.keywords if k.arg == "id")]
        if len(arguments) != 1:
            calls.append(PatchCall(where, function, None, "no patch id argument"))
            continue
        patch_id, problem = registered(arguments[0])
        calls.append(PatchCall(where, function, patch_id, problem))
    return calls


def workflow_sources() -> dict[str, str]:
    return {str(path.relative_to(ROOT)): path.read_text() for path in sorted(WORKFLOWS.rglob("*.py"))}


def all_patch_calls() -> list[PatchCall]:
    return [call for name, source in workflow_sources().items() for call in patch_calls(source, name)]


def test_the_workflow_itself_is_read() -> None:
    assert "workflows/journey.py" in workflow_sources()
    assert "class JourneyWorkflow" in workflow_sources()["workflows/journey.py"]


def test_every_patch_call_in_the_workflows_uses_a_registered_id() -> None:
    unregistered = [f"{c.where}: workflow.{c.function}: {c.problem}" for c in all_patch_calls() if c.problem]
    assert not unregistered, "register patches in workflows/patches.py (docs/patches.md):\n" + "\n".join(
        unregistered
    )


def test_every_registered_patch_is_still_called() -> None:
    """A patch whose call was deleted has finished its lifecycle: its entry leaves LIVE_PATCHES."""
    called = {c.id for c in all_patch_calls()}
    assert [p.id for p in LIVE_PATCHES if p.id not in called] == []


def test_patch_ids_are_unique_and_kebab_case() -> None:
    ids = [p.id for p in LIVE_PATCHES]
    assert len(ids) == len(set(ids)), f"patch ids used twice: {sorted({i for i in ids if ids.count(i) > 1})}"
    assert [i for i in ids if not re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", i)] == []


def test_each_registered_patch_says_why_and_when_and_has_recorded_histories() -> None:
    for patch in LIVE_PATCHES:
        assert patch.why.strip() and patch.deprecate_after.strip(), patch.id
        assert patch.histories, f"{patch.id}: no recorded history guards it"
        missing = [name for name in patch.histories if not (HISTORIES / name).is_file()]
        assert not missing, f"{patch.id}: not in tests/workflows/histories/: {missing}"


# ----------------------------------------------------------------- the check itself

EXAMPLE = Patch(
    id="example-change",
    why="runs after it do the new thing",
    histories=("onboarding-converts.json",),
    deprecate_after="never: an example",
)
EXAMPLE_REGISTRY = {"EXAMPLE": EXAMPLE, "Patch": Patch}


def example_calls(body: str, live: tuple[Patch, ...] = (EXAMPLE,)) -> list[PatchCall]:
    """The patch calls in a module of ``body``, checked against a registry that holds ``EXAMPLE``."""
    return patch_calls("from temporalio import workflow\n" + body, "example.py", EXAMPLE_REGISTRY, live)


@pytest.mark.parametrize(
    "body",
    [
        'workflow.patched("example-change")',
        'EXAMPLE = "example-change"\nworkflow.patched(EXAMPLE)',
        "from other import EXAMPLE\nworkflow.patched(EXAMPLE.id)",
        "from workflows.patches import UNKNOWN\nworkflow.patched(UNKNOWN.id)",
        "from temporalio.workflow import deprecate_patch\ndeprecate_patch(id='example-change')",
        "workflow.patched()",
    ],
    ids=["literal", "local-constant", "other-module", "not-registered", "deprecate-literal", "no-id"],
)
def test_the_check_rejects_a_patch_not_taken_from_the_registry(body: str) -> None:
    [call] = example_calls(body)
    assert call.problem is not None and call.id is None


def test_the_check_rejects_a_patch_defined_but_not_live() -> None:
    [call] = example_calls("from workflows.patches import EXAMPLE\nworkflow.patched(EXAMPLE.id)", live=())
    assert call.problem == "EXAMPLE is not a Patch in LIVE_PATCHES"


@pytest.mark.parametrize(
    "body",
    [
        "from workflows.patches import EXAMPLE\nworkflow.patched(EXAMPLE.id)",
        "from workflows.patches import EXAMPLE as E\nworkflow.deprecate_patch(E.id)",
        "from workflows import patches\nworkflow.patched(patches.EXAMPLE.id)",
        "import workflows.patches\nworkflow.patched(workflows.patches.EXAMPLE.id)",
    ],
    ids=["imported", "aliased", "module", "dotted"],
)
def test_the_check_accepts_a_registered_patch(body: str) -> None:
    [call] = example_calls(body)
    assert call.problem is None and call.id == "example-change"
