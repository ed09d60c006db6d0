"""The loyalty workflow's inputs and the requests and answers of its activities (plain data)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from contracts.events import CustomerEvent


class LoyaltyInput(BaseModel):
    customer_id: str
    next_due: datetime | None = None  # carried across continue-as-new
    pending: list[CustomerEvent] = Field(default_factory=list)


class ApplyEventRequest(BaseModel):
    customer_id: str
    event: CustomerEvent
    at: datetime  # the workflow's clock


class SettleRequest(BaseModel):
    customer_id: str
    at: datetime


class LoyaltyAnswer(BaseModel):
    next_due: datetime | None = None
    emitted: int = 0
    applied: bool = True  # False for an event applied before (a repeat)
