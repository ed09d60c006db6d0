"""Every class of error a journey can have: exact message, line, column and step path."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from engine.errors import JourneyError, JourneyValidationError
from engine.loader import compile_file, load_directory
from tests.support.journey_files import WriteJourney

Problems = Callable[[str], list[tuple[int, int, str, str]]]
STAGES = "reach, acquisition, conversion, retention, loyalty, at_risk, lapsed, won_back"
NEVER_WAITS = "never waits; add a wait or wait_for so a customer cannot spin forever"


def test_yaml_syntax_error_names_the_spot(problems: Problems) -> None:
    found = problems(
        """
        journey: demo
        stage: acquisition
        trigger: {event: signed_up
        steps:
          - {id: done, exit: finished}
        """
    )
    assert found == [
        (4, 6, "", "YAML syntax error: did not find expected ',' or '}' (while parsing a flow mapping)")
    ]


def test_yaml_mapping_value_in_a_plain_scalar(problems: Problems) -> None:
    found = problems(
        """
        journey: demo
        description: a: b
        """
    )
    assert found == [(2, 15, "", "YAML syntax error: mapping values are not allowed in this context")]


def test_error_prints_as_an_editor_reads_it(write: WriteJourney) -> None:
    path = write("journey: demo\nstage: acquisition\nsteps: [{id: done, exit: x}]\n", "onboarding.yaml")
    with pytest.raises(JourneyValidationError) as info:
        compile_file(path)
    assert str(info.value) == 'onboarding.yaml:1:1 trigger: "trigger" is required'
    assert info.value.errors == [JourneyError("onboarding.yaml", 1, 1, "trigger", '"trigger" is required')]


def test_not_a_mapping(problems: Problems) -> None:
    assert problems("- journey: demo\n") == [
        (1, 1, "", "a journey file must be a mapping with journey, trigger and steps")
    ]
    assert problems("") == [(1, 1, "", "a journey file must be a mapping with journey, trigger and steps")]


def test_unknown_keys_suggest_the_key_meant_where_they_stand(problems: Problems) -> None:
    found = problems(
        """
        journey: demo
        stage: acquisition
        exit-on: [unsubscribed]
        trigger: {event: signed_up, wher: "customer.points > 1"}
        steps:
          - {id: welcome, send: {email: welcome}, nxt: wait_profile}
          - id: wait_profile
            wait_for: {event: profile_completed, timout: 3d}
          - {id: done, exit: finished, entry: once}
        """
    )
    assert found == [
        (3, 1, "exit-on", 'unknown key "exit-on"; did you mean "exit_on"?'),
        (4, 29, "trigger.wher", 'unknown key "wher"; did you mean "where"?'),
        (6, 43, "steps[0].nxt", 'unknown key "nxt"; did you mean "next"?'),
        (8, 15, "steps[1].wait_for.timeout", '"timeout" is required'),
        (8, 42, "steps[1].wait_for.timout", 'unknown key "timout"; did you mean "timeout"?'),
        # "entry" is a key of the journey, not of a step: no suggestion of the same word.
        (9, 32, "steps[2].entry", 'unknown key "entry"'),
    ]


def test_duplicate_yaml_keys(problems: Problems) -> None:
    found = problems(
        """
        journey: demo
        stage: acquisition
        stage: retention
        trigger: {event: signed_up}
        steps:
          - {id: welcome, send: {email: welcome}, send: {email: welcome}}
          - {id: done, exit: finished}
        """
    )
    assert found == [
        (3, 1, "stage", 'key "stage" is written twice; the second would win'),
        (6, 43, "steps[0].send", 'key "send" is written twice; the second would win'),
    ]


def test_duplicate_step_ids(problems: Problems) -> None:
    found = problems(
        """
        journey: demo
        stage: acquisition
        trigger: {event: signed_up}
        steps:
          - {id: welcome, send: {email: welcome}}
          - {id: pause, wait: 1d}
          - {id: welcome, exit: finished}
        """
    )
    assert found == [(7, 10, "steps[2].id", 'step id "welcome" is used twice (first at steps[0])')]


def test_missing_required_keys(problems: Problems) -> None:
    found = problems(
        """
        journey: demo
        trigger: {where: "customer.points > 1"}
        steps:
          - {send: {email: welcome}}
          - id: wait_profile
            wait_for: {event: profile_completed}
          - {id: done, exit: finished}
        """
    )
    assert found == [
        (1, 1, "stage", '"stage" is required'),
        (
            2,
            10,
            "trigger",
            "a trigger needs exactly one of: event (e.g. event: signed_up) or schedule"
            ' (e.g. schedule: {every: monday, at: "09:00", segment: vip})',
        ),
        (4, 5, "steps[0].id", '"id" is required'),
        (6, 15, "steps[1].wait_for.timeout", '"timeout" is required'),
    ]


def test_missing_and_empty_steps(problems: Problems) -> None:
    head = "journey: demo\nstage: acquisition\ntrigger: {event: signed_up}\n"
    assert problems(head) == [(1, 1, "steps", '"steps" is required')]
    assert problems(head + "steps: []\n") == [(4, 8, "steps", '"steps" needs at least one entry')]


def test_targets_that_do_not_exist_are_all_reported(problems: Problems) -> None:
    found = problems(
        """
        journey: demo
        stage: acquisition
        trigger: {event: signed_up}
        steps:
          - {id: welcome, send: {email: welcome}, next: wait_profil}
          - id: wait_profile
            wait_for: {event: profile_completed, timeout: 3d}
            on_event: somewhere
            on_timeout: bonuss
          - id: bonus
            award: {points: 10, reason: Bonus}
          - id: route
            branch:
              cases:
                - {when: "customer.points > 100", next: vip}
              else: regular
          - id: test
            split:
              variants:
                - {name: a, weight: 1, next: done}
                - {name: b, weight: 1, next: gone}
          - {id: done, exit: finished}
        """
    )
    assert found == [
        (
            5,
            49,
            "steps[0].next",
            'goes to step "wait_profil", which does not exist; did you mean "wait_profile"?',
        ),
        (8, 15, "steps[1].on_event", 'goes to step "somewhere", which does not exist'),
        (9, 17, "steps[1].on_timeout", 'goes to step "bonuss", which does not exist; did you mean "bonus"?'),
        (15, 49, "steps[3].branch.cases[0].next", 'goes to step "vip", which does not exist'),
        (16, 13, "steps[3].branch.else", 'goes to step "regular", which does not exist'),
        (
            21,
            38,
            "steps[4].split.variants[1].next",
            'goes to step "gone", which does not exist; did you mean "done"?',
        ),
    ]


def test_unreachable_steps(problems: Problems) -> None:
    found = problems(
        """
        journey: demo
        stage: acquisition
        trigger: {event: signed_up}
        steps:
          - {id: welcome, send: {email: welcome}, next: done}
          - {id: orphan, award: {points: 5, reason: Never}}
          - {id: orphan_too, award: {points: 5, reason: Never either}}
          - {id: done, exit: finished}
        """
    )
    message = 'step "{}" is never reached: no path from the first step leads to it'
    assert found == [
        (6, 10, "steps[1].id", message.format("orphan")),
        (7, 10, "steps[2].id", message.format("orphan_too")),
    ]


def test_loops_without_a_wait(problems: Problems) -> None:
    found = problems(
        """
        journey: demo
        stage: acquisition
        trigger: {event: signed_up}
        steps:
          - {id: start, award: {points: 1, reason: Loop}}
          - {id: again, send: {email: welcome}, next: start}
          - id: check
            branch:
              cases: [{when: "customer.points > 10", next: check}]
        """
    )
    assert found == [
        (
            5,
            5,
            "steps[0]",
            f"loop start -> again -> start {NEVER_WAITS}",
        ),
        (
            7,
            5,
            "steps[2]",
            f"loop check -> check {NEVER_WAITS}",
        ),
        (7, 9, "steps[2].id", 'step "check" is never reached: no path from the first step leads to it'),
    ]


def test_self_loop_without_a_wait(problems: Problems) -> None:
    found = problems(
        """
        journey: demo
        stage: acquisition
        trigger: {event: signed_up}
        steps:
          - id: check
            branch:
              cases: [{when: "customer.points > 10", next: check}]
          - {id: done, exit: finished}
        """
    )
    assert found == [
        (
            5,
            5,
            "steps[0]",
            f"loop check -> check {NEVER_WAITS}",
        ),
    ]


def test_loops_through_a_wait_are_fine(write: WriteJourney) -> None:
    path = write(
        """
        journey: demo
        stage: acquisition
        trigger: {event: signed_up}
        steps:
          - {id: start, award: {points: 1, reason: Loop}}
          - {id: pause, wait: 1d, next: start}
        """
    )
    plan = compile_file(path)
    assert plan.node("pause").next == "start"


def test_bad_durations(problems: Problems) -> None:
    found = problems(
        """
        journey: demo
        stage: acquisition
        trigger: {event: signed_up}
        entry: {cooldown: 30days}
        goal: {event: purchase_completed, within: 14 days}
        steps:
          - {id: pause, wait: 3 days}
          - id: wait_profile
            wait_for: {event: profile_completed, timeout: 3}
          - {id: nap, wait: {duration: 0d}}
          - {id: done, exit: finished}
        """
    )
    assert found == [
        (4, 19, "entry.cooldown", '"30days" is not a duration; write 30d'),
        (5, 43, "goal.within", '"14 days" is not a duration; write 14d'),
        (7, 23, "steps[0].wait", '"3 days" is not a duration; write 3d'),
        (
            9,
            51,
            "steps[1].wait_for.timeout",
            "3 is not a duration; write a number and a unit (s, m, h, d, w), e.g. 3d, 12h, 1d12h",
        ),
        (10, 32, "steps[2].wait.duration", '"0d" is zero; a duration must be longer than nothing'),
    ]


def test_bad_time_of_day(problems: Problems) -> None:
    found = problems(
        """
        journey: demo
        stage: acquisition
        trigger: {event: signed_up}
        steps:
          - {id: morning, wait: {until: "25:00"}}
          - {id: later, wait: {duration: 1d, until: 9am}}
          - {id: nothing, wait: {}}
        """
    )
    hint = "is not a time of day; write HH:MM in 24-hour time, e.g. 09:00"
    assert found == [
        (5, 33, "steps[0].wait.until", f'"25:00" {hint}'),
        (6, 45, "steps[1].wait.until", f'"9am" {hint}'),
        (7, 25, "steps[2].wait", "wait needs a duration, an until time of day, or both"),
    ]


def test_unknown_stages(problems: Problems) -> None:
    found = problems(
        """
        journey: demo
        stage: acquisiton
        trigger: {event: signed_up}
        goal: {event: purchase_completed, within: 14d, stage: sold}
        steps:
          - {id: lost, set_stage: lapsd}
        """
    )
    assert found == [
        (
            2,
            8,
            "stage",
            f'"acquisiton" is not a lifecycle stage; use one of {STAGES}; did you mean "acquisition"?',
        ),
        (4, 55, "goal.stage", f'"sold" is not a lifecycle stage; use one of {STAGES}'),
        (
            6,
            27,
            "steps[0].set_stage",
            f'"lapsd" is not a lifecycle stage; use one of {STAGES}; did you mean "lapsed"?',
        ),
    ]


def test_bad_entry_rule_and_names(problems: Problems) -> None:
    found = problems(
        """
        journey: Demo
        stage: acquisition
        trigger: {event: Signed Up}
        entry: sometimes
        steps:
          - {id: done, exit: finished}
        """
    )
    assert found == [
        (1, 10, "journey", '"Demo" is not a valid name: use lower case letters, digits and _'),
        (3, 18, "trigger.event", '"Signed Up" is not a valid name: use lower case letters, digits and _'),
        (4, 8, "entry", '"sometimes" is not an entry rule; use once, always or {cooldown: 30d}'),
    ]


def test_a_step_with_two_kinds_or_none(problems: Problems) -> None:
    found = problems(
        """
        journey: demo
        stage: acquisition
        trigger: {event: signed_up}
        steps:
          - {id: both, send: {email: welcome}, award: {points: 1, reason: Both}}
          - {id: neither, description: does nothing}
        """
    )
    assert found == [
        (5, 5, "steps[0]", "a step does one thing, but this one has send and award"),
        (
            6,
            5,
            "steps[1]",
            "a step needs exactly one of: send, wait, wait_for, branch, split, award, set_stage, exit",
        ),
    ]


def test_step_specs_that_contradict_themselves(problems: Problems) -> None:
    found = problems(
        """
        journey: demo
        stage: acquisition
        trigger: {event: signed_up}
        steps:
          - {id: both, send: {email: welcome, webhook: sms}}
          - {id: payload, send: {email: welcome, payload: {a: b}}}
          - {id: empty, award: {reason: Nothing}}
          - id: test
            split:
              variants: [{name: a, weight: 0}]
              control: 100
          - {id: done, exit: finished, next: both}
        """
    )
    assert found == [
        (5, 22, "steps[0].send", "send needs exactly one channel: email or webhook"),
        (6, 25, "steps[1].send", "payload goes with webhook, not email"),
        (7, 24, "steps[2].award", "award needs points, a badge, or both"),
        (10, 36, "steps[3].split.variants[0].weight", "Input should be greater than 0 (got 0)"),
        (11, 16, "steps[3].split.control", "Input should be less than or equal to 99 (got 100)"),
        (12, 38, "steps[4].next", "an exit step ends the journey; it cannot go next"),
    ]


def test_expression_syntax_errors_and_unknown_names(problems: Problems) -> None:
    found = problems(
        """
        journey: demo
        stage: acquisition
        trigger: {event: signed_up, where: "data.source == 'ads'"}
        goal: {event: purchase_completed, within: 14d, where: "customer.__class__"}
        steps:
          - id: route
            branch:
              cases:
                - {when: "customer.points >", next: done}
                - {when: "profile.complete", next: done}
          - id: wait_big
            wait_for: {event: purchase_completed, timeout: 3d, where: "event.properties.total >>"}
          - {id: done, exit: finished}
        """
    )
    assert found == [
        (
            3,
            36,
            "trigger.where",
            "\"data.source == 'ads'\" uses unknown name data; a condition can use customer, event",
        ),
        (
            4,
            55,
            "goal.where",
            '"customer.__class__" reads "__class__"; names starting with _ are not allowed',
        ),
        (
            9,
            18,
            "steps[0].branch.cases[0].when",
            "\"customer.points >\" is not a valid condition: unexpected ')'",
        ),
        (
            10,
            18,
            "steps[0].branch.cases[1].when",
            '"profile.complete" uses unknown name profile; a condition can use '
            "customer, event, data, journey",
        ),
        (
            12,
            63,
            "steps[1].wait_for.where",
            "\"event.properties.total >>\" is not a valid condition: unexpected '>'",
        ),
    ]


def test_templates_that_do_not_exist(problems: Problems, workspace: Path) -> None:
    (workspace / "templates" / "half_done").mkdir()
    (workspace / "templates" / "half_done" / "subject.txt").write_text("Hi")
    found = problems(
        """
        journey: demo
        stage: acquisition
        trigger: {event: signed_up}
        steps:
          - {id: hello, send: {email: welcom}}
          - {id: half, send: {email: half_done}}
        """
    )
    assert found == [  # paths relative to the journeys folder: never where the server keeps it
        (
            5,
            31,
            "steps[0].send.email",
            'email template "welcom" does not exist (no folder templates/welcom)',
        ),
        (
            6,
            30,
            "steps[1].send.email",
            'email template "half_done" lacks body.html, body.txt in templates/half_done',
        ),
    ]


def _template(workspace: Path, name: str, subject: str, html: str, text: str) -> None:
    folder = workspace / "templates" / name
    folder.mkdir()
    (folder / "subject.txt").write_text(subject)
    (folder / "body.html").write_text(html)
    (folder / "body.txt").write_text(text)


def test_templates_that_do_not_render_against_the_sample_customer(
    problems: Problems, workspace: Path
) -> None:
    _template(
        workspace, "colour", "Hi {{ customer.first_name }}", "<p>{{ customer.favourite_colour }}</p>", "x"
    )
    found = problems(
        """
        journey: demo
        stage: acquisition
        trigger: {event: signed_up}
        steps:
          - {id: hello, send: {email: colour}}
          - id: sms
            send:
              webhook: sms
              payload: {text: "{{ event.properties.code }}"}
        """
    )
    assert found == [
        (
            5,
            31,
            "steps[0].send.email",
            "template \"colour\" does not render against the sample customer: 'dict object' has no attribute"
            " 'favourite_colour' (add it to the journey's sample: or guard it with `is defined`)",
        ),
        (
            9,
            16,
            "steps[1].send.payload",
            "template \"payload\" does not render against the sample customer: 'dict object' has no attribute"
            " 'code' (add it to the journey's sample: or guard it with `is defined`)",
        ),
    ]


def test_sample_data_makes_templates_render(write: WriteJourney, workspace: Path) -> None:
    _template(workspace, "colour", "Hi", "<p>{{ customer.favourite_colour }}</p>", "{{ data.code }}")
    path = write(
        """
        journey: demo
        stage: acquisition
        trigger: {event: signed_up}
        steps:
          - {id: hello, send: {email: colour}}
        sample:
          customer: {favourite_colour: teal}
          data: {code: WELCOME10}
        """
    )
    assert compile_file(path).node("hello").kind == "send_email"


def test_template_syntax_errors(problems: Problems, workspace: Path) -> None:
    _template(workspace, "broken", "Hi", "<p>{{ customer.first_name </p>", "ok")
    _template(workspace, "includes", "Hi", "{% include '_missing.html' %}", "ok")
    found = problems(
        """
        journey: demo
        stage: acquisition
        trigger: {event: signed_up}
        steps:
          - {id: hello, send: {email: broken}}
          - {id: again, send: {email: includes}}
        """
    )
    assert found == [
        (
            5,
            31,
            "steps[0].send.email",
            "template \"broken\" has a syntax error at broken/body.html:1: unexpected '/'",
        ),
        (6, 31, "steps[1].send.email", 'template "includes" includes "_missing.html", which does not exist'),
    ]


def test_locale_variants_are_checked_too(problems: Problems, workspace: Path) -> None:
    (workspace / "templates" / "welcome" / "subject.id.txt").write_text("Halo {{ customer.nama }}")
    found = problems(
        """
        journey: demo
        stage: acquisition
        trigger: {event: signed_up}
        steps:
          - {id: hello, send: {email: welcome}}
        """
    )
    assert [(line, path) for line, _, path, _ in found] == [(5, "steps[0].send.email")]
    assert "has no attribute 'nama'" in found[0][3]


def test_structural_errors_do_not_hide_the_others(problems: Problems, workspace: Path) -> None:
    _template(workspace, "colour", "Hi", "{{ customer.favourite_colour }}", "x")
    found = problems(
        """
        journey: demo
        stage: acquisition
        trigger: {event: signed_up, wher: "customer.points > 1"}
        steps:
          - {id: welcome, send: {email: welcome}, nxt: done}
          - {id: welcome, wait: 3 days}
          - {id: route, branch: {cases: [{when: "customer.points >", next: nowhere}]}}
          - {id: hello, send: {email: colour}}
          - {id: done, exit: finished}
        """
    )
    assert [(line, path) for line, _, path, _ in found] == [
        (3, "trigger.wher"),
        (5, "steps[0].nxt"),
        (6, "steps[1].id"),
        (6, "steps[1].wait"),
        (7, "steps[2].branch.cases[0].when"),
        (7, "steps[2].branch.cases[0].next"),
        (8, "steps[3].send.email"),
    ]


def test_broken_sample_skips_template_checks_but_not_the_graph(problems: Problems) -> None:
    found = problems(
        """
        journey: demo
        stage: acquisition
        trigger: {event: signed_up}
        steps:
          - {id: hello, send: {email: welcome}, next: nowhere}
        sample: {customers: {}}
        """
    )
    assert found == [
        (5, 47, "steps[0].next", 'goes to step "nowhere", which does not exist'),
        (6, 10, "sample.customers", 'unknown key "customers"; did you mean "customer"?'),
    ]


def test_a_folder_reports_every_file_and_journeys_defined_twice(workspace: Path) -> None:
    journey = "journey: demo\nstage: acquisition\ntrigger: {event: signed_up}\nsteps: [{id: done, exit: x}]\n"
    (workspace / "a.yaml").write_text(journey)
    (workspace / "b.yml").write_text(journey)
    (workspace / "c.yaml").write_text(journey.replace("demo", "other").replace("exit: x", "exit: x, nxt: y"))
    with pytest.raises(JourneyValidationError) as info:
        load_directory(workspace)
    assert [str(e) for e in info.value.errors] == [
        f'{workspace}:1:1 journey: "demo" is defined twice',
        f'{workspace}:1:1 journey: "demo" is defined twice',
        'c.yaml:4:29 steps[0].nxt: unknown key "nxt"; did you mean "next"?',
    ]


def test_every_example_journey_is_valid() -> None:
    plans = load_directory(Path(__file__).resolve().parents[2] / "journeys")
    assert sorted(plan.journey for plan in plans) == [
        "challenge",
        "earn_on_purchase",
        "engagement",
        "onboarding",
        "points_expiring",
        "referral_native",
        "tier_downgrade",
        "vip_weekly",
        "winback",
        "winback_personal",
    ]
