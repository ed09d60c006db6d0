"""Canvas edits of journey sources (engine.edits): the exact YAML each edit writes, the plan it
compiles to (every untouched way out where it was), refusals with clear messages, comments kept,
and random sequences of edits on onboarding that always round-trip and compile."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from api.ui import graph
from engine.edits import (
    END,
    ENTRY,
    Edge,
    EditRefused,
    EditResult,
    delete_step,
    insert_step,
    retarget_edge,
    set_fields,
    validated,
)
from engine.edits.document import guess_indentation, load
from engine.limits import MAX_DEPTH
from engine.plan import BranchNode, ExitNode, Node, Plan, SplitNode, WaitForNode
from engine.source import ANCHORS_MESSAGE
from tests.engine.test_loader_fuzz import EXAMPLES, mutated_example
from tests.support.backend_referral import BACKEND_REFERRAL_FILE, BACKEND_REFERRAL_TEMPLATES

JOURNEYS = Path(__file__).resolve().parents[2] / "journeys"
TEMPLATES = JOURNEYS / "templates"
Way = tuple[str, str, int]  # (step, way kind, case or variant index)


def text_of(name: str) -> str:
    return (JOURNEYS / f"{name}.yaml").read_text("utf-8")


def replaced(text: str, old: str, new: str) -> str:
    """``text`` with the one occurrence of ``old`` replaced: the exact text an edit should give."""
    assert text.count(old) == 1, old
    return text.replace(old, new)


def ways(plan: Plan) -> dict[Way, str | None]:
    """Every way out of every step of a plan, and where it goes (None: the end)."""
    found: dict[Way, str | None] = {}
    for node in plan.nodes:
        if isinstance(node, WaitForNode):
            found[(node.id, "event", 0)] = node.on_event
            found[(node.id, "timeout", 0)] = node.on_timeout
        elif isinstance(node, BranchNode):
            found.update({(node.id, "case", i): case.next for i, case in enumerate(node.cases)})
            found[(node.id, "else", 0)] = node.otherwise
        elif isinstance(node, SplitNode):
            found.update({(node.id, "variant", i): v.next for i, v in enumerate(node.variants)})
        elif not isinstance(node, ExitNode):
            found[(node.id, "next", 0)] = node.next
    return found


def body(node: Node) -> dict[str, Any]:
    """What a step does, without where it goes."""
    dumped = node.model_dump()
    for key in ("next", "on_event", "on_timeout", "otherwise"):
        dumped.pop(key, None)
    for key in ("cases", "variants"):
        for item in dumped.get(key, []):
            item.pop("next")
    return dumped


def bodies(plan: Plan) -> dict[str, dict[str, Any]]:
    return {node.id: body(node) for node in plan.nodes}


def compiled(name: str) -> Plan:
    result = check(text_of(name))
    assert result.plan is not None
    return result.plan


def check(text: str) -> EditResult:
    return validated(text, TEMPLATES)


def valid_plan(result: EditResult) -> Plan:
    assert result.valid, [str(p) for p in result.problems]
    assert result.plan is not None
    return result.plan


def refusal(error: pytest.ExceptionInfo[EditRefused]) -> list[tuple[int, int, str, str]]:
    return [(e.line, e.column, e.path, e.message) for e in error.value.errors]


def test_edges_are_named_as_the_diagram_names_them() -> None:
    plan = compiled("onboarding")
    assert (ENTRY, END) == (graph.ENTRY, graph.END)
    ids = {edge.id for edge in graph.diagram(plan).edges}
    assert {"welcome>signup_bonus#0", "wait_offer>not_activated#1", "pick_offer>__end#2"} <= ids
    assert "__entry>joined#0" in ids


# --------------------------------------------------------------------------- onboarding


def test_a_wait_inserted_after_welcome_goes_between_it_and_the_bonus() -> None:
    source = text_of("onboarding")
    result = insert_step(source, "welcome>signup_bonus#0", "wait", {"wait": "2d"}, templates_dir=TEMPLATES)
    assert result.source == replaced(
        source,
        "  - {id: welcome, send: {email: welcome}}\n",
        "  - {id: welcome, send: {email: welcome}}\n  - {id: wait_1, wait: 2d}\n",
    )
    before, after = compiled("onboarding"), valid_plan(result)
    assert ways(after) == {
        **ways(before),
        ("welcome", "next", 0): "wait_1",
        ("wait_1", "next", 0): "signup_bonus",
    }
    assert bodies(after) == {
        **bodies(before),
        "wait_1": {"id": "wait_1", "kind": "wait", "seconds": 172800, "until": None},
    }
    assert after.start == "joined"


def test_deleting_nudge_profile_sends_its_edges_where_it_went() -> None:
    source = text_of("onboarding")
    result = delete_step(source, "nudge_profile", templates_dir=TEMPLATES)
    expected = replaced(source, "    on_timeout: nudge_profile\n", "    on_timeout: wait_purchase\n")
    assert result.source == replaced(
        expected, "  - {id: nudge_profile, send: {email: complete_your_profile}}\n", ""
    )
    before, after = compiled("onboarding"), valid_plan(result)
    expected_ways = {**ways(before), ("wait_profile", "timeout", 0): "wait_purchase"}
    del expected_ways[("nudge_profile", "next", 0)]
    assert ways(after) == expected_ways
    assert bodies(after) == {k: v for k, v in bodies(before).items() if k != "nudge_profile"}


def test_retargeting_wait_offers_timeout_is_answered_with_the_step_it_leaves_unreached() -> None:
    source = text_of("onboarding")
    result = retarget_edge(source, "wait_offer>not_activated#1", "activated", templates_dir=TEMPLATES)
    assert result.source == replaced(
        source,
        "    on_event: first_purchase_bonus\n",
        "    on_event: first_purchase_bonus\n    on_timeout: activated\n",
    )
    assert not result.valid and result.plan is None
    assert [(p.path, p.message) for p in result.problems] == [
        ("steps[14].id", 'step "not_activated" is never reached: no path from the first step leads to it')
    ]
    # Deleting the step nothing reaches makes it valid: the timeout goes to activated, nothing else moved.
    after = valid_plan(delete_step(result.source, "not_activated", templates_dir=TEMPLATES))
    before = compiled("onboarding")
    expected_ways = {**ways(before), ("wait_offer", "timeout", 0): "activated"}
    del expected_ways[("not_activated", "next", 0)]
    assert ways(after) == expected_ways


def test_retargeting_by_way_name_writes_next() -> None:
    source = text_of("onboarding")
    result = retarget_edge(
        source, Edge(step="profile_bonus", way="next"), "pick_offer", templates_dir=TEMPLATES
    )
    assert result.source == replaced(
        source, "Profile completed}, next: wait_purchase}", "Profile completed}, next: pick_offer}"
    )
    before, after = compiled("onboarding"), valid_plan(result)
    assert ways(after) == {**ways(before), ("profile_bonus", "next", 0): "pick_offer"}
    assert bodies(after) == bodies(before)


def test_setting_the_wait_for_timeout_keeps_the_rest_of_the_step() -> None:
    source = text_of("onboarding")
    result = set_fields(source, "wait_profile", {"wait_for": {"timeout": "5d"}}, templates_dir=TEMPLATES)
    assert result.source == replaced(
        source, "{event: profile_completed, timeout: 3d}", "{event: profile_completed, timeout: 5d}"
    )
    before, after = compiled("onboarding"), valid_plan(result)
    assert ways(after) == ways(before)
    assert bodies(after) == {
        **bodies(before),
        "wait_profile": {**bodies(before)["wait_profile"], "timeout_seconds": 432000},
    }


def test_an_insert_on_an_explicit_way_goes_where_the_fewest_writes_are_needed() -> None:
    source = text_of("onboarding")
    fields = {"send": {"email": "welcome"}}
    result = insert_step(source, "wait_purchase>pick_offer#1", "send", fields, templates_dir=TEMPLATES)
    expected = replaced(source, "    on_timeout: pick_offer\n", "    on_timeout: send_1\n")
    assert result.source == replaced(
        expected,
        "  - {id: activated, exit: first purchase}\n",
        "  - {id: activated, exit: first purchase}\n  - {id: send_1, send: {email: welcome}}\n",
    )
    before, after = compiled("onboarding"), valid_plan(result)
    assert ways(after) == {
        **ways(before),
        ("wait_purchase", "timeout", 0): "send_1",
        ("send_1", "next", 0): "pick_offer",
    }


def test_inserting_after_an_outcome_step_writes_the_ways_that_fell_through() -> None:
    source = text_of("onboarding")
    result = insert_step(
        source,
        "wait_profile>nudge_profile#1",
        "award",
        {"award": {"points": 5, "reason": "Tried"}},
        templates_dir=TEMPLATES,
    )
    # Right after wait_profile its event way (falling to profile_bonus) would move: placed before
    # nudge_profile, after profile_bonus (which names its next), nothing else needs writing.
    expected = replaced(source, "    on_timeout: nudge_profile\n", "    on_timeout: award_1\n")
    assert result.source == replaced(
        expected,
        "  - {id: nudge_profile,",
        "  - {id: award_1, award: {points: 5, reason: Tried}}\n  - {id: nudge_profile,",
    )
    before, after = compiled("onboarding"), valid_plan(result)
    assert ways(after) == {
        **ways(before),
        ("wait_profile", "timeout", 0): "award_1",
        ("award_1", "next", 0): "nudge_profile",
    }


def test_inserting_on_the_trigger_edge_makes_the_new_step_the_first() -> None:
    source = text_of("onboarding")
    result = insert_step(
        source, "__entry>joined#0", "wait", {"wait": {"until": "09:00"}}, templates_dir=TEMPLATES
    )
    assert result.source == replaced(source, "steps:\n", 'steps:\n  - {id: wait_1, wait: {until: "09:00"}}\n')
    after = valid_plan(result)
    assert after.start == "wait_1"
    assert ways(after) == {**ways(compiled("onboarding")), ("wait_1", "next", 0): "joined"}


def test_deleting_the_first_step_starts_the_journey_where_it_went() -> None:
    source = text_of("onboarding")
    result = delete_step(source, "joined", templates_dir=TEMPLATES)
    assert result.source == replaced(source, "  - {id: joined, set_stage: acquisition}\n", "")
    assert valid_plan(result).start == "welcome"


def test_deleting_a_step_with_several_ways_out_takes_reconnect_to() -> None:
    source = text_of("onboarding")
    result = delete_step(source, "wait_profile", reconnect_to="nudge_profile", templates_dir=TEMPLATES)
    assert not result.valid  # profile_bonus is no longer reached
    lines = (
        "  - id: wait_profile\n"
        "    wait_for: {event: profile_completed, timeout: 3d}\n"
        "    on_timeout: nudge_profile\n"
    )
    assert result.source == replaced(
        replaced(source, lines, ""),
        "badge: newcomer}}\n",
        "badge: newcomer}, next: nudge_profile}\n",
    )


def test_a_new_step_id_is_the_kind_and_the_first_free_number() -> None:
    source = text_of("onboarding")
    first = insert_step(source, "welcome>signup_bonus#0", "wait", {"wait": "1h"}, templates_dir=TEMPLATES)
    second = insert_step(first.source, "welcome>wait_1#0", "wait", {"wait": "2h"}, templates_dir=TEMPLATES)
    named = insert_step(
        first.source, "welcome>wait_1#0", "wait", {"wait": "2h"}, step_id="pause", templates_dir=TEMPLATES
    )
    assert (
        "  - {id: welcome, send: {email: welcome}}\n  - {id: wait_2, wait: 2h}\n  - {id: wait_1, wait: 1h}\n"
        in second.source
    )
    assert "{id: pause, wait: 2h}" in named.source
    assert second.valid and named.valid


def test_renaming_a_step_renames_every_way_that_names_it() -> None:
    source = text_of("onboarding")
    result = set_fields(source, "wait_purchase", {"id": "wait_buy"}, templates_dir=TEMPLATES)
    expected = replaced(source, "next: wait_purchase}", "next: wait_buy}")
    assert result.source == replaced(expected, "  - id: wait_purchase\n", "  - id: wait_buy\n")
    after = valid_plan(result)
    assert ways(after)[("profile_bonus", "next", 0)] == "wait_buy"
    assert ways(after)[("nudge_profile", "next", 0)] == "wait_buy"


# --------------------------------------------------------------------------- engagement


def test_engagement_insert_on_the_else_way_of_a_branch() -> None:
    source = text_of("engagement")
    result = insert_step(source, "which_tier>congratulate#1", "wait", {"wait": "1d"}, templates_dir=TEMPLATES)
    expected = replaced(
        source, "      else: congratulate\n", "      else: wait_1\n  - {id: wait_1, wait: 1d}\n"
    )
    assert result.source == expected
    before, after = compiled("engagement"), valid_plan(result)
    assert ways(after) == {
        **ways(before),
        ("which_tier", "else", 0): "wait_1",
        ("wait_1", "next", 0): "congratulate",
    }


def test_engagement_delete_retarget_and_set_fields() -> None:
    source = text_of("engagement")
    before = compiled("engagement")
    deleted = delete_step(source, "gold_badge", templates_dir=TEMPLATES)
    assert deleted.source == replaced(
        source, "  - {id: gold_badge, award: {badge: gold_member, reason: Reached gold tier}}\n", ""
    )
    expected_ways = {**ways(before), ("gold_early_access", "next", 0): "loyal"}
    del expected_ways[("gold_badge", "next", 0)]
    assert ways(valid_plan(deleted)) == expected_ways

    retargeted = retarget_edge(source, "loyal>done#0", "retained", templates_dir=TEMPLATES)
    assert retargeted.source == replaced(
        source, "set_stage: loyalty, next: done}", "set_stage: loyalty, next: retained}"
    )
    assert ways(valid_plan(retargeted)) == {**ways(before), ("loyal", "next", 0): "retained"}

    points = set_fields(source, "gold_badge", {"award": {"points": 25}}, templates_dir=TEMPLATES)
    assert points.source == replaced(
        source, "reason: Reached gold tier}}", "reason: Reached gold tier, points: 25}}"
    )
    after = valid_plan(points)
    assert ways(after) == ways(before)
    assert bodies(after)["gold_badge"]["points"] == 25


# --------------------------------------------------------------------------- referral


def test_referral_edits() -> None:
    """On the backend-computed referral journey (tests/fixtures/backend_referral), with its templates."""
    source = BACKEND_REFERRAL_FILE.read_text("utf-8")
    before = valid_plan(validated(source, BACKEND_REFERRAL_TEMPLATES))
    inserted = insert_step(
        source,
        "__entry>referral_bonus#0",
        "set_stage",
        {"set_stage": "loyalty"},
        templates_dir=BACKEND_REFERRAL_TEMPLATES,
    )
    assert inserted.source == replaced(
        source, "steps:\n", "steps:\n  - {id: set_stage_1, set_stage: loyalty}\n"
    )
    assert valid_plan(inserted).start == "set_stage_1"

    last = delete_step(source, "thank_referrer", templates_dir=BACKEND_REFERRAL_TEMPLATES)
    assert last.source == replaced(source, "  - {id: thank_referrer, send: {email: referral_thanks}}\n", "")
    assert ways(valid_plan(last)) == {("referral_bonus", "next", 0): None}

    looped = retarget_edge(
        source, "thank_referrer>__end#0", "referral_bonus", templates_dir=BACKEND_REFERRAL_TEMPLATES
    )
    assert looped.source == replaced(
        source, "{email: referral_thanks}}\n", "{email: referral_thanks}, next: referral_bonus}\n"
    )
    assert [p.message for p in looped.problems] == [
        "loop referral_bonus -> thank_referrer -> referral_bonus never waits; "
        "add a wait or wait_for so a customer cannot spin forever"
    ]

    fewer = set_fields(
        source,
        "referral_bonus",
        {"award": {"points": 300, "badge": None}},
        templates_dir=BACKEND_REFERRAL_TEMPLATES,
    )
    assert fewer.source == replaced(
        source,
        "{points: 250, reason: Referral bonus, badge: ambassador}",
        "{points: 300, reason: Referral bonus}",
    )
    after = valid_plan(fewer)
    assert (bodies(after)["referral_bonus"]["points"], bodies(after)["referral_bonus"]["badge"]) == (
        300,
        None,
    )
    assert ways(after) == ways(before)


# --------------------------------------------------------------------------- winback


def test_winback_edits() -> None:
    source = text_of("winback")
    before = compiled("winback")
    fields = {
        "send": {"webhook": "welcome_back", "payload": {"text": "Welcome back, {{ customer.first_name }}"}}
    }
    inserted = insert_step(source, "wait_return>won_back#0", "send", fields, templates_dir=TEMPLATES)
    assert inserted.source == replaced(
        source,
        "    on_timeout: winback_sms\n",
        "    on_timeout: winback_sms\n"
        "  - id: send_1\n"
        "    send:\n"
        "      webhook: welcome_back\n"
        '      payload: {text: "Welcome back, {{ customer.first_name }}"}\n',
    )
    assert ways(valid_plan(inserted)) == {
        **ways(before),
        ("wait_return", "event", 0): "send_1",
        ("send_1", "next", 0): "won_back",
    }

    deleted = delete_step(source, "at_risk", templates_dir=TEMPLATES)
    expected = replaced(source, "    on_timeout: at_risk\n", "    on_timeout: winback_offer\n")
    assert deleted.source == replaced(expected, "  - {id: at_risk, set_stage: at_risk}\n", "")

    retargeted = retarget_edge(
        source, Edge(step="last_chance", way="event"), "welcome_back_bonus", templates_dir=TEMPLATES
    )
    assert retargeted.source == replaced(
        source, "    on_event: won_back\n", "    on_event: welcome_back_bonus\n"
    )
    assert ways(valid_plan(retargeted)) == {**ways(before), ("last_chance", "event", 0): "welcome_back_bonus"}

    text = set_fields(
        source,
        "winback_sms",
        {"send": {"payload": {"text": "Hi {{ customer.first_name }}"}}},
        templates_dir=TEMPLATES,
    )
    assert text.source == replaced(
        source,
        '"{{ customer.first_name }}, we saved 20% for you: code COMEBACK20, this week only."',
        '"Hi {{ customer.first_name }}"',
    )
    assert (
        bodies(valid_plan(text))["winback_sms"]["payload"]["phone"]
        == "{{ customer.traits.phone | default('') }}"
    )


# --------------------------------------------------------------------------- comments and layout

COMMENTED = """\
# yaml-language-server: $schema=../journey.schema.json
# Onboarding, with comments.
journey: onboarding
stage: acquisition
trigger: {event: signed_up}  # who enters
steps:
  # Say hello first.
  - {id: welcome, send: {email: welcome}}  # the welcome email
  # Then the bonus.
  - {id: signup_bonus, award: {points: 100, reason: Sign-up bonus, badge: newcomer}}
  - id: wait_profile  # up to three days
    wait_for: {event: profile_completed, timeout: 3d}
    on_timeout: nudge_profile  # a nudge when it times out

  # Rewarded.
  - {id: profile_bonus, award: {points: 50, reason: Profile completed}, next: done}
  # Nudged: this comment goes with the step.
  - {id: nudge_profile, send: {email: complete_your_profile}}
  - {id: done, exit: onboarded}  # the end
# That is all.
"""


def test_a_source_with_comments_reads_back_as_it_was() -> None:
    assert load(COMMENTED, "c.yaml").dump() == COMMENTED
    assert load(COMMENTED, "c.yaml").baseline == COMMENTED


def test_comments_stay_with_their_steps_through_every_edit() -> None:
    inserted = insert_step(
        COMMENTED, "welcome>signup_bonus#0", "wait", {"wait": "2d"}, templates_dir=TEMPLATES
    )
    assert inserted.source == replaced(
        COMMENTED,
        "# the welcome email\n  # Then the bonus.\n",
        "# the welcome email\n  - {id: wait_1, wait: 2d}\n  # Then the bonus.\n",
    )
    deleted = delete_step(COMMENTED, "nudge_profile", templates_dir=TEMPLATES)
    expected = replaced(COMMENTED, "on_timeout: nudge_profile  #", "on_timeout: done  #")
    assert deleted.source == replaced(
        expected,
        "  # Nudged: this comment goes with the step.\n"
        "  - {id: nudge_profile, send: {email: complete_your_profile}}\n",
        "",
    )
    # The last step goes; the comment after it stays at the end, and both ways into it loop back.
    last = delete_step(COMMENTED, "done", reconnect_to="wait_profile", templates_dir=TEMPLATES)
    expected = replaced(
        COMMENTED, "Profile completed}, next: done}", "Profile completed}, next: wait_profile}"
    )
    assert last.source == replaced(
        expected,
        "complete_your_profile}}\n  - {id: done, exit: onboarded}  # the end\n",
        "complete_your_profile}, next: wait_profile}\n",
    )
    assert last.valid
    timeout = set_fields(COMMENTED, "wait_profile", {"wait_for": {"timeout": "4d"}}, templates_dir=TEMPLATES)
    assert timeout.source == replaced(COMMENTED, "timeout: 3d}", "timeout: 4d}")


def test_an_insert_after_the_last_step_goes_above_the_comments_after_it() -> None:
    source = COMMENTED.replace(
        "  - {id: done, exit: onboarded}  # the end\n", "  - {id: done, set_stage: loyalty}  # the end\n"
    )
    result = insert_step(source, "done>__end#0", "exit", {"exit": "finished"}, templates_dir=TEMPLATES)
    assert result.source == replaced(
        source, "# the end\n# That is all.\n", "# the end\n  - {id: exit_1, exit: finished}\n# That is all.\n"
    )
    assert valid_plan(result).node("exit_1").kind == "exit"


def test_the_authors_layout_is_kept_where_ruamel_would_rewrite_it() -> None:
    source = (
        "---\n"
        "journey:   odd\n"
        "stage: acquisition\n"
        "trigger: { event: signed_up }\n"
        "steps:\n"
        "    -   { id: welcome,  send: {email: welcome} }\n"
        "    -   id: wait_profile\n"
        "        wait_for: {\n"
        "          event: profile_completed,  # a comment ruamel drops\n"
        "          timeout: 3d\n"
        "        }\n"
        "        on_timeout: nudge\n"
        "    -   {id: bonus, award: {points: 50, reason: 'Profile completed'}, next: done}\n"
        "    -   {id: nudge, send: {email: complete_your_profile}}\n"
        "    -   {id: done, exit: onboarded}\n"
    )
    assert guess_indentation(source) == (2, 8, 4)
    assert load(source, "odd.yaml").baseline != source
    result = insert_step(source, "welcome>wait_profile#0", "wait", {"wait": "2d"}, templates_dir=TEMPLATES)
    assert result.source == replaced(source, "welcome} }\n", "welcome} }\n    -   {id: wait_1, wait: 2d}\n")
    assert result.valid


# --------------------------------------------------------------------------- refusals


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (
            lambda s: delete_step(s, "pick_offer", templates_dir=TEMPLATES),
            (
                26,
                5,
                "steps[10]",
                '"pick_offer" has several ways out ("__end", "offer_discount", '
                '"offer_free_shipping"); say where the edges into it go instead '
                "(reconnect_to: a step, or __end)",
            ),
        ),
        (
            lambda s: delete_step(s, "wait_profile", templates_dir=TEMPLATES),
            (
                15,
                5,
                "steps[3]",
                '"wait_profile" has several ways out ("nudge_profile", "profile_bonus"); '
                "say where the edges into it go instead (reconnect_to: a step, or __end)",
            ),
        ),
        (
            lambda s: delete_step(s, "nudge_profil", templates_dir=TEMPLATES),
            (12, 3, "steps", 'there is no step "nudge_profil"; did you mean "nudge_profile"?'),
        ),
        (
            lambda s: delete_step(s, "activated", templates_dir=TEMPLATES),
            (
                24,
                5,
                "steps[8]",
                'cannot delete "activated": the next way out of "thank_you" would have to end the '
                "journey, and only the last step can end it without an exit step; say where it goes instead "
                "(reconnect_to: a step)",
            ),
        ),
        (
            lambda s: retarget_edge(s, "wait_offer>not_activated#1", END, templates_dir=TEMPLATES),
            (
                35,
                5,
                "steps[13]",
                'cannot send it to __end: the timeout way out of "wait_offer" would have to end '
                "the journey, and only the last step can end it without an exit step; "
                "send it to an exit step instead",
            ),
        ),
        (
            lambda s: retarget_edge(s, "welcome>wait_profile#0", "done", templates_dir=TEMPLATES),
            (
                13,
                5,
                "steps[1]",
                '"welcome>wait_profile#0" is out of date: the next way out of "welcome" goes to '
                '"signup_bonus" now; draw the journey again',
            ),
        ),
        (
            lambda s: retarget_edge(s, "welcome>signup_bonus#0", "nowhere", templates_dir=TEMPLATES),
            (12, 3, "steps", 'there is no step "nowhere"'),
        ),
        (
            lambda s: insert_step(s, "pick_offer>__end#2", "wait", {"wait": "1d"}, templates_dir=TEMPLATES),
            (
                32,
                16,
                "steps[10].split.control",
                'the control group of "pick_offer" always leaves the journey at '
                "the split; change control to hold out fewer or none",
            ),
        ),
        (
            lambda s: insert_step(
                s, Edge(step="welcome", way="timeout"), "wait", {"wait": "1d"}, templates_dir=TEMPLATES
            ),
            (13, 5, "steps[1]", 'step "welcome" has no "timeout" way out; its ways out: next'),
        ),
        (
            lambda s: insert_step(s, "welcome>signup_bonus#0", "wait", {}, templates_dir=TEMPLATES),
            (12, 3, "steps", 'a new wait step needs its "wait" field, e.g. {"wait": "2d"}'),
        ),
        (
            lambda s: insert_step(
                s, "welcome>signup_bonus#0", "wait", {"wait": "1d", "next": "done"}, templates_dir=TEMPLATES
            ),
            (
                12,
                3,
                "steps",
                'fields must not hold "next": the new step goes where the edge went; leave next out '
                "and retarget it after inserting",
            ),
        ),
        (
            lambda s: insert_step(
                s,
                "welcome>signup_bonus#0",
                "wait",
                {"wait": "1d"},
                step_id="welcome",
                templates_dir=TEMPLATES,
            ),
            (13, 10, "steps[1].id", 'step id "welcome" is taken'),
        ),
        (
            lambda s: set_fields(s, "welcome", {"id": "joined"}, templates_dir=TEMPLATES),
            (12, 10, "steps[0].id", 'step id "joined" is taken'),
        ),
    ],
)
def test_edits_that_cannot_be_made_say_why_and_where(edit: Any, expected: tuple[int, int, str, str]) -> None:
    with pytest.raises(EditRefused) as error:
        edit(text_of("onboarding"))
    assert [(e.file, e.line, e.column, e.path, e.message) for e in error.value.errors] == [
        ("journey.yaml", *expected)
    ]


def test_the_only_step_cannot_be_deleted() -> None:
    source = "journey: one\nstage: reach\ntrigger: {event: a}\nsteps:\n  - {id: only, exit: done}\n"
    with pytest.raises(EditRefused) as error:
        delete_step(source, "only", templates_dir=TEMPLATES)
    assert refusal(error) == [
        (5, 5, "steps[0]", '"only" is the only step, and a journey needs at least one; it cannot be deleted')
    ]


def test_a_source_the_engine_would_not_read_is_refused_as_validation_refuses_it() -> None:
    bomb = "a: &a [lol, lol]\nb: &b [*a, *a]\n"
    with pytest.raises(EditRefused) as error:
        delete_step(bomb, "x", templates_dir=TEMPLATES)
    assert refusal(error) == [(1, 4, "a", ANCHORS_MESSAGE)]
    deep = "[" * 900 + "]" * 900
    with pytest.raises(EditRefused) as error:
        delete_step(deep, "x", templates_dir=TEMPLATES)
    assert refusal(error)[0][3] == f"nesting deeper than {MAX_DEPTH} levels is not allowed in journey files"
    with pytest.raises(EditRefused) as error:
        delete_step("journey: x\nsteps: []\n", "x", templates_dir=TEMPLATES)
    assert refusal(error) == [(2, 8, "steps", "the journey needs a list of steps before it can be edited")]


def test_fields_past_the_file_limits_are_refused() -> None:
    deep: dict[str, Any] = {}
    inner = deep
    for _ in range(MAX_DEPTH + 5):
        inner["a"] = {}
        inner = inner["a"]
    with pytest.raises(EditRefused) as error:
        set_fields(text_of("onboarding"), "welcome", {"send": deep}, templates_dir=TEMPLATES)
    [(_, _, _, message)] = refusal(error)
    assert message.endswith(f"nesting deeper than {MAX_DEPTH} levels is not allowed")
    with pytest.raises(EditRefused) as error:
        set_fields(text_of("onboarding"), "welcome", {"description": "x" * 300_000}, templates_dir=TEMPLATES)
    assert (
        refusal(error)[0][3]
        == "fields.description: the operation is larger than 256 KB, the most a journey file may be"
    )


def test_new_text_reads_back_as_the_text_it_was() -> None:
    source = text_of("onboarding")
    for value in ["yes", "on", "10", "0o17", "09:00", "null", "a: b", "it's", 'say "hi"', "1_000", " padded"]:
        result = set_fields(source, "activated", {"exit": value}, templates_dir=TEMPLATES)
        assert valid_plan(result).node("activated").model_dump()["reason"] == value, result.source
    emptied = set_fields(source, "activated", {"exit": None}, templates_dir=TEMPLATES)
    assert "{id: activated, exit: null}" in emptied.source
    assert valid_plan(emptied).node("activated").model_dump()["reason"] == "activated"


# --------------------------------------------------------------------------- random sequences

PLAIN_KINDS: list[tuple[str, dict[str, Any]]] = [
    ("wait", {"wait": "1d"}),
    ("wait", {"wait": {"duration": "2h", "until": "09:00"}}),
    ("award", {"award": {"points": 10, "reason": "Random bonus"}}),
    ("set_stage", {"set_stage": "retention"}),
    ("send", {"send": {"email": "welcome"}}),
    ("wait_for", {"wait_for": {"event": "clicked", "timeout": "1d"}}),
]


def edge_ids(plan: Plan) -> list[str]:
    return [edge.id for edge in graph.diagram(plan).edges if edge.kind != "control"]


@settings(
    max_examples=25,
    deadline=timedelta(seconds=10),
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(st.data())
def test_random_edits_of_onboarding_round_trip_and_compile(data: st.DataObject) -> None:
    source = text_of("onboarding")
    plan = compiled("onboarding")
    inserted: list[str] = []
    for _ in range(data.draw(st.integers(1, 6), label="edits")):
        choices = ["insert", "insert", "delete", "set"] if inserted else ["insert"]
        action = data.draw(st.sampled_from(choices), label="action")
        before_ways, before_bodies = ways(plan), bodies(plan)
        if action == "insert":
            edge = data.draw(st.sampled_from(edge_ids(plan)), label="edge")
            kind, fields = data.draw(st.sampled_from(PLAIN_KINDS), label="kind")
            result = insert_step(source, edge, kind, fields, templates_dir=TEMPLATES)
            new_plan = valid_plan(result)
            [new] = set(bodies(new_plan)) - set(before_bodies)
            step, rest = edge.split(">", 1)
            old_target, index = rest.split("#")
            expected = dict(before_ways)
            if step == ENTRY:
                assert new_plan.start == new
            else:  # the way the edge id numbers among the step's ways now goes to the new step
                expected[[w for w in before_ways if w[0] == step][int(index)]] = new
            for new_way in [w for w in ways(new_plan) if w[0] == new]:
                expected[new_way] = None if old_target == END else old_target
            assert ways(new_plan) == expected
            assert {k: v for k, v in bodies(new_plan).items() if k != new} == before_bodies
            inserted.append(new)
        elif action == "delete":
            victim = data.draw(st.sampled_from(inserted), label="delete")
            targets = {t for w, t in before_ways.items() if w[0] == victim}
            if len(targets) != 1:
                continue  # a wait_for whose ways went apart: deleting it needs reconnect_to
            out = targets.pop()
            result = delete_step(source, victim, templates_dir=TEMPLATES)
            new_plan = valid_plan(result)
            expected = {w: (out if t == victim else t) for w, t in before_ways.items() if w[0] != victim}
            assert ways(new_plan) == expected
            assert bodies(new_plan) == {k: v for k, v in before_bodies.items() if k != victim}
            if plan.start == victim:
                assert new_plan.start == out
            inserted.remove(victim)
        else:
            victim = data.draw(st.sampled_from(inserted), label="set")
            changes: dict[str, dict[str, Any]] = {
                "wait": {"wait": "3h"},
                "award": {"award": {"points": 99}},
                "set_stage": {"set_stage": "loyalty"},
                "send_email": {"description": "Sent again"},
                "wait_for": {"wait_for": {"timeout": "2d"}},
            }
            change = changes[before_bodies[victim]["kind"]]
            result = set_fields(source, victim, change, templates_dir=TEMPLATES)
            new_plan = valid_plan(result)
            assert ways(new_plan) == before_ways
            assert {k: v for k, v in bodies(new_plan).items() if k != victim} == {
                k: v for k, v in before_bodies.items() if k != victim
            }
        assert load(result.source, "onboarding.yaml").baseline == result.source  # parse, dump: the same text
        source, plan = result.source, new_plan


# --------------------------------------------------------------------------- fuzzed

FIELDS: list[dict[str, Any]] = [
    {},
    {"wait": "1d"},
    {"wait": 3},
    {"wait": {"until": "25:99"}},
    {"send": {"email": "welcome"}},
    {"send": {"webhook": "sms", "payload": {"text": "{{ customer.first_name }}", "n": [1, {"a": None}]}}},
    {"award": {"points": -1}},
    {"award": None},
    {"branch": {"cases": [{"when": "customer.points > 1"}, "x"]}},
    {"split": {"variants": [{"name": "a", "weight": 1}], "control": 10}},
    {"exit": None},
    {"id": "renamed"},
    {"id": 7},
    {"description": "line one\nline two", "next": "welcome"},
    {"set_stage": "nowhere"},
    {"wait_for": {"event": "x", "timeout": "1d"}, "on_event": "done"},
]


@st.composite
def edit_of(draw: st.DrawFn, text: str) -> Any:
    ids = re.findall(r"id: ([a-z_0-9]+)", text) or ["welcome"]
    ids += [ENTRY, END, "nowhere"]
    step = st.sampled_from(ids)
    edge = st.one_of(
        st.builds(lambda a, b, n: f"{a}>{b}#{n}", step, step, st.integers(0, 3)),
        st.builds(
            Edge,
            step=st.sampled_from([i for i in ids if i != END]),
            way=st.sampled_from(["entry", "next", "event", "timeout", "case", "else", "variant"]),
            index=st.integers(0, 2),
        ),
    )
    fields = st.sampled_from(FIELDS)
    kind = st.sampled_from(["send", "wait", "wait_for", "branch", "split", "award", "set_stage", "exit"])
    return draw(
        st.one_of(
            st.builds(
                lambda e, k, f: lambda: insert_step(text, e, k, f, templates_dir=TEMPLATES),
                edge,
                kind,
                fields,
            ),
            st.builds(
                lambda s, r: lambda: delete_step(text, s, reconnect_to=r, templates_dir=TEMPLATES),
                step,
                st.one_of(st.none(), step),
            ),
            st.builds(lambda e, t: lambda: retarget_edge(text, e, t, templates_dir=TEMPLATES), edge, step),
            st.builds(lambda s, f: lambda: set_fields(text, s, f, templates_dir=TEMPLATES), step, fields),
        )
    )


@settings(
    max_examples=150,
    deadline=timedelta(seconds=5),
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(st.data())
def test_any_edit_of_any_text_gives_a_result_or_a_positioned_refusal(data: st.DataObject) -> None:
    text = data.draw(st.one_of(st.sampled_from(EXAMPLES), mutated_example()), label="source")
    run = data.draw(edit_of(text), label="edit")
    try:
        result = run()
    except EditRefused as exc:
        errors = exc.errors
        assert errors
    else:
        assert isinstance(result, EditResult)
        assert result.valid == (result.plan is not None)
        errors = result.problems
    for error in errors:
        assert error.file == "journey.yaml" and error.line >= 1 and error.column >= 1 and error.message
