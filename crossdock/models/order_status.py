"""Everything the order workflow knows, in one model (queried, and passed on whole)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from crossdock.models.approval import ApprovalStatus
from crossdock.models.lifecycle import TimelineEntry
from crossdock.models.order import Address
from crossdock.models.order_cases import CaseLink, RefundReservation
from crossdock.models.order_states import OrderState
from crossdock.models.order_steps import (
    CustomsDeclaration,
    HoldRequest,
    LandedCost,
    PaymentAuthorization,
    ShippingLabel,
    TrackingUpdate,
)
from crossdock.models.packages import Package
from crossdock.models.refusals import PartnerQuestion
from crossdock.models.screening import OrderAssessment
from crossdock.models.stock import StockReservation
from crossdock.money import Money

# Carrier statuses in the order a parcel moves through them; later ones win, so a
# duplicated or late (out-of-order) tracking event never moves an order backwards.
TRACKING_PROGRESS = ("pre_transit", "in_transit", "out_for_delivery", "delivered")
# Carrier statuses that end a parcel's journey short of the buyer.
TRACKING_EXCEPTIONS = ("return_to_sender", "failure")


def rank(tracking_status: str) -> int:
    return TRACKING_PROGRESS.index(tracking_status) if tracking_status in TRACKING_PROGRESS else -1


class ParcelStatus(BaseModel):
    """One package of a multi-package order and what its carrier said about it."""

    package: Package
    label: ShippingLabel
    previous_labels: list[ShippingLabel] = Field(default_factory=list)
    tracking_status: str = ""
    tracking_exception: str = ""
    tracking_detail: str = ""
    last_scan_at: datetime | None = None
    events_seen: list[str] = Field(default_factory=list)
    # "" while on its way; delivered | refunded (lost or returned, its share refunded).
    outcome: str = ""

    @property
    def active(self) -> bool:
        return self.outcome in ("", "delivered")


class OrderStatus(BaseModel):
    state: OrderState = OrderState.RECEIVED
    # Set on a replacement order: the order whose return it replaces.
    replacement_of: str = ""
    timeline: list[TimelineEntry] = Field(default_factory=list)
    landed_cost: LandedCost | None = None
    amount_due: Money | None = None
    authorization: PaymentAuthorization | None = None
    declaration: CustomsDeclaration | None = None
    label: ShippingLabel | None = None
    captured: Money | None = None
    refunded: Money | None = None
    # Non-progress carrier statuses (return_to_sender, failure) and when we last heard.
    tracking_exception: str = ""
    tracking_detail: str = ""
    last_scan_at: datetime | None = None
    previous_labels: list[ShippingLabel] = Field(default_factory=list)
    # Where the parcel goes (operators see it to correct it), and an operator's corrected
    # address for the next label after the carrier could not deliver.
    ship_to: Address | None = None
    corrected_address: Address | None = None
    tracking_status: str = ""
    tracking_events_seen: list[str] = Field(default_factory=list)
    reason: str = ""
    needs_attention: bool = False
    # A partner's refusal put to a person (workflows/order_questions.py), while unanswered.
    question: PartnerQuestion | None = None
    # An operator's hold (who, why): the order waits before its next step.
    hold: HoldRequest | None = None
    assessment: OrderAssessment | None = None
    approvals: list[ApprovalStatus] = Field(default_factory=list)
    # Returns and disputes about this order, and the refunds they (or the order itself)
    # reserved: see crossdock.models.order_cases and crossdock.models.order_ledger.
    cases: list[CaseLink] = Field(default_factory=list)
    refund_reservations: list[RefundReservation] = Field(default_factory=list)

    def open_cases(self) -> int:
        """Returns and disputes still open: the order (its refund ledger) waits for them."""
        return sum(1 for case in self.cases if case.open)

    # Multi-package orders: one entry per package (single-package orders keep the
    # fields above). The fields above then summarise the parcels still on their way.
    parcels: list[ParcelStatus] = Field(default_factory=list)
    # The warehouse reservation, when backorders must be shipped by, and the order lines
    # (indexes) that have left the warehouse.
    stock: StockReservation | None = None
    stock_deadline: datetime | None = None
    shipped_lines: list[int] = Field(default_factory=list)
    # Carrier events for a parcel whose label is not recorded yet (multi-package orders).
    early_tracking: list[TrackingUpdate] = Field(default_factory=list)

    def tracking_rank(self) -> int:
        return rank(self.tracking_status)
