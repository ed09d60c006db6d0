"""The channel policy at the moment a send goes out (``journeys/channels.yaml``, deployed).

A transactional message, or any message while no policy is deployed, passes untouched. A marketing
message is withheld from the global control group, held or skipped in the channel's quiet hours
(the customer's local time at the workflow's ``at``), and otherwise takes a slot of each of its
frequency caps (``store.frequency_caps``), in the send's own transaction, keyed by the send's key.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from contracts.activities import DeliveryResult, SendEmailRequest, SendWebhookRequest, StepContext
from contracts.customers import CustomerSnapshot
from engine.channels.policy import CapPeriod
from store import Store
from store.frequency_caps import Slot, give_back, take_slots

Channel = Literal["email", "webhook"]
CONTROL_GROUP = "global control group"
FREQUENCY_CAP = "frequency cap: "


@dataclass(frozen=True)
class Gate:
    verdict: DeliveryResult | None = None  # skipped or quiet: not sent; None: go on
    caps: list[CapPeriod] = field(default_factory=list)  # the periods to take a slot of


class ChannelGate:
    def __init__(self, store: Store) -> None:
        self.store = store

    async def check(self, req: SendEmailRequest | SendWebhookRequest, customer: CustomerSnapshot) -> Gate:
        """What the policy says of this send before anything is rendered or counted."""
        channel: Channel = "email" if isinstance(req, SendEmailRequest) else "webhook"
        policy = await self.store.channel_policies.active()
        if policy is None or policy.class_of(req.message_class) == "transactional":
            return Gate()
        if policy.in_control_group(customer.id):
            return Gate(DeliveryResult(status="skipped", channel=channel, reason=CONTROL_GROUP))
        quiet = policy.quiet(channel, req.at, customer.timezone, req.quiet_hours)
        if quiet is not None and quiet.action == "hold":
            until = quiet.until
            held = DeliveryResult(status="quiet", channel=channel, reason=quiet.words, until=until)
            return Gate(held)
        if quiet is not None:
            return Gate(DeliveryResult(status="skipped", channel=channel, reason=quiet.words))
        return Gate(caps=policy.cap_periods(channel, req.at, customer.timezone))

    async def take(self, req: StepContext, channel: Channel, gate: Gate) -> DeliveryResult | None:
        """Take the send's slots; "skipped" naming the cap that is full, or None when it may go."""
        slots = [Slot(cap.period, cap.limit) for cap in gate.caps]
        full = await take_slots(self.store.engine, req.key, req.customer_id, channel, slots, req.at)
        if full is None:
            return None
        return DeliveryResult(status="skipped", channel=channel, reason=FREQUENCY_CAP + gate.caps[full].words)

    async def give_back(self, req: StepContext) -> None:
        """The send failed for good: what it counted counts no more."""
        await give_back(self.store.engine, req.key)
