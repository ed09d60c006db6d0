"""Typed models of the channel policy file, as a marketer writes it (YAML), and its JSON Schema.

Every number has a range; times of day are checked on load (``HH:MM``).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, model_validator

from engine.schema import SLUG, Model, TimeOfDay

MAX_PER_DAY = 100
MAX_PER_WEEK = 500
MAX_SALT_LENGTH = 100
MAX_CONTROL_PERCENT = 50

MessageClass = Literal["transactional", "marketing"]
QuietAction = Literal["hold", "skip"]
CHANNELS = ("email", "webhook")


class Caps(Model):
    per_day: int | None = Field(
        None, ge=0, le=MAX_PER_DAY, description="at most this many marketing messages a day (local)"
    )
    per_week: int | None = Field(
        None, ge=0, le=MAX_PER_WEEK, description="at most this many a week, Monday to Sunday (local)"
    )

    @model_validator(mode="after")
    def _something(self) -> Caps:
        if self.per_day is None and self.per_week is None:
            raise ValueError("caps needs per_day, per_week or both")
        return self


class QuietHours(Model):
    start: TimeOfDay = Field(description="local time they begin, e.g. 21:00")
    end: TimeOfDay = Field(description="local time they end, e.g. 08:00 (the next morning when earlier)")
    action: QuietAction = Field(
        "hold", description="hold: send when they end; skip: do not send (a send step may override)"
    )

    @model_validator(mode="after")
    def _not_empty(self) -> QuietHours:
        if self.start == self.end:
            raise ValueError("quiet hours start and end at the same time; leave quiet_hours out instead")
        return self


class ChannelRules(Model):
    caps: Caps | None = Field(None, description="frequency caps for marketing messages, across journeys")
    quiet_hours: QuietHours | None = Field(None, description="no marketing message in these local hours")


class Channels(Model):
    email: ChannelRules = Field(default_factory=ChannelRules)
    webhook: ChannelRules = Field(default_factory=ChannelRules)


class ControlGroup(Model):
    percent: float = Field(
        ge=0,
        le=MAX_CONTROL_PERCENT,
        multiple_of=0.01,
        description="share of customers who receive no marketing message from any journey, e.g. 5",
    )
    salt: str = Field(
        min_length=1,
        max_length=MAX_SALT_LENGTH,
        description="mixed into the hash of the customer id; a new salt draws a new group",
    )


class ChannelPolicyFile(Model):
    policy: str = Field(pattern=SLUG, max_length=100, description="the policy's name, e.g. main")
    default_class: MessageClass = Field(
        "marketing", description="the class of a send step that does not say class:"
    )
    channels: Channels = Field(default_factory=Channels)
    control_group: ControlGroup | None = Field(None, description="the global control group")


def json_schema() -> dict[str, Any]:
    """The JSON Schema of the channel policy file, for editors (yaml-language-server)."""
    schema = ChannelPolicyFile.model_json_schema(by_alias=True)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "Journeys channel policy file"
    return schema
