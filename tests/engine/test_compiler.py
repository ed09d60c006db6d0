"""The compiler: plan shape for every example journey, determinism, and content versions."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from engine import plan as p
from engine.loader import compile_file, journey_files
from tests.support.backend_referral import backend_referral_plan
from tests.support.journey_files import WriteJourney

REPO = Path(__file__).resolve().parents[2]
JOURNEYS = REPO / "journeys"


def successors(node: p.Node) -> list[str | None]:
    if isinstance(node, p.WaitForNode):
        return [node.on_event, node.on_timeout]
    if isinstance(node, p.BranchNode):
        return [case.next for case in node.cases] + [node.otherwise]
    if isinstance(node, p.SplitNode):
        return [variant.next for variant in node.variants]
    if isinstance(node, p.ExitNode):
        return []
    return [node.next]


def shape(plan: p.Plan) -> list[tuple[str, str, list[str | None]]]:
    return [(node.id, node.kind, successors(node)) for node in plan.nodes]


def test_every_example_journey_is_covered_here() -> None:
    assert [f.name for f in journey_files(JOURNEYS)] == [
        "challenge.yaml",
        "earn_on_purchase.yaml",
        "engagement.yaml",
        "onboarding.yaml",
        "points_expiring.yaml",
        "referral_native.yaml",
        "tier_downgrade.yaml",
        "vip_weekly.yaml",
        "winback.yaml",
        "winback_personal.yaml",
    ]


def test_vip_weekly_plan_is_scheduled() -> None:
    plan = compile_file(JOURNEYS / "vip_weekly.yaml")
    schedule = p.PlanSchedule(every="monday", at="09:00", segment="vip")
    assert plan.trigger == p.PlanTrigger(event=p.SCHEDULED_EVENT, schedule=schedule)
    assert plan.entry == p.PlanEntry(mode="always")
    assert shape(plan) == [
        ("digest", "send_email", ["browse"]),
        ("browse", "wait_for", ["thanks", "done"]),
        ("thanks", "award", ["done"]),
        ("done", "exit", []),
    ]


def test_onboarding_plan() -> None:
    plan = compile_file(JOURNEYS / "onboarding.yaml")
    assert (plan.journey, plan.stage, plan.start) == ("onboarding", "acquisition", "joined")
    assert plan.trigger == p.PlanTrigger(event="signed_up")
    assert plan.entry == p.PlanEntry(mode="once")
    assert plan.exit_on == ["unsubscribed"]
    assert plan.goal == p.PlanGoal(event="purchase_completed", within_seconds=14 * 86400, stage="conversion")
    assert shape(plan) == [
        ("joined", "set_stage", ["welcome"]),
        ("welcome", "send_email", ["signup_bonus"]),
        ("signup_bonus", "award", ["wait_profile"]),
        ("wait_profile", "wait_for", ["profile_bonus", "nudge_profile"]),
        ("profile_bonus", "award", ["wait_purchase"]),
        ("nudge_profile", "send_email", ["wait_purchase"]),
        ("wait_purchase", "wait_for", ["first_purchase_bonus", "pick_offer"]),
        ("first_purchase_bonus", "award", ["thank_you"]),
        ("thank_you", "send_email", ["activated"]),
        ("activated", "exit", []),
        ("pick_offer", "split", ["offer_discount", "offer_free_shipping"]),
        ("offer_discount", "send_email", ["wait_offer"]),
        ("offer_free_shipping", "send_email", ["wait_offer"]),
        ("wait_offer", "wait_for", ["first_purchase_bonus", "not_activated"]),
        ("not_activated", "set_stage", [None]),
    ]
    wait_profile = plan.node("wait_profile")
    assert isinstance(wait_profile, p.WaitForNode)
    assert (wait_profile.event, wait_profile.timeout_seconds) == ("profile_completed", 3 * 86400)
    assert wait_profile.on_timeout == "nudge_profile"
    assert plan.node("profile_bonus").next == "wait_purchase"
    wait_purchase = plan.node("wait_purchase")
    assert isinstance(wait_purchase, p.WaitForNode)
    assert wait_purchase.timeout_seconds == 7 * 86400
    pick_offer = plan.node("pick_offer")
    assert isinstance(pick_offer, p.SplitNode)
    assert pick_offer.variants == [
        p.SplitVariant(name="discount", weight=50, next="offer_discount"),
        p.SplitVariant(name="free_shipping", weight=50, next="offer_free_shipping"),
    ]
    assert pick_offer.control_percent == 10
    bonus = plan.node("signup_bonus")
    assert isinstance(bonus, p.AwardNode)
    assert (bonus.points, bonus.reason, bonus.badge) == (100, "Sign-up bonus", "newcomer")
    welcome = plan.node("welcome")
    assert isinstance(welcome, p.SendEmailNode) and welcome.template == "welcome"
    activated = plan.node("activated")
    assert isinstance(activated, p.ExitNode) and activated.reason == "first purchase"
    assert sorted({name.split("/")[0] for name in plan.templates}) == [
        "_layout.html",
        "complete_your_profile",
        "first_purchase_thanks",
        "offer_discount",
        "offer_free_shipping",
        "welcome",
    ]
    assert (
        plan.templates["welcome/subject.id.txt"]
        == (JOURNEYS / "templates/welcome/subject.id.txt").read_text()
    )
    assert plan.events() == ["signed_up", "unsubscribed", "purchase_completed", "profile_completed"]


def test_engagement_plan() -> None:
    plan = compile_file(JOURNEYS / "engagement.yaml")
    assert (plan.journey, plan.stage, plan.start, plan.goal) == ("engagement", "loyalty", "which_tier", None)
    assert plan.trigger == p.PlanTrigger(
        event="tier_changed", where="event.properties.tier in ['silver', 'gold']"
    )
    assert plan.entry == p.PlanEntry(mode="always")
    assert shape(plan) == [
        ("which_tier", "branch", ["gold_early_access", "congratulate"]),
        ("congratulate", "send_email", ["retained"]),
        ("gold_early_access", "send_email", ["gold_badge"]),
        ("gold_badge", "award", ["loyal"]),
        ("loyal", "set_stage", ["done"]),
        ("retained", "set_stage", ["done"]),
        ("done", "exit", []),
    ]
    branch = plan.node("which_tier")
    assert isinstance(branch, p.BranchNode)
    assert branch.cases == [p.BranchCase(when="event.properties.tier == 'gold'", next="gold_early_access")]
    badge = plan.node("gold_badge")
    assert isinstance(badge, p.AwardNode) and (badge.points, badge.badge) == (0, "gold_member")
    loyal = plan.node("loyal")
    assert isinstance(loyal, p.SetStageNode) and loyal.stage == "loyalty"
    assert sorted({name.split("/")[0] for name in plan.templates}) == [
        "_layout.html",
        "gold_early_access",
        "tier_upgrade",
    ]


def test_backend_referral_plan_is_the_one_its_histories_recorded() -> None:
    plan = backend_referral_plan()
    recorded = REPO / "tests" / "workflows" / "histories" / "plans" / f"referral-{plan.version}.json"
    assert recorded.exists()  # the fixture compiles to the version its recorded histories name
    assert (plan.journey, plan.start, plan.entry.mode, plan.trigger.event) == (
        "referral",
        "referral_bonus",
        "always",
        "referral_completed",
    )
    assert shape(plan) == [
        ("referral_bonus", "award", ["thank_referrer"]),
        ("thank_referrer", "send_email", [None]),
    ]
    bonus = plan.node("referral_bonus")
    assert isinstance(bonus, p.AwardNode) and (bonus.points, bonus.badge) == (250, "ambassador")


def test_native_referral_plan() -> None:
    plan = compile_file(JOURNEYS / "referral_native.yaml")
    assert (plan.start, plan.entry.mode, plan.trigger.event) == (
        "thank_referrer",
        "always",
        "referral_qualified",
    )
    assert shape(plan) == [
        ("thank_referrer", "send_email", ["ambassador_yet"]),
        ("ambassador_yet", "branch", ["done", "ambassador"]),
        ("ambassador", "award", ["done"]),
        ("done", "exit", []),
    ]


def test_loyalty_journeys_plans() -> None:
    challenge = compile_file(JOURNEYS / "challenge.yaml")
    bonus = challenge.node("streak_bonus")
    assert isinstance(bonus, p.AwardNode)
    assert (bonus.points, bonus.points_expression) == (0, "(event.properties.round - 1) * 50")
    winback = compile_file(JOURNEYS / "winback_personal.yaml")
    assert shape(winback) == [
        ("watch", "wait_for", ["watch", "lapsing"]),
        ("lapsing", "set_stage", ["which_offer"]),
        ("which_offer", "branch", ["category_offer", "general_offer"]),
        ("category_offer", "send_email", ["wait_return"]),
        ("general_offer", "send_email", ["wait_return"]),
        ("wait_return", "wait_for", ["comeback_bonus", "lapsed"]),
        ("comeback_bonus", "award", ["back"]),
        ("back", "exit", []),
        ("lapsed", "set_stage", [None]),
    ]
    triggers = {
        name: compile_file(JOURNEYS / f"{name}.yaml").trigger.event
        for name in ("points_expiring", "tier_downgrade", "earn_on_purchase")
    }
    assert triggers == {
        "points_expiring": "points_expiring",
        "tier_downgrade": "tier_downgrade_warning",
        "earn_on_purchase": "points_earned",
    }


def test_winback_plan() -> None:
    plan = compile_file(JOURNEYS / "winback.yaml")
    assert (plan.journey, plan.stage, plan.start) == ("winback", "retention", "watch")
    assert plan.goal == p.PlanGoal(
        event="purchase_completed",
        within_seconds=60 * 86400,
        stage="won_back",
        where="customer.stage in ['at_risk', 'lapsed']",
    )
    assert shape(plan) == [
        ("watch", "wait_for", ["watch", "at_risk"]),
        ("at_risk", "set_stage", ["winback_offer"]),
        ("winback_offer", "send_email", ["wait_return"]),
        ("wait_return", "wait_for", ["won_back", "winback_sms"]),
        ("won_back", "set_stage", ["welcome_back_bonus"]),
        ("welcome_back_bonus", "award", ["back"]),
        ("back", "exit", []),
        ("winback_sms", "send_webhook", ["last_chance"]),
        ("last_chance", "wait_for", ["won_back", "lapsed"]),
        ("lapsed", "set_stage", [None]),
    ]
    timeouts = {n.id: n.timeout_seconds for n in plan.nodes if isinstance(n, p.WaitForNode)}
    assert timeouts == {"watch": 30 * 86400, "wait_return": 7 * 86400, "last_chance": 14 * 86400}
    sms = plan.node("winback_sms")
    assert isinstance(sms, p.SendWebhookNode)
    assert sms.message_type == "winback_sms"
    assert sms.payload["phone"] == "{{ customer.traits.phone | default('') }}"
    assert sorted({name.split("/")[0] for name in plan.templates}) == ["_layout.html", "winback_offer"]


def test_small_forms_compile(write: WriteJourney) -> None:
    path = write(
        """
        journey: demo
        stage: retention
        trigger: {event: visited, where: "customer.points > 10"}
        entry: {cooldown: 30d}
        goal: {event: purchase_completed, within: 1w, exit: true}
        steps:
          - {id: nap, wait: 1d12h}
          - {id: morning, wait: {duration: 1d, until: "9:30"}}
          - {id: evening, wait: {until: "18:00"}}
          - id: ping
            send: {webhook: push, payload: {title: "Hi {{ customer.first_name }}"}}
          - {id: done, exit: null}
        """
    )
    plan = compile_file(path)
    assert plan.entry == p.PlanEntry(mode="cooldown", cooldown_seconds=30 * 86400)
    assert plan.goal == p.PlanGoal(event="purchase_completed", within_seconds=7 * 86400, exit=True)
    assert plan.trigger.where == "customer.points > 10"
    waits = [(n.seconds, n.until) for n in plan.nodes if isinstance(n, p.WaitNode)]
    assert waits == [(129600, None), (86400, "09:30"), (0, "18:00")]
    assert plan.node("ping") == p.SendWebhookNode(
        id="ping", next="done", message_type="push", payload={"title": "Hi {{ customer.first_name }}"}
    )
    assert plan.node("done") == p.ExitNode(id="done", next=None, reason="done")
    assert plan.templates == {}  # no email, no templates carried


def test_plan_round_trips_as_json() -> None:
    plan = compile_file(JOURNEYS / "onboarding.yaml")
    again = p.Plan.model_validate_json(plan.model_dump_json())
    assert again == plan
    assert again.version == plan.version


def test_compiling_is_deterministic() -> None:
    first = compile_file(JOURNEYS / "winback.yaml")
    second = compile_file(JOURNEYS / "winback.yaml")
    assert first == second
    assert first.model_dump_json() == second.model_dump_json()
    assert re.fullmatch(r"[0-9a-f]{12}", first.version)


def test_versions_are_the_same_in_another_process() -> None:
    here = {f.name: compile_file(f) for f in journey_files(JOURNEYS)}
    script = (
        "import json, pathlib\n"
        "from engine.loader import compile_file, journey_files\n"
        "files = journey_files(pathlib.Path('journeys'))\n"
        "plans = {f.name: compile_file(f).model_dump(mode='json') for f in files}\n"
        "print(json.dumps(plans))\n"
    )
    found = []
    for seed in ("1", "12345"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        result = subprocess.run(
            [sys.executable, "-c", script], cwd=REPO, env=env, capture_output=True, text=True, check=True
        )
        found.append(json.loads(result.stdout))
    for plans in found:
        assert plans == {name: plan.model_dump(mode="json") for name, plan in here.items()}


@pytest.fixture
def onboarding_copy(workspace: Path) -> Path:
    shutil.copy(JOURNEYS / "onboarding.yaml", workspace / "onboarding.yaml")
    return workspace / "onboarding.yaml"


def test_same_content_same_version_wherever_it_lives(onboarding_copy: Path) -> None:
    assert compile_file(onboarding_copy).version == compile_file(JOURNEYS / "onboarding.yaml").version


def test_comments_and_layout_do_not_change_the_version(onboarding_copy: Path) -> None:
    before = compile_file(onboarding_copy).version
    text = onboarding_copy.read_text()
    onboarding_copy.write_text("# a comment\n" + text.replace("steps:\n", "\nsteps:  # the steps\n"))
    assert compile_file(onboarding_copy).version == before


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("points: 100, reason: Sign-up bonus", "points: 150, reason: Sign-up bonus"),
        ("timeout: 3d", "timeout: 4d"),
        ("control: 10", "control: 20"),
        ("entry: once", "entry: always"),
        ("Acquisition and activation", "Activation and acquisition"),
    ],
)
def test_any_change_to_the_journey_changes_the_version(onboarding_copy: Path, old: str, new: str) -> None:
    before = compile_file(onboarding_copy).version
    text = onboarding_copy.read_text()
    assert old in text
    onboarding_copy.write_text(text.replace(old, new))
    assert compile_file(onboarding_copy).version != before


@pytest.mark.parametrize(
    "template",
    ["welcome/subject.txt", "welcome/body.id.html", "complete_your_profile/body.txt", "_layout.html"],
)
def test_any_change_to_a_template_changes_the_version(onboarding_copy: Path, template: str) -> None:
    before = compile_file(onboarding_copy)
    path = onboarding_copy.parent / "templates" / template
    path.write_text(path.read_text() + "\n<!-- edited -->\n")
    after = compile_file(onboarding_copy)
    assert after.version != before.version
    assert after.templates[template].endswith("<!-- edited -->\n")


def test_templates_of_other_emails_do_not_change_the_version(onboarding_copy: Path) -> None:
    before = compile_file(onboarding_copy).version
    path = onboarding_copy.parent / "templates" / "winback_offer" / "body.txt"
    path.write_text(path.read_text() + "\nedited\n")
    assert compile_file(onboarding_copy).version == before
