"""The loyalty program the workflow tests and the recorded histories run."""

from __future__ import annotations

from engine.loyalty.loader import validate_program_text
from engine.loyalty.program import Program

PROGRAM_TEXT = """
program: test
tiers:
  qualify_on: window
  window_months: 1
  review_every: 30d
  grace: 20d
  warn_before: 7d
  levels:
    - {name: member, threshold: 0}
    - {name: silver, threshold: 100}
earning:
  - id: purchase
    event: purchase_completed
    points: event.properties.total // 100
    reason: Purchase
    caps: {per_day: 500}
  - id: profile
    event: profile_completed
    points: 150
    reason: Completed profile
    pending: false
    tier_multiplier: false
pending: {days: 14, refund_event: order_refunded, match_on: order_id}
expiry: {after_months: 12, remind_before: 30d}
"""


def program() -> Program:
    parsed, errors = validate_program_text(PROGRAM_TEXT, "test.yaml")
    assert parsed is not None, errors
    return parsed
