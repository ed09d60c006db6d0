"""Inputs and outputs of the activities: the contract between the workflow and the side effects.

``key`` is the idempotency key: ``{workflow_id}/{entry_id}/{step}/{visit}``. It reaches the
delivery log, the points ledger and the Message-ID, so a retry never awards twice and never repeats
a send already logged; an email whose earlier attempt stopped after the SMTP server may have taken
it is resent with the same Message-ID or recorded "uncertain" (``JOURNEYS_UNCERTAIN_SEND_POLICY``).
``at`` is the workflow's clock (``workflow.now()``), so records follow simulated time too.
Requests and results are written into history for every run: their JSON leaves out the fields at
their zero defaults (``contracts.compact``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import Field

from contracts.compact import Compact
from contracts.records import RecordKind, StepRecord


class StepMark(Compact):
    """A step record of the request's own run, without what the request says already (journey,
    version, run, customer, entry): the records a request carries cost history once per run."""

    step: str | None
    kind: RecordKind
    detail: str = ""
    at: datetime | None = None  # None: the request's ``at``
    seq: int | None = None

    @classmethod
    def of(cls, record: StepRecord, at: datetime) -> StepMark:
        when = None if record.at == at else record.at
        return cls(step=record.step, kind=record.kind, detail=record.detail, at=when, seq=record.seq)


class StepContext(Compact):
    key: str
    workflow_id: str
    journey: str
    version: str
    step: str
    customer_id: str
    at: datetime
    # Step records gathered since the last write, stored in the same transaction as the effect:
    # ``marks`` (of this run's ``entry``), or whole ``records`` as requests made before carried them.
    records: list[StepRecord] = Field(default_factory=list)
    entry: str = ""
    marks: list[StepMark] = Field(default_factory=list)

    def step_records(self) -> list[StepRecord]:
        """Every step record the request carries, whole."""
        return [
            *self.records,
            *(
                StepRecord(
                    journey=self.journey,
                    version=self.version,
                    workflow_id=self.workflow_id,
                    customer_id=self.customer_id,
                    step=mark.step,
                    kind=mark.kind,
                    detail=mark.detail,
                    at=mark.at or self.at,
                    entry=self.entry,
                    seq=mark.seq,
                )
                for mark in self.marks
            ),
        ]


class SendPolicy(Compact):
    """What the send step says of the channel policy (None: the policy file decides)."""

    message_class: Literal["transactional", "marketing"] | None = None
    quiet_hours: Literal["hold", "skip"] | None = None
    held: str | None = None  # why an earlier attempt waited (quiet hours): the sent result says so


class SendEmailRequest(StepContext, SendPolicy):
    hold_if_paused: bool = False  # a paused journey: send nothing, answer "held"
    template: str
    # None: the activity reads the templates of ``journey`` at ``version`` (the plan it sends for);
    # requests scheduled before plans went by reference carry them here.
    templates: dict[str, str] | None = None
    event: dict[str, Any] = Field(default_factory=dict)
    data: dict[str, Any] = Field(default_factory=dict)


class SendWebhookRequest(StepContext, SendPolicy):
    hold_if_paused: bool = False
    message_type: str
    payload: dict[str, Any] = Field(default_factory=dict)
    event: dict[str, Any] = Field(default_factory=dict)
    data: dict[str, Any] = Field(default_factory=dict)


class DeliveryResult(Compact):
    # held: the journey is paused, not sent. uncertain: an earlier attempt may have delivered it and
    # the policy forbids sending again (JOURNEYS_UNCERTAIN_SEND_POLICY=skip). quiet: the channel's
    # quiet hours hold it until ``until``; nothing sent or logged (the run sends again then).
    status: Literal["sent", "skipped", "failed", "held", "uncertain", "quiet"]
    channel: Literal["email", "webhook"]
    # Why it was skipped, failed or uncertain; on "sent", set when it was sent again after an
    # attempt whose outcome is unknown (the receiver may get it twice, with the same Message-ID),
    # or after quiet hours held it ("held: quiet hours 21:00-08:00 Asia/Jakarta until ...").
    reason: str | None = None
    recipient: str | None = None
    subject: str | None = None
    message_id: str | None = None
    until: datetime | None = None  # on "quiet": when the quiet hours end


class AwardRequest(StepContext):
    points: int
    reason: str
    badge: str | None = None
    # customer: the run's own; referrer: the customer who referred them (keyed per recipient).
    to: Literal["customer", "referrer"] = "customer"


class AwardResult(Compact):
    points: int
    balance: int
    lifetime_points: int
    tier: str | None = None  # None: no tier (results recorded before wrote it out)
    previous_tier: str | None = None
    badge: str | None = None
    badge_new: bool = False  # the badge was not held before this award (a badge_awarded event)
    duplicate: bool = False
    recipient: str | None = None  # who received it, when not the run's customer
    skipped: str | None = None  # why nothing was awarded ("no referrer")


class SetStageRequest(StepContext):
    stage: str


class StageResult(Compact):
    previous: str
    stage: str
