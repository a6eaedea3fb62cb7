"""What the eBay simulator keeps of an order: its lines and fulfillments, the buyers'
cancellation requests and the seller's refunds, stored together on the order's record.

One module for the record types, so the order book (`orders.py`) and the rules that
add to a record (`cancellations.py`, `refunds.py`) import them without importing each
other.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from crossdock.models.order import Order
from crossdock.money import Money

# CancelStateEnum / CancelStatusEnum values this simulator moves through.
APPROVAL_PENDING = "APPROVAL_PENDING"
CLOSED = "CLOSED"
CANCEL_REQUESTED = "CANCEL_REQUESTED"
CANCEL_REJECTED = "CANCEL_REJECTED"
CANCEL_CLOSED_WITH_REFUND = "CANCEL_CLOSED_WITH_REFUND"


def timestamp(moment: datetime) -> str:
    """eBay date-time: UTC with milliseconds, e.g. 2015-08-04T19:09:02.768Z."""
    utc = moment.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


@dataclass
class LineRecord:
    line_item_id: str
    legacy_item_id: str
    sku: str
    title: str
    quantity: int
    line_cost: Money
    shipping: Money
    shipped: int = 0

    @property
    def status(self) -> str:
        if self.shipped == 0:
            return "NOT_STARTED"
        return "FULFILLED" if self.shipped >= self.quantity else "IN_PROGRESS"


@dataclass
class FulfillmentRecord:
    fulfillment_id: str
    lines: dict[str, int]  # lineItemId -> quantity
    shipped_at: datetime
    carrier_code: str
    request: list[tuple[str, int | None]]  # the line items as asked, to recognise a repeat


@dataclass
class OrderRecord:
    order: Order
    lines: list[LineRecord]
    last_modified: datetime
    canceled: bool = False
    fulfillments: dict[str, FulfillmentRecord] = field(default_factory=dict)
    # Buyers' cancellation requests (Post-Order API), oldest first.
    cancel_requests: list[CancellationRecord] = field(default_factory=list)
    # The seller's refunds (issueRefund), oldest first.
    refunds: list[RefundRecord] = field(default_factory=list)

    @property
    def id(self) -> str:
        return self.order.channel_order_id

    @property
    def first_shipped_at(self) -> datetime | None:
        """When the first package shipped, by the seller's fulfillments."""
        return min((f.shipped_at for f in self.fulfillments.values()), default=None)

    @property
    def status(self) -> str:
        statuses = {line.status for line in self.lines}
        if statuses == {"FULFILLED"}:
            return "FULFILLED"
        return "NOT_STARTED" if statuses == {"NOT_STARTED"} else "IN_PROGRESS"


@dataclass
class CancellationRecord:
    """One request, stored on its order's record (`cancel_requests`), linked back to it."""

    cancel_id: str
    order_id: str
    reason: str
    requested_at: datetime
    marketplace_id: str
    buyer_login_name: str
    state: str = APPROVAL_PENDING
    status: str = CANCEL_REQUESTED
    modified_at: datetime | None = None
    closed_at: datetime | None = None
    close_reason: str | None = None
    shipment_date: datetime | None = None
    tracking_number: str | None = None
    requestor: str = "BUYER"  # RequestorTypeEnum: BUYER | SELLER

    @property
    def pending(self) -> bool:
        return self.state == APPROVAL_PENDING

    @property
    def order(self) -> OrderRecord:
        return self._order

    def link(self, order: OrderRecord) -> CancellationRecord:
        # An attribute, not a field: the order holds its requests, not the other way.
        self._order = order
        return self


@dataclass
class RefundRecord:
    refund_id: str
    amount: Money
    lines: dict[str, Money]  # lineItemId -> amount; empty for an order-level refund
    reason: str
    comment: str | None
    refunded_at: datetime
    request: dict[str, Any] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        """As getOrder's paymentSummary.refunds lists it."""
        return {
            "refundId": self.refund_id,
            "refundStatus": "REFUNDED",
            "amount": _amount(self.amount),
            "refundDate": timestamp(self.refunded_at),
            "refundReferenceId": self.refund_id,
        }

    def line_json(self, line_item_id: str) -> dict[str, Any] | None:
        """As getOrder's lineItems[].refunds lists it, for one line."""
        money = self.lines.get(line_item_id)
        if money is None:
            return None
        return {
            "refundId": self.refund_id,
            "amount": _amount(money),
            "refundDate": timestamp(self.refunded_at),
            "refundReferenceId": self.refund_id,
        }


def _amount(money: Money) -> dict[str, str]:
    return {"value": money.to_decimal_string(), "currency": money.currency}
