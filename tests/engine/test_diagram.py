"""Journeys drawn as Mermaid flowcharts: every step, every outcome labelled, counts when given."""

from __future__ import annotations

from pathlib import Path

from engine.diagram import mermaid
from engine.loader import compile_file
from tests.support.journey_files import WriteJourney

JOURNEYS = Path(__file__).resolve().parents[2] / "journeys"


def test_engagement_diagram_in_full() -> None:
    assert mermaid(compile_file(JOURNEYS / "engagement.yaml")) == (
        "flowchart TD\n"
        '    START(("tier_changed")) --> which_tier\n'
        '    which_tier{"which_tier<br/>branch"}\n'
        '    congratulate["congratulate<br/>email: tier_upgrade"]\n'
        '    gold_early_access["gold_early_access<br/>email: gold_early_access"]\n'
        '    gold_badge["gold_badge<br/>award badge gold_member"]\n'
        '    loyal["loyal<br/>stage: loyalty"]\n'
        '    retained["retained<br/>stage: retention"]\n'
        '    done(("done<br/>exit: celebrated"))\n'
        "    which_tier -->|\"event.properties.tier == 'gold'\"| gold_early_access\n"
        '    which_tier -->|"else"| congratulate\n'
        "    congratulate --> retained\n"
        "    gold_early_access --> gold_badge\n"
        "    gold_badge --> loyal\n"
        "    loyal --> done\n"
        "    retained --> done\n"
    )


def test_onboarding_outcomes_split_and_end() -> None:
    lines = mermaid(compile_file(JOURNEYS / "onboarding.yaml")).splitlines()
    assert '    wait_profile(["wait_profile<br/>wait for profile_completed<br/>up to 3d"])' in lines
    assert '    wait_profile -->|"profile_completed"| profile_bonus' in lines
    assert '    wait_profile -->|"timeout"| nudge_profile' in lines
    assert '    pick_offer{"pick_offer<br/>A/B split"}' in lines
    assert '    pick_offer -->|"discount 50"| offer_discount' in lines
    assert '    pick_offer -->|"control 10%"| FINISH' in lines
    assert '    signup_bonus["signup_bonus<br/>award +100 points, badge newcomer"]' in lines
    assert "    not_activated --> FINISH" in lines
    assert lines[-1] == '    FINISH(("end"))'


def test_webhook_and_counts() -> None:
    text = mermaid(compile_file(JOURNEYS / "winback.yaml"), counts={"watch": 120, "at_risk": 7})
    assert '    watch(["watch<br/>wait for purchase_completed<br/>up to 4w2d<br/><b>120</b>"])' in text
    assert '    at_risk["at_risk<br/>stage: at_risk<br/><b>7</b>"]' in text
    assert '    winback_sms["winback_sms<br/>webhook: winback_sms<br/><b>0</b>"]' in text
    assert '    watch -->|"purchase_completed"| watch' in text


def test_names_mermaid_would_misread_and_quotes(write: WriteJourney) -> None:
    path = write(
        """
        journey: demo
        stage: acquisition
        trigger: {event: signed_up}
        steps:
          - {id: start, wait: {until: "09:00"}}
          - id: route
            branch:
              cases: [{when: 'customer.tier == "gold" and customer.points >= 500', next: end}]
              else: finish
          - {id: finish, wait: 1d12h}
          - {id: end, exit: done}
        """
    )
    lines = mermaid(compile_file(path)).splitlines()
    assert lines[1] == '    START(("signed_up")) --> start'
    assert '    start(["start<br/>wait until 09:00"])' in lines
    assert '    finish(["finish<br/>wait 1d12h"])' in lines
    assert '    End(("end<br/>exit: done"))' in lines
    assert '    route -->|"customer.tier == #quot;gold#quot; and customer.points >= 500"| End' in lines
    assert '    route -->|"else"| finish' in lines
    assert "    finish --> End" in lines
    assert not any(line.strip().startswith("FINISH") for line in lines)  # nothing ends without an exit
