"""A one-shot command's imports run with the collector off and end frozen; any other process's
collector is left as it was."""

from __future__ import annotations

import gc
import json
import subprocess
import sys
import textwrap

import pytest

from config.startup import command_imports


def test_a_process_that_goes_on_keeps_its_collector_as_it_was() -> None:
    frozen = gc.get_freeze_count()
    with command_imports():
        assert gc.isenabled()
    assert gc.isenabled()
    assert gc.get_freeze_count() == frozen


def run_one_shot(body: str) -> dict[str, object]:
    """``body`` run in a new process marked one-shot; what it puts in ``seen``, as JSON."""
    code = "import gc, json\nfrom config.startup import command_imports, one_shot_process\nseen = {}\n"
    code += textwrap.dedent(body) + "\nprint(json.dumps(seen))"
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    result: dict[str, object] = json.loads(done.stdout)
    return result


def test_a_one_shot_command_imports_without_collections_and_freezes_what_it_imported() -> None:
    seen = run_one_shot(
        """
        one_shot_process()
        before = gc.get_freeze_count()
        with command_imports():
            seen["enabled inside"] = gc.isenabled()
            import decimal
            made_inside = [decimal.Decimal(1)]
        seen["enabled after"] = gc.isenabled()
        seen["frozen more"] = gc.get_freeze_count() > before
        # Frozen objects are in no generation a collection walks.
        seen["collected later"] = any(o is made_inside for o in gc.get_objects())
        """
    )
    assert seen == {
        "enabled inside": False,
        "enabled after": True,
        "frozen more": True,
        "collected later": False,
    }


def test_a_failed_import_leaves_the_collector_on() -> None:
    seen = run_one_shot(
        """
        one_shot_process()
        try:
            with command_imports():
                import no_such_module_here  # noqa: F401
        except ImportError:
            seen["enabled after"] = gc.isenabled()
        """
    )
    assert seen == {"enabled after": True}


@pytest.mark.parametrize("nested", [True, False])
def test_a_collector_turned_off_by_the_caller_stays_off(nested: bool) -> None:
    seen = run_one_shot(
        f"""
        one_shot_process()
        gc.disable()
        with command_imports():
            if {nested}:
                with command_imports():
                    pass
        seen["enabled after"] = gc.isenabled()
        seen["frozen"] = gc.get_freeze_count()
        """
    )
    assert seen == {"enabled after": False, "frozen": 0}
