"""Request and response bodies of the loyalty program routes: the program, the catalog, redeeming a
reward, the wallet, the ledger and voucher pools."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from contracts.ids import Id
from store.rewards import CODE_PATTERN, MAX_UPLOAD


class TierOut(BaseModel):
    name: str
    threshold: int
    multiplier: float
    perks: list[str]


class ProgramOut(BaseModel):
    program: str = Field(description="the program's id")
    version: str = Field(description="content hash of the deployed program")
    description: str
    qualify_on: Literal["lifetime", "window"]
    tiers: list[TierOut]
    definition: dict[str, Any] = Field(description="the whole program file, as validated (JSON)")
    source: str = Field(description="the program file as written (YAML)")


class ProgramDeployedOut(BaseModel):
    program: str
    version: str
    new: bool = Field(description="false when this version was already the active one")
    saved_to: str | None = Field(description="where loyalty.yaml was written (JOURNEYS_SAVE_DIR), if set")
    save_error: str | None = Field(description="why it could not be written (the deploy stands)")


class RewardOut(BaseModel):
    id: str
    name: str
    cost: int
    tier: str | None = Field(description="the lowest tier that may redeem it")
    stock: int | None = Field(description="how many there are; null: unlimited")
    stock_left: int | None = Field(description="how many are left; null: unlimited")
    redeemed: int
    per_customer: int | None
    valid_for: str = Field(description="how long a voucher is valid after redemption, e.g. 30d")
    vouchers: Literal["generated", "pool"]
    pool_available: int | None = Field(description="codes left in the uploaded pool (pool rewards only)")


class RedeemRewardIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    key: Annotated[Id, Field(description="client idempotency key: a repeat answers as the first call did")]


class RedemptionOut(BaseModel):
    customer_id: str
    key: str
    reward: str
    cost: int
    voucher: str
    expires_at: datetime = Field(description="when the voucher stops being valid")
    redeemed_at: datetime
    balance: int = Field(description="balance after this redemption (as it was when first made)")
    duplicate: bool = Field(description="true when the key had redeemed before: nothing changed now")


class RewardRefusedProblem(BaseModel):
    """Why a redemption was refused; nothing was changed."""

    detail: str
    reason: Literal["points", "tier", "stock", "limit", "pool_empty", "key_reused"]
    balance: int | None = None
    cost: int | None = None
    tier: str | None = None
    required_tier: str | None = None
    stock: int | None = None
    limit: int | None = None
    redeemed: int | None = Field(None, description="redeemed so far: of the stock, or by this customer")
    reward: str | None = Field(None, description="the reward the key redeemed before (key_reused)")


class DatedPointsOut(BaseModel):
    date: date
    points: int


class WalletOut(BaseModel):
    customer_id: str
    available: int = Field(description="points that can be spent now (the balance)")
    pending: int = Field(description="points waiting out the returns window")
    pending_by_date: list[DatedPointsOut] = Field(description="when pending points become available (UTC)")
    expiring_by_date: list[DatedPointsOut] = Field(description="when available points expire (UTC)")
    lifetime: int
    tier: str | None
    qualifying_points: int = Field(description="what the tier is measured on: lifetime or window points")
    next_tier: str | None
    points_to_next: int
    perks: list[str]


class LedgerRowOut(BaseModel):
    id: int
    delta: int
    reason: str
    rule: str | None = Field(description="the earning rule, when one earned it")
    journey: str | None
    step: str | None
    balance_after: int
    created_at: datetime


class LedgerPageOut(BaseModel):
    customer_id: str
    entries: list[LedgerRowOut] = Field(description="newest first")
    next: int | None = Field(description="pass as `after` for the next (older) page; null on the last")


VoucherCode = Annotated[str, Field(pattern=CODE_PATTERN, min_length=4, max_length=64)]


class VoucherUploadIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    codes: list[VoucherCode] = Field(min_length=1, max_length=MAX_UPLOAD, description="codes to add")


class VoucherUploadOut(BaseModel):
    reward: str
    added: int
    duplicates: list[str] = Field(description="codes not added: already known (any reward) or repeated")
    pool_available: int = Field(description="codes left in the pool after the upload")
