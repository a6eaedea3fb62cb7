"""Everything the return workflow knows, in one model (queried, and passed on whole)."""

from __future__ import annotations

from pydantic import BaseModel, Field

from crossdock.models.approval import ApprovalStatus
from crossdock.models.lifecycle import TimelineEntry
from crossdock.models.order_steps import ShippingLabel
from crossdock.models.return_states import ReturnState
from crossdock.models.returns import (
    Inspection,
    OfferAnswer,
    ReturnOption,
    ReturnRefund,
    ReturnRequest,
)
from crossdock.models.suppliers import SupplierRma
from crossdock.money import Money
from crossdock.policies.returns import Eligibility


class ReturnStatus(BaseModel):
    state: ReturnState = ReturnState.REQUESTED
    # What was asked for (the order, the lines, the reason), as opened.
    request: ReturnRequest
    timeline: list[TimelineEntry] = Field(default_factory=list)
    eligibility: Eligibility | None = None
    approvals: list[ApprovalStatus] = Field(default_factory=list)
    # What was approved: how the goods come back (or not) and how much may be refunded.
    option: ReturnOption | None = None
    approved_amount: Money | None = None
    offer: Money | None = None
    offer_answer: OfferAnswer | None = None
    label: ShippingLabel | None = None
    tracking_status: str = ""
    tracking_events_seen: list[str] = Field(default_factory=list)
    inspection: Inspection | None = None
    written_off: list[str] = Field(default_factory=list)
    refunds: list[ReturnRefund] = Field(default_factory=list)
    refunded: Money | None = None
    # Vendor credit requests to dropship suppliers, one per supplier (after inspection).
    supplier_rmas: list[SupplierRma] = Field(default_factory=list)
    # The replacement order's workflow id, when the lines were sent again.
    replacement_order: str = ""
    reason: str = ""
    needs_attention: bool = False
    linked: bool = False
