"""The order's refund ledger: what was paid, what is refunded, what is set aside.

Pure functions over `OrderStatus`, so the workflow's update handler, its validator and
the property test share one definition of "refundable". Returns and disputes reserve
through the order (see `crossdock.models.order_cases`); the order's own refunds (a lost
parcel, a returned one) go through the same ledger.
"""

from __future__ import annotations

from crossdock.models.order import Order
from crossdock.models.order_cases import RefundOutcome, RefundRequest, RefundReservation
from crossdock.models.order_states import BEFORE_SHIPMENT, OrderState
from crossdock.models.order_status import OrderStatus
from crossdock.money import Money, total


def paid(status: OrderStatus, order: Order) -> Money:
    """What the buyer paid that we can refund: the storefront capture (nothing if it was
    refused), or on a marketplace the goods and shipping (taxes the marketplace
    collected it remits itself, and refunds itself)."""
    if status.replacement_of:
        return Money.zero(order.currency)  # sent free of charge
    if status.authorization is not None:
        return status.captured or Money.zero(status.authorization.amount.currency)
    return order.order_total


def committed(status: OrderStatus, currency: str) -> Money:
    """Refunded or reserved (not failed) so far."""
    live = [r.amount for r in status.refund_reservations if r.state != "failed"]
    return total(live, currency)


def remaining(status: OrderStatus, order: Order) -> Money:
    held = paid(status, order)
    return held - committed(status, held.currency)


def refusal(status: OrderStatus, order: Order, request: RefundRequest) -> str | None:
    """Why `request` may not be reserved, or None. Asking again for a reservation that
    exists is fine (the same grant is returned)."""
    if find(status, request.reservation_id) is not None:
        return None
    if status.state in BEFORE_SHIPMENT or status.state == OrderState.CANCELLED:
        return f"order is {status.state}: nothing shipped, so there is nothing to refund"
    held = paid(status, order)
    if request.amount.currency != held.currency:
        return f"refund is in {request.amount.currency} but the order was paid in {held.currency}"
    left = remaining(status, order)
    if request.amount.amount > left.amount:
        return (
            f"refund of {request.amount} exceeds what is left to refund ({left} of {held} "
            "paid, after earlier refunds and reservations)"
        )
    return None


def reserve(status: OrderStatus, request: RefundRequest) -> RefundReservation:
    """Record the reservation (or return the one already recorded under its id)."""
    existing = find(status, request.reservation_id)
    if existing is not None:
        return existing
    reservation = RefundReservation(
        reservation_id=request.reservation_id, amount=request.amount, reason=request.reason
    )
    status.refund_reservations.append(reservation)
    return reservation


def settle(status: OrderStatus, outcome: RefundOutcome) -> RefundReservation | None:
    """Apply a refund's outcome; an unknown or already settled reservation changes
    nothing (signals may arrive twice)."""
    reservation = find(status, outcome.reservation_id)
    if reservation is None or reservation.state != "reserved":
        return None
    reservation.state = "succeeded" if outcome.succeeded else "failed"
    reservation.refund_id = outcome.refund_id
    if outcome.succeeded:
        status.refunded = (status.refunded or Money.zero(reservation.amount.currency)) + (
            reservation.amount
        )
    return reservation


def find(status: OrderStatus, reservation_id: str) -> RefundReservation | None:
    for reservation in status.refund_reservations:
        if reservation.reservation_id == reservation_id:
            return reservation
    return None
