"""``JourneyActivities``: the Temporal activities a journey run calls, one method per side effect.

Every method is idempotent by ``req.key``: the delivery log and the points ledger remember what a
key did, so a retry after a crash returns the recorded outcome instead of acting again.
Timestamps come from ``req.at`` (the workflow clock), never the wall clock.

One window stays open, because SMTP cannot be exactly-once: the server may accept an email and the
attempt stop before its delivery log entry is written. Each email is noted as a send intent
(committed) before the SMTP exchange; a retry that finds the note but no outcome follows
``JOURNEYS_UNCERTAIN_SEND_POLICY``: ``resend`` (at least once: sent again with the same Message-ID,
which receivers may use to drop the copy) or ``skip`` (at most once: logged as "uncertain").
Anything that goes wrong while rendering a template fails the step for good: retrying cannot help.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any, Literal

from sqlalchemy.exc import SQLAlchemyError
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.award_events import award_events
from activities.channel_gate import ChannelGate, Gate
from activities.context import template_context
from activities.email import (
    SMTP_INTERRUPTED,
    Unsubscribe,
    build_message,
    message_id_for,
    send_message,
    sender_domain,
)
from activities.email import unsubscribe_mailto as mailto_for
from activities.events import EventSink
from activities.plans import StoredPlans
from activities.smtp_connections import SmtpConnections
from activities.tracking_links import tracked_send
from activities.unsubscribe_tokens import make_token
from activities.webhook import post_webhook
from config.settings import Settings
from contracts.activities import (
    AwardRequest,
    AwardResult,
    DeliveryResult,
    SendEmailRequest,
    SendWebhookRequest,
    SetStageRequest,
    StageResult,
    StepContext,
)
from contracts.customers import CustomerSnapshot
from contracts.ids import derived_id
from contracts.records import StepRecord
from engine.limits import MAX_POINTS
from engine.templates import render_email, render_value
from store import Store
from store.award_recipients import referrer_of
from store.deliveries import SentBody
from store.suppressions import suppression_of

log = logging.getLogger("journeys.activities")

#: Called with the activity's name right after its side effect is committed, and with
#: ``EMAIL_ACCEPTED`` once the SMTP server accepted an email, before it is logged (tests crash there).
FailAfter = Callable[[str], None]
EMAIL_ACCEPTED = "email_accepted"

KEY_LENGTH = 500  # the points ledger's key column
RESENT = "resent: an earlier attempt may have delivered it already (same Message-ID)"
NOT_RESENT = "an earlier attempt may have delivered it; not sent again (JOURNEYS_UNCERTAIN_SEND_POLICY=skip)"


class JourneyActivities:
    def __init__(
        self, store: Store, settings: Settings, events: EventSink, *, fail_after: FailAfter | None = None
    ) -> None:
        self.store = store
        self.settings = settings
        self.events = events
        self.fail_after = fail_after
        self.smtp = SmtpConnections(settings)
        self.plans = StoredPlans(store)
        self.gate = ChannelGate(store)

    async def close(self) -> None:
        """Close the SMTP connections kept open between sends; read no more plans."""
        self.plans.close()
        await self.smtp.close()

    def definitions(self) -> list[Callable[..., Any]]:
        """Every activity, ready for ``Worker(activities=...)``."""
        return [
            self.load_customer,
            self.send_email,
            self.send_webhook,
            self.award,
            self.set_stage,
            self.record_steps,
        ]

    @activity.defn(name="load_customer")
    async def load_customer(self, customer_id: str, at: datetime | None = None) -> CustomerSnapshot:
        """The customer as the run sees them at ``at``, its workflow time (None, as runs started
        before the time was passed asked: now)."""
        return await self.store.customers.snapshot(customer_id, at)

    @activity.defn(name="send_email")
    async def send_email(self, req: SendEmailRequest) -> DeliveryResult:
        settled = await self._settled_or_customer(req, "email", req.hold_if_paused)
        if isinstance(settled, DeliveryResult):
            return settled
        customer = settled
        reason = _no_email_reason(customer)
        if customer.email and reason in (None, "unsubscribed"):  # an address that bounced or complained
            suppressed = await suppression_of(self.store.engine, customer.email)
            reason = f"suppressed: {suppressed}" if suppressed else reason
        if reason is not None:
            return await self._record(req, DeliveryResult(status="skipped", channel="email", reason=reason))
        assert customer.email is not None
        gate = await self.gate.check(req, customer)
        if gate.verdict is not None:
            return await self._not_sent(req, gate.verdict)
        token = make_token(customer.id, self.settings.unsubscribe_secret)
        unsubscribe = Unsubscribe(
            url=f"{self.settings.public_base_url.rstrip('/')}/unsubscribe/{token}",
            mailto=mailto_for(self.settings, token),
        )
        context = template_context(req, customer, req.event, req.data, unsubscribe.url)
        templates = req.templates if req.templates is not None else await self._templates(req)
        try:
            rendered = render_email(templates, req.template, context, locale=customer.locale)
        except Exception as exc:  # whatever a template raises, a retry renders the same: permanent
            raise _render_failed(f'email template "{req.template}"', exc) from exc
        message_id = message_id_for(req.key, sender_domain(self.settings))
        tracked = None  # links through /t/c/ and an open pixel, unless the journey says tracking: false
        outgoing = rendered
        plan = await self.plans.get(req.journey, req.version)
        if self.settings.track_engagement and (plan is None or plan.tracking):
            outgoing, tracked = tracked_send(req, rendered, self.settings, keep={unsubscribe.url})
        message = build_message(
            sender=self.settings.mail_from,
            recipient=customer.email,
            rendered=outgoing,
            message_id=message_id,
            unsubscribe=unsubscribe,
            date=req.at,
            headers={"X-Journey": req.journey, "X-Journey-Step": req.step},
        )
        result = DeliveryResult(
            status="sent",
            channel="email",
            recipient=customer.email,
            subject=rendered.subject,
            message_id=message_id,
            reason=req.held,
        )
        capped = await self.gate.take(req, "email", gate)
        if capped is not None:
            return await self._record(req, capped)
        earlier = await self.store.deliveries.begin_send(
            req.key, "email", message_id=message_id, at=req.at, tracked=tracked
        )
        if earlier and self.settings.uncertain_send_policy == "skip":
            uncertain = result.model_copy(update={"status": "uncertain", "reason": NOT_RESENT})
            return await self._record(req, uncertain)
        try:
            await send_message(message, self.smtp)
        except ApplicationError as exc:
            # The server refused it or was never reached: this attempt leaves no doubt behind.
            if exc.type != SMTP_INTERRUPTED and not earlier:
                await self.store.deliveries.cancel_send(req.key)
            await self._failed(req, "email", exc, gate)
            raise
        self._committed(EMAIL_ACCEPTED)
        sent = result.model_copy(update={"reason": _joined(RESENT, req.held)}) if earlier else result
        return await self._record(req, sent, SentBody(html=rendered.html, text=rendered.text))

    @activity.defn(name="send_webhook")
    async def send_webhook(self, req: SendWebhookRequest) -> DeliveryResult:
        settled = await self._settled_or_customer(req, "webhook", req.hold_if_paused)
        if isinstance(settled, DeliveryResult):
            return settled
        url = self.settings.webhook_url
        if not url:
            skipped = DeliveryResult(status="skipped", channel="webhook", reason="no webhook_url configured")
            return await self._record(req, skipped)
        customer = settled
        gate = await self.gate.check(req, customer)
        if gate.verdict is not None:
            return await self._not_sent(req, gate.verdict)
        unsubscribe = f"{self.settings.public_base_url.rstrip('/')}/unsubscribe/" + make_token(
            customer.id, self.settings.unsubscribe_secret
        )
        context = template_context(req, customer, req.event, req.data, unsubscribe)
        try:
            payload = render_value(req.payload, context)
        except Exception as exc:  # whatever a template raises, a retry renders the same: permanent
            raise _render_failed(f'webhook "{req.message_type}" payload', exc) from exc
        body = {
            "id": req.key,
            "type": req.message_type,
            "journey": req.journey,
            "version": req.version,
            "step": req.step,
            "customer_id": req.customer_id,
            "customer_subscribed": customer.subscribed,
            "at": req.at.isoformat(),
            "payload": payload,
        }
        capped = await self.gate.take(req, "webhook", gate)
        if capped is not None:
            return await self._record(req, capped)
        try:
            await post_webhook(
                url,
                body,
                secret=self.settings.webhook_secret,
                key=req.key,
                timeout_seconds=self.settings.webhook_timeout_seconds,
            )
        except ApplicationError as exc:
            await self._failed(req, "webhook", exc, gate)
            raise
        sent = DeliveryResult(
            status="sent",
            channel="webhook",
            recipient=url,
            subject=req.message_type,
            message_id=req.key,
            reason=req.held,
        )
        return await self._record(req, sent)

    @activity.defn(name="award")
    async def award(self, req: AwardRequest) -> AwardResult:
        recipient, key = req.customer_id, req.key
        if req.to == "referrer":
            referrer = await referrer_of(self.store.engine, req.customer_id)
            if referrer is None:  # nobody to give it to: never a new customer holding the points
                await self.store.steps.record(req.step_records())
                return AwardResult(
                    points=0,
                    balance=0,
                    lifetime_points=0,
                    tier=None,
                    previous_tier=None,
                    skipped="no referrer",
                )
            # Keyed by the recipient too: each run's award to its referrer is its own, once.
            recipient, key = referrer, derived_id(req.key, f"to/{referrer}", KEY_LENGTH)
        result = await self._award_to(recipient, key, req)
        return result if recipient == req.customer_id else result.model_copy(update={"recipient": recipient})

    async def _award_to(self, recipient: str, key: str, req: AwardRequest) -> AwardResult:
        # A run scheduled before awards were capped may still hold a larger request: its retries get
        # the cap too, never a number the wallet's column cannot hold.
        result = await self.store.points.award(
            key,
            recipient,
            min(req.points, MAX_POINTS),
            req.reason,
            journey=req.journey,
            version=req.version,
            step=req.step,
            at=req.at,
            badge=req.badge,
            records=req.step_records(),
        )
        if not result.duplicate:
            self._committed("award")
        # Emitted on a duplicate too: the first attempt may have failed between commit and emit.
        # Event ids derive from the key, so the router applies each event once.
        for event in award_events(key, recipient, result, req.at):
            await self.events.emit(event)
        return result

    @activity.defn(name="set_stage")
    async def set_stage(self, req: SetStageRequest) -> StageResult:
        previous, stage = await self.store.customers.set_stage(
            req.customer_id, req.stage, at=req.at, records=req.step_records()
        )
        self._committed("set_stage")
        return StageResult(previous=previous, stage=stage)

    @activity.defn(name="record_steps")
    async def record_steps(self, records: list[StepRecord]) -> None:
        await self.store.steps.record(records)
        self._committed("record_steps")

    async def _templates(self, req: StepContext) -> dict[str, str]:
        """The templates of the plan the request sends for (the run resolved that plan: it is stored)."""
        plan = await self.plans.get(req.journey, req.version)
        if plan is None:  # a store that lost it, or cannot be read yet: retried, not failed
            raise ApplicationError(
                f"plan {req.journey} version {req.version} is not in the store", type="PlanMissing"
            )
        return plan.templates

    async def _record(
        self, req: StepContext, result: DeliveryResult, message: SentBody | None = None
    ) -> DeliveryResult:
        stored = await self.store.deliveries.record(
            req.key,
            result,
            customer_id=req.customer_id,
            journey=req.journey,
            version=req.version,
            step=req.step,
            at=req.at,
            records=req.step_records(),
            message=message,
        )
        self._committed(f"send_{result.channel}")
        return stored

    async def _settled_or_customer(
        self, req: StepContext, channel: Literal["email", "webhook"], hold_if_paused: bool
    ) -> DeliveryResult | CustomerSnapshot:
        """One read decides: the outcome an earlier attempt logged under the key (a retry, or a
        reset of this entry), "held" while the journey is paused (nothing sent or logged: the
        workflow asks again later with the same key), or else the customer to send to. The step
        records that came with the request are kept in the first two cases (they are idempotent)."""
        before = await self.store.before_send(
            req.key, req.customer_id, req.journey if hold_if_paused else None, req.at
        )
        if before.recorded is None and not before.paused:
            return before.customer
        await self.store.steps.record(req.step_records())
        if before.recorded is not None:
            return before.recorded
        return DeliveryResult(status="held", channel=channel, reason=f"journey {req.journey} is paused")

    async def _not_sent(self, req: StepContext, verdict: DeliveryResult) -> DeliveryResult:
        """The channel policy's answer: "skipped" is logged under the key like any skip; "quiet" is
        not (the workflow sends again with the same key when the quiet hours end), only the step
        records the request carried are kept, as for "held"."""
        if verdict.status != "quiet":
            return await self._record(req, verdict)
        await self.store.steps.record(req.step_records())
        return verdict

    async def _failed(
        self, req: StepContext, channel: str, exc: ApplicationError, gate: Gate | None = None
    ) -> None:
        """Note a send that will be retried (what the stats count as retrying), or clear the note
        of one that failed for good and give back the cap slots it took. Never hides the failure
        itself: a store that cannot take the note is logged, and the send's own error is what the
        caller raises."""
        try:
            if exc.non_retryable:
                await self.store.retries.clear(req.key)
                if gate is not None and gate.caps:
                    await self.gate.give_back(req)
            else:
                await self.store.retries.note(
                    req.key,
                    channel=channel,
                    journey=req.journey,
                    version=req.version,
                    step=req.step,
                    customer_id=req.customer_id,
                    reason=str(exc),
                    # Called directly (tests, tools), a send has no Temporal attempt: count it as one.
                    attempt=activity.info().attempt if activity.in_activity() else 1,
                    records=req.step_records(),
                )
        except SQLAlchemyError as trouble:
            log.warning("could not note the retry of %s: %s", req.key, trouble)

    def _committed(self, name: str) -> None:
        if self.fail_after is not None:
            self.fail_after(name)


def _render_failed(what: str, exc: Exception) -> ApplicationError:
    """A permanent failure: the step records it as a failed send, with the reason, and moves on."""
    return ApplicationError(
        f"{what} failed to render: {type(exc).__name__}: {exc}", type="TemplateError", non_retryable=True
    )


def _joined(*reasons: str | None) -> str:
    return "; ".join(reason for reason in reasons if reason)


def _no_email_reason(customer: CustomerSnapshot) -> str | None:
    if not customer.exists:
        return "unknown customer"
    if not customer.subscribed:
        return "unsubscribed"
    if not customer.email:
        return "no email address"
    return None
