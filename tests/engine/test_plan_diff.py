"""The plan diff and the YAML diff: what a changed journey file changes, as the review shows it."""

from __future__ import annotations

import difflib
import re
from pathlib import Path

from engine.loader import compile_file
from engine.plan import Plan
from engine.plan_diff import MAX_DIFF_CELLS, FieldChange, PlanEdge, diff_plans, edges, yaml_diff
from tests.support.journey_files import JOURNEYS, WriteJourney

ONBOARDING = (JOURNEYS / "onboarding.yaml").read_text("utf-8")
WAIT_OFFER = """  - id: wait_offer
    wait_for: {event: purchase_completed, timeout: 7d}
    on_event: first_purchase_bonus
"""


def onboarding(write: WriteJourney, text: str = ONBOARDING) -> Plan:
    return compile_file(write(text, "onboarding.yaml"))


def apply(diff: str, before: list[str]) -> list[str]:
    """Patch ``before`` with a unified diff (to check that a diff says exactly what changed)."""
    out: list[str] = []
    at = 0
    for line in diff.splitlines(keepends=True)[2:]:
        if line.startswith("@@"):
            found = re.match(r"@@ -(\d+)(?:,(\d+))? ", line)
            assert found is not None
            start, length = int(found.group(1)), int(found.group(2) or 1)
            start = start - 1 if length else start
            out += before[at:start]
            at = start
        elif line.startswith(" "):
            out.append(line[1:])
            at += 1
        elif line.startswith("-"):
            at += 1
        elif line.startswith("+"):
            out.append(line[1:])
    return out + before[at:]


def test_an_unchanged_journey_has_an_empty_diff(write: WriteJourney) -> None:
    plan = onboarding(write)
    diff = diff_plans(plan, plan)

    assert diff.empty and (diff.before, diff.after) == (plan.version, plan.version)
    assert diff.model_dump(exclude={"journey", "before", "after"}) == {
        "steps_added": [],
        "steps_removed": [],
        "steps_changed": [],
        "edges_added": [],
        "edges_removed": [],
        "journey_changed": [],
        "templates_added": [],
        "templates_removed": [],
        "templates_changed": [],
        "summary": [],
    }
    assert yaml_diff(ONBOARDING, ONBOARDING, before_name="a", after_name="b") == ""


def test_removing_a_wait_and_changing_a_timeout(write: WriteJourney) -> None:
    before = onboarding(write)
    text = (
        ONBOARDING.replace(WAIT_OFFER, "")
        .replace("next: wait_offer", "next: not_activated")
        .replace("profile_completed, timeout: 3d}", "profile_completed, timeout: 2d}")
    )
    after = onboarding(write, text)

    diff = diff_plans(before, after)

    assert not diff.empty
    assert (diff.steps_added, diff.steps_removed) == ([], ["wait_offer"])
    changed = {change.step: change for change in diff.steps_changed}
    assert set(changed) == {"wait_profile", "offer_discount", "offer_free_shipping"}
    assert changed["wait_profile"].fields == [
        FieldChange(field="timeout_seconds", before=259200, after=172800)
    ]
    assert changed["wait_profile"].names() == ["timeout_seconds"]
    assert changed["offer_discount"].fields == [
        FieldChange(field="next", before="wait_offer", after="not_activated")
    ]
    assert diff.edges_removed == [
        PlanEdge(source="offer_discount", target="wait_offer", label=""),
        PlanEdge(source="offer_free_shipping", target="wait_offer", label=""),
        PlanEdge(source="wait_offer", target="first_purchase_bonus", label="purchase_completed"),
        PlanEdge(source="wait_offer", target="not_activated", label="timeout"),
    ]
    assert diff.edges_added == [
        PlanEdge(source="offer_discount", target="not_activated", label=""),
        PlanEdge(source="offer_free_shipping", target="not_activated", label=""),
    ]
    assert diff.journey_changed == [] and diff.templates_changed == []
    assert diff.summary == [
        "removes step `wait_offer`",
        "changes step `wait_profile`: timeout 3d → 2d",
        "changes step `offer_discount`: next wait_offer → not_activated",
        "changes step `offer_free_shipping`: next wait_offer → not_activated",
    ]


def test_a_wait_fors_place_in_the_list_is_not_one_of_its_fields(write: WriteJourney) -> None:
    """A wait_for leads on by on_event and on_timeout only: moved to the end (its timeout now
    written out), it is unchanged; the step it used to follow now runs on into it."""
    before = onboarding(write)
    text = (
        ONBOARDING.replace(WAIT_OFFER, "")
        .replace(
            "send: {email: offer_free_shipping}}", "send: {email: offer_free_shipping}, next: wait_offer}"
        )
        .replace(
            "  - {id: not_activated, set_stage: at_risk}\n",
            "  - {id: not_activated, set_stage: at_risk}\n"
            + WAIT_OFFER.replace(
                "first_purchase_bonus", "first_purchase_bonus\n    on_timeout: not_activated"
            ),
        )
    )
    after = onboarding(write, text)

    diff = diff_plans(before, after)

    assert [c.step for c in diff.steps_changed] == ["not_activated"]
    assert diff.steps_changed[0].fields == [FieldChange(field="next", before=None, after="wait_offer")]
    assert diff.edges_removed == [PlanEdge(source="not_activated", target=None, label="")]
    assert diff.edges_added == [PlanEdge(source="not_activated", target="wait_offer", label="")]


def test_the_journeys_own_settings_and_a_changed_kind(write: WriteJourney) -> None:
    before = onboarding(write)
    text = (
        ONBOARDING.replace("trigger: {event: signed_up}", "trigger: {event: registered}")
        .replace("entry: once", "entry: always")
        .replace("within: 14d", "within: 21d")
        .replace("exit_on: [unsubscribed]", "exit_on: [unsubscribed, deleted]")
        .replace("{id: not_activated, set_stage: at_risk}", "{id: not_activated, exit: gave up}")
    )
    after = onboarding(write, text)

    diff = diff_plans(before, after)

    journey = {change.field: (change.before, change.after) for change in diff.journey_changed}
    assert set(journey) == {"trigger", "entry", "goal", "exit_on"}
    assert journey["trigger"] == (
        {"event": "signed_up", "where": None},
        {"event": "registered", "where": None},
    )
    assert journey["exit_on"] == (["unsubscribed"], ["unsubscribed", "deleted"])
    assert (
        journey["goal"][0]["within_seconds"] == 14 * 86400
        and journey["goal"][1]["within_seconds"] == 21 * 86400
    )
    [kind] = diff.steps_changed
    assert (kind.step, kind.kind) == ("not_activated", "exit")
    assert [f.field for f in kind.fields] == ["kind", "reason", "stage"]
    assert kind.fields[0] == FieldChange(field="kind", before="set_stage", after="exit")
    assert diff.summary == [
        "changes step `not_activated`: kind set_stage → exit; reason none → gave up; stage at_risk → none",
        "changes the journey's trigger event signed_up → registered",
        "changes the journey's entry mode once → always",
        "changes the journey's goal within 2w → 3w",
        "changes the journey's exit_on",
    ]


def test_an_edited_email_changes_its_send_step(write: WriteJourney, workspace: Path) -> None:
    before = onboarding(write)
    body = workspace / "templates" / "welcome" / "body.txt"
    body.write_text(body.read_text("utf-8") + "\nP.S. We are glad you are here.\n", "utf-8")
    (workspace / "templates" / "welcome" / "subject.id.txt").unlink()
    after = onboarding(write)

    diff = diff_plans(before, after)

    assert diff.steps_added == diff.steps_removed == []
    [welcome] = diff.steps_changed
    assert (welcome.step, welcome.fields) == ("welcome", [])
    assert welcome.template_files == ["welcome/body.txt", "welcome/subject.id.txt"]
    assert welcome.names() == ["email content"]
    assert diff.templates_changed == ["welcome/body.txt"]
    assert diff.templates_removed == ["welcome/subject.id.txt"]
    assert diff.summary == ["changes step `welcome`: email files welcome/body.txt, welcome/subject.id.txt"]


def test_a_journey_not_deployed_yet_is_all_new(write: WriteJourney) -> None:
    plan = onboarding(write)
    diff = diff_plans(None, plan)

    assert diff.before is None and not diff.empty
    assert diff.steps_added == [node.id for node in plan.nodes]
    assert diff.edges_added == edges(plan)
    assert [f.field for f in diff.journey_changed] == [
        "trigger",
        "entry",
        "goal",
        "exit_on",
        "start",
        "stage",
        "description",
    ]
    assert diff.templates_added == sorted(plan.templates)


def test_edges_of_every_kind() -> None:
    plan = compile_file(JOURNEYS / "onboarding.yaml")
    found = {(e.source, e.target, e.label) for e in edges(plan)}

    assert ("wait_profile", "profile_bonus", "profile_completed") in found
    assert ("wait_profile", "nudge_profile", "timeout") in found
    assert ("pick_offer", "offer_discount", "discount") in found
    assert ("pick_offer", "offer_free_shipping", "free_shipping") in found
    assert ("not_activated", None, "") in found
    assert not any(source == "activated" for source, _, _ in found)  # an exit leads nowhere


def test_the_yaml_diff_is_the_unified_diff_difflib_prints() -> None:
    changed = ONBOARDING.replace(WAIT_OFFER, "").replace("timeout: 3d", "timeout: 2d")
    mine = yaml_diff(ONBOARDING, changed, before_name="onboarding.yaml@1", after_name="onboarding.yaml")
    expected = "".join(
        difflib.unified_diff(
            ONBOARDING.splitlines(keepends=True),
            changed.splitlines(keepends=True),
            "onboarding.yaml@1",
            "onboarding.yaml",
        )
    )
    assert mine == expected
    assert "-    wait_for: {event: profile_completed, timeout: 3d}\n" in mine
    assert "+    wait_for: {event: profile_completed, timeout: 2d}\n" in mine
    assert apply(mine, ONBOARDING.splitlines(keepends=True)) == changed.splitlines(keepends=True)


def test_the_yaml_diff_of_a_text_without_a_last_newline() -> None:
    diff = yaml_diff("a: 1\nb: 2", "a: 1\nb: 3", before_name="x", after_name="y")
    assert diff == "--- x\n+++ y\n@@ -1,2 +1,2 @@\n a: 1\n-b: 2\n+b: 3\n"


def test_a_yaml_diff_too_costly_to_match_shows_the_middle_replaced_whole() -> None:
    """Lines that repeat just under difflib's junk threshold made matching take seconds (10,000
    lines each: 5 s); past MAX_DIFF_CELLS the differing middle is shown removed and added whole."""
    lines = 2_100
    assert lines * lines > MAX_DIFF_CELLS
    head, tail = "journey: same\n", "# the end\n"
    before = head + "".join(f"# {'ab'[i % 2] * (i % 50)}\n" for i in range(1, lines + 1)) + tail
    after = head + "".join(f"# {'ba'[i % 3 % 2] * (i % 47)}\n" for i in range(1, lines + 1)) + tail

    diff = yaml_diff(before, after, before_name="a", after_name="b", context=1)

    hunks = [line for line in diff.splitlines() if line.startswith("@@")]
    assert hunks == [f"@@ -1,{lines + 2} +1,{lines + 2} @@"]
    body = diff.splitlines()[3:]
    assert body[0] == " journey: same" and body[-1] == " # the end"
    assert sum(line.startswith("-") for line in body) == sum(line.startswith("+") for line in body) == lines
    assert apply(diff, before.splitlines(keepends=True)) == after.splitlines(keepends=True)


def test_random_edits_give_diffs_that_patch_one_text_into_the_other() -> None:
    import random

    rng = random.Random(13)
    for _ in range(500):
        before = [f"{rng.randrange(6)}\n" for _ in range(rng.randrange(0, 15))]
        after = list(before)
        for _ in range(rng.randrange(1, 4)):
            where = rng.randrange(len(after) + 1)
            match rng.randrange(3):
                case 0 if after:
                    del after[min(where, len(after) - 1)]
                case 1:
                    after.insert(where, f"{rng.randrange(9)}\n")
                case _ if after:
                    after[min(where, len(after) - 1)] = f"x{rng.randrange(3)}\n"
        diff = yaml_diff("".join(before), "".join(after), before_name="a", after_name="b")
        assert apply(diff, before) == after, (before, after, diff)
        assert (diff == "") == (before == after)
