"""Buyers' cancellation requests on eBay (Post-Order API), and the rules eBay applies to
them; and the seller's own cancellations (Create Cancellation Request), which eBay closes
at once with a full refund. The wire shapes and routes are in `ebay/post_order.py`.

A buyer asks before the order ships; the seller approves (eBay cancels the order and
refunds the buyer) or rejects (typically because it has shipped after all). Approving or
rejecting a request that is no longer waiting for the seller is refused, as on eBay.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from crossdock.sandbox.core.routes import Refusal
from crossdock.sandbox.ebay.orders import (
    EbayOrders,
    buyer_username,
    marketplace_of,
    post_order_error,
)
from crossdock.sandbox.ebay.records import (
    CANCEL_CLOSED_WITH_REFUND,
    CANCEL_REJECTED,
    CLOSED,
    CancellationRecord,
    OrderRecord,
)

DOMAIN = "API_POSTORDER"
# The reasons a buyer may give (CancelReasonEnum); the others are the seller's.
BUYER_REASONS = frozenset({"FOUND_CHEAPER_PRICE", "ORDER_MISTAKE", "WONT_ARRIVE_IN_TIME"})
SELLER_REASONS = frozenset(
    {"ADDRESS_ISSUES", "BUYER_ASKED_CANCEL", "OUT_OF_STOCK_OR_CANNOT_FULFILL"}
)
# eBay gives the seller three days to answer a buyer's request.
SELLER_RESPONSE_TIME = timedelta(days=3)

# Error ids of this simulator (eBay's own Post-Order ids are not published per case).
NOT_FOUND = 1100
NOT_PENDING = 1101
ALREADY_SHIPPED = 1102
BAD_REQUEST = 1103


def refuse(error_id: int, message: str, status: int = 400, **parameters: str) -> Refusal:
    """A Post-Order error in eBay's container; `parameters` name the offending fields."""
    return Refusal(post_order_error(status, error_id, message, parameters, domain=DOMAIN))


class EbayCancellations:
    """Every cancellation request, by cancelId; each is stored on its order's record."""

    def __init__(self, orders: EbayOrders) -> None:
        self._orders = orders
        # An index over the orders' requests, rebuilt from them on start.
        self.requests: dict[str, CancellationRecord] = {
            found.cancel_id: found.link(record)
            for record in orders.orders.peek()
            for found in record.cancel_requests
        }
        # eBay cancel ids are ten-digit numbers starting with 5.
        self._ids = orders.store.counter("ebay", "cancellation", 5_000_000_001)

    def get(self, cancel_id: str) -> CancellationRecord:
        found = self.requests.get(cancel_id)
        if found is None:
            raise refuse(
                NOT_FOUND, f"Cancellation {cancel_id} was not found", 404, cancelId=cancel_id
            )
        self._orders.get(found.order_id)  # its changes are the order record's changes
        return found

    def request(
        self, order_id: str, reason: str, requested_at: datetime | None
    ) -> tuple[CancellationRecord, bool]:
        """The buyer asks to cancel; (request, False) when one is already waiting.

        `requested_at` may lie in the past, to replay a request the buyer made before
        the seller's shipment reached eBay (the race a seller then rejects).
        """
        record = self._orders.get(order_id)
        waiting = next((r for r in record.cancel_requests if r.pending), None)
        if waiting is not None:
            return waiting, False
        when = _check_request(record, reason, requested_at or datetime.now(UTC))
        found = CancellationRecord(
            cancel_id=str(next(self._ids)),
            order_id=record.id,
            reason=reason,
            requested_at=when,
            marketplace_id=marketplace_of(record.order),
            buyer_login_name=buyer_username(record.order),
            modified_at=when,
        ).link(record)
        self.requests[found.cancel_id] = found
        record.cancel_requests.append(found)
        record.last_modified = datetime.now(UTC)
        return found, True

    def seller_cancel(self, order_id: str, reason: str) -> CancellationRecord:
        """The seller cancels the whole order: eBay closes it with a full refund at once."""
        record = self._orders.orders.get(order_id)
        if record is None:
            raise refuse(NOT_FOUND, f"Order {order_id} was not found", 404, legacyOrderId=order_id)
        _check_seller_cancel(record, reason)
        now = datetime.now(UTC)
        found = CancellationRecord(
            cancel_id=str(next(self._ids)),
            order_id=record.id,
            reason=reason,
            requested_at=now,
            marketplace_id=marketplace_of(record.order),
            buyer_login_name=buyer_username(record.order),
            state=CLOSED,
            status=CANCEL_CLOSED_WITH_REFUND,
            modified_at=now,
            closed_at=now,
            close_reason="FULL_REFUNDED",
            requestor="SELLER",
        ).link(record)
        self.requests[found.cancel_id] = found
        record.cancel_requests.append(found)
        record.canceled, record.last_modified = True, now
        return found

    def approve(self, cancel_id: str) -> CancellationRecord:
        """The seller agrees: eBay cancels the order and refunds the buyer."""
        found = self._waiting(cancel_id, "approved")
        if found.order.fulfillments:
            raise refuse(
                ALREADY_SHIPPED,
                f"Order {found.order.id} has shipped and cannot be canceled; reject "
                f"cancellation {cancel_id} instead",
                orderId=found.order.id,
            )
        now = datetime.now(UTC)
        found.state, found.status = CLOSED, CANCEL_CLOSED_WITH_REFUND
        found.closed_at = found.modified_at = now
        found.close_reason = "FULL_REFUNDED"
        found.order.canceled, found.order.last_modified = True, now
        return found

    def reject(
        self, cancel_id: str, shipment_date: datetime | None, tracking_number: str | None
    ) -> CancellationRecord:
        """The seller refuses, usually because the order has shipped."""
        found = self._waiting(cancel_id, "rejected")
        now = datetime.now(UTC)
        found.state, found.status = CLOSED, CANCEL_REJECTED
        found.closed_at = found.modified_at = now
        found.shipment_date, found.tracking_number = shipment_date, tracking_number
        found.order.last_modified = now
        return found

    def _waiting(self, cancel_id: str, verb: str) -> CancellationRecord:
        found = self.get(cancel_id)
        if not found.pending:
            raise refuse(
                NOT_PENDING,
                f"Cancellation {cancel_id} is {found.state} ({found.status}) and cannot be {verb}",
                cancelId=cancel_id,
            )
        return found


def _check_request(record: OrderRecord, reason: str, when: datetime) -> datetime:
    if reason not in BUYER_REASONS:
        raise refuse(
            BAD_REQUEST,
            f"cancelReason {reason!r} is not a buyer's reason "
            f"(one of {', '.join(sorted(BUYER_REASONS))})",
            cancelReason=reason,
        )
    if when.tzinfo is None or not record.order.placed_at <= when <= datetime.now(UTC):
        raise refuse(
            BAD_REQUEST,
            f"requestDate {when.isoformat()} must have a time zone and lie between the "
            f"purchase ({record.order.placed_at.isoformat()}) and now",
            requestDate=when.isoformat(),
        )
    if record.canceled:
        raise refuse(BAD_REQUEST, f"Order {record.id} is already canceled", orderId=record.id)
    shipped = record.first_shipped_at
    if shipped is not None and shipped <= when:
        raise refuse(
            ALREADY_SHIPPED,
            f"Order {record.id} shipped at {shipped.isoformat()}, before the request; the "
            "buyer must open a return instead",
            orderId=record.id,
        )
    return when


def _check_seller_cancel(record: OrderRecord, reason: str) -> None:
    if reason not in SELLER_REASONS:
        raise refuse(
            BAD_REQUEST,
            f"cancelReason {reason!r} is not a seller's reason "
            f"(one of {', '.join(sorted(SELLER_REASONS))})",
            cancelReason=reason,
        )
    if record.canceled:
        raise refuse(BAD_REQUEST, f"Order {record.id} is already canceled", orderId=record.id)
    if record.fulfillments:
        raise refuse(
            ALREADY_SHIPPED,
            f"Order {record.id} has shipped and cannot be canceled",
            orderId=record.id,
        )
    waiting = next((r for r in record.cancel_requests if r.pending), None)
    if waiting is not None:
        raise refuse(
            NOT_PENDING,
            f"The buyer's cancellation {waiting.cancel_id} of order {record.id} awaits your "
            "answer: approve it instead",
            cancelId=waiting.cancel_id,
        )
