"""Inputs and outputs of the order workflow's activities, one model each, so fields can be
added without breaking running workflows."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from crossdock.models.approval import Principal
from crossdock.models.order import Address, Channel, Order
from crossdock.money import Money


class OrderClocks(BaseModel):
    """The order policy's tunable clocks and limits, with their production defaults.

    `Settings` inherits them (one `CROSSDOCK_*` variable each), so a default lives here
    only; fields added after release carry defaults, so recorded inputs still decode.
    """

    # Raise NeedsAttention when ship-by is this close and no label is bought yet.
    ship_by_warning_seconds: float = Field(default=12 * 3600, gt=0)
    # A parcel not delivered this long after deliver-by is delayed (customer told).
    delivery_grace_seconds: float = Field(default=24 * 3600, ge=0)
    # How often a customs hold is re-checked, and when the order gives up on it.
    customs_poll_seconds: float = Field(default=3600, gt=0)
    customs_hold_timeout_seconds: float = Field(default=5 * 24 * 3600, gt=0)
    # The review gate's clocks: reminder (T1), escalation (T2), auto-cancel (T3).
    review_remind_seconds: float = Field(default=4 * 3600, gt=0)
    review_escalate_seconds: float = Field(default=12 * 3600, gt=0)
    review_expire_seconds: float = Field(default=48 * 3600, gt=0)
    # A parcel with no scan for this long is presumed lost.
    lost_after_seconds: float = Field(default=7 * 24 * 3600, gt=0)
    # The operator's decision on a parcel exception (lost, address problem): its clocks.
    # Unanswered at expiry, the buyer is refunded.
    exception_remind_seconds: float = Field(default=4 * 3600, gt=0)
    exception_escalate_seconds: float = Field(default=24 * 3600, gt=0)
    exception_expire_seconds: float = Field(default=72 * 3600, gt=0)
    # Returned to sender: keep the outbound shipping the buyer paid (the parcel did travel).
    keep_shipping_when_returned: bool = True
    # The heaviest parcel the carrier takes: heavier orders ship as several packages.
    max_parcel_grams: int = Field(default=20_000, gt=0)
    # Lines short of stock wait this long for it (from the reservation), re-checked
    # this often; then they are cancelled and refunded.
    backorder_wait_seconds: float = Field(default=3 * 24 * 3600, gt=0)
    stock_poll_seconds: float = Field(default=3600, gt=0)


class OrderPolicy(OrderClocks):
    """Settings the workflow needs, fixed at start so replays see the same values."""

    return_window_seconds: float = Field(gt=0)
    ship_from: Address


class OrderInput(BaseModel):
    order: Order
    policy: OrderPolicy
    # A replacement sent for a return: the id of the order it replaces. Nothing is
    # charged or refunded on it, and the channel is not told (it has the original).
    replacement_of: str = ""


class QuoteLandedCostInput(BaseModel):
    order: Order


class LandedCost(BaseModel):
    quote_id: str
    regime: str
    duties: Money
    taxes: Money
    collected_at_sale: bool
    # What the buyer pays us on top of the order total: all duties and taxes under DDP;
    # under DAP only taxes a regime makes us collect at sale (EU IOSS, UK ≤ £135, AU GST).
    due_at_checkout: Money
    # The customs rules the quote used (table version and the destination's period), for
    # the operator; a default so histories recorded before it existed still decode.
    rules_version: str | None = None


class AuthorizePaymentInput(BaseModel):
    reference: str
    amount: Money
    payment_method: str
    idempotency_key: str


class PaymentAuthorization(BaseModel):
    intent_id: str
    amount: Money


class RefundPaymentInput(BaseModel):
    intent_id: str
    amount: Money
    idempotency_key: str


class PaymentRefund(BaseModel):
    refund_id: str
    amount: Money
    status: str  # pending | succeeded | failed (a pending refund may fail later)


class CapturePaymentInput(BaseModel):
    intent_id: str
    amount: Money
    idempotency_key: str


class PaymentCapture(BaseModel):
    intent_id: str
    captured: Money


class VoidAuthorizationInput(BaseModel):
    intent_id: str
    idempotency_key: str


class VoidResult(BaseModel):
    reference: str
    status: str


class VerifyMarketplacePaymentInput(BaseModel):
    channel: Channel
    channel_order_id: str


class MarketplacePayment(BaseModel):
    paid: bool
    status: str


class FileDeclarationInput(BaseModel):
    reference: str
    order: Order
    quote_id: str
    idempotency_key: str


class CustomsDeclaration(BaseModel):
    declaration_id: str
    mrn: str
    status: str = "filed"  # filed | held | released | cancelled
    rules_version: str | None = None  # as LandedCost.rules_version; a default for old histories


class CheckDeclarationInput(BaseModel):
    declaration_id: str


class CancelDeclarationInput(BaseModel):
    declaration_id: str
    idempotency_key: str


class BuyLabelInput(BaseModel):
    reference: str
    order: Order
    ship_from: Address
    idempotency_key: str


class ShippingLabel(BaseModel):
    shipment_id: str
    tracking_code: str
    tracker_id: str
    carrier: str
    service: str
    cost: Money
    label_url: str


class VoidLabelInput(BaseModel):
    shipment_id: str
    idempotency_key: str


class ConfirmShipmentInput(BaseModel):
    order: Order
    tracking_code: str
    carrier: str
    shipped_at: datetime
    idempotency_key: str
    # The package's number for the channel: a reshipment is package 2, 3, ...
    package: int = 1


class ShipmentConfirmation(BaseModel):
    confirmation_id: str


class TrackingUpdate(BaseModel):
    """A carrier tracking event, delivered to the order as a signal (maybe twice, maybe
    out of order)."""

    event_id: str
    tracking_code: str
    status: str  # normalised shipment status: pre_transit, in_transit, ..., delivered
    occurred_at: datetime
    description: str = ""


class AddressCorrection(BaseModel):
    """An operator's corrected ship-to address for a parcel the carrier could not deliver."""

    address: Address
    by: Principal


class CorrectionReceipt(BaseModel):
    note: str


class CancelRequest(BaseModel):
    """An operator's (or the buyer's, relayed by intake) request to cancel the order."""

    reason: str = Field(min_length=1)
    by: Principal


class HoldRequest(BaseModel):
    """An operator's hold: the order stops before its next step until resumed (or
    cancelled). Only before shipment: a parcel on its way cannot be held."""

    reason: str = Field(min_length=1, max_length=500)
    by: Principal


class ResumeRequest(BaseModel):
    by: Principal
    reason: str = Field(default="", max_length=500)


class HoldReceipt(BaseModel):
    held: bool
    note: str


class CancelReceipt(BaseModel):
    accepted_in_state: str
    note: str


class OrderResult(BaseModel):
    state: str
    reason: str = ""
    captured: Money | None = None
    refunded: Money | None = None
