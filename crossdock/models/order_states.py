"""The order lifecycle (docs/lifecycles.md) as a table: which states may follow which."""

from __future__ import annotations

from enum import StrEnum

from crossdock.models.lifecycle import Lifecycle


class OrderState(StrEnum):
    RECEIVED = "received"
    VALIDATED = "validated"
    IN_REVIEW = "in_review"
    APPROVED = "approved"
    PAYMENT_SECURED = "payment_secured"
    # Nothing of the order is in stock yet: it waits (still cancellable).
    AWAITING_STOCK = "awaiting_stock"
    CUSTOMS_DECLARED = "customs_declared"
    CUSTOMS_HOLD = "customs_hold"
    LABEL_BOUGHT = "label_bought"
    SHIPMENT_CONFIRMED = "shipment_confirmed"
    PAYMENT_CAPTURED = "payment_captured"
    # Shipped in part: the other lines wait for stock (shipped later or cancelled).
    BACKORDERED = "backordered"
    IN_TRANSIT = "in_transit"
    DELAYED = "delayed"
    # The carrier lost the parcel or could not deliver it: an operator decides.
    EXCEPTION = "exception"
    # A replacement parcel's label is bought (after a loss or an address problem). Not
    # LABEL_BOUGHT: the order has shipped once, so it can no longer be cancelled.
    RESHIPPING = "reshipping"
    RETURNED_TO_SENDER = "returned_to_sender"
    DELIVERED = "delivered"
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    REFUNDED = "refunded"
    # Ended by an operator's answer to a partner's refusal the order could not settle
    # (a refund that will not be made, an order the partners no longer know).
    CLOSED = "closed"


S = OrderState

# Until the channel is told the order shipped, an order can still be cancelled (and its
# side effects compensated); afterwards a cancellation becomes a return.
BEFORE_SHIPMENT = frozenset(
    {
        S.RECEIVED,
        S.VALIDATED,
        S.IN_REVIEW,
        S.APPROVED,
        S.PAYMENT_SECURED,
        S.AWAITING_STOCK,
        S.CUSTOMS_DECLARED,
        S.CUSTOMS_HOLD,
        S.LABEL_BOUGHT,
    }
)

ORDER_TRANSITIONS: dict[OrderState, frozenset[OrderState]] = {
    S.RECEIVED: frozenset({S.VALIDATED, S.CANCELLED}),
    S.VALIDATED: frozenset({S.IN_REVIEW, S.PAYMENT_SECURED, S.CANCELLED}),
    S.IN_REVIEW: frozenset({S.APPROVED, S.CANCELLED}),
    S.APPROVED: frozenset({S.PAYMENT_SECURED, S.CANCELLED}),
    S.PAYMENT_SECURED: frozenset({S.AWAITING_STOCK, S.CUSTOMS_DECLARED, S.CANCELLED}),
    S.AWAITING_STOCK: frozenset({S.CUSTOMS_DECLARED, S.CANCELLED}),
    S.CUSTOMS_DECLARED: frozenset({S.CUSTOMS_HOLD, S.LABEL_BOUGHT, S.CANCELLED}),
    S.CUSTOMS_HOLD: frozenset({S.CUSTOMS_DECLARED, S.CANCELLED}),
    S.LABEL_BOUGHT: frozenset({S.SHIPMENT_CONFIRMED, S.CANCELLED}),
    # Storefront orders capture at shipment; marketplaces were paid at sale.
    # A parcel the carrier never scans is presumed lost (EXCEPTION) after `lost_after`.
    S.SHIPMENT_CONFIRMED: frozenset(
        {S.PAYMENT_CAPTURED, S.IN_TRANSIT, S.BACKORDERED, S.EXCEPTION, S.CLOSED}
    ),
    S.PAYMENT_CAPTURED: frozenset({S.IN_TRANSIT, S.BACKORDERED, S.EXCEPTION, S.CLOSED}),
    # The backordered lines ship as further packages, or are cancelled and refunded.
    S.BACKORDERED: frozenset({S.SHIPMENT_CONFIRMED, S.IN_TRANSIT, S.CLOSED}),
    S.IN_TRANSIT: frozenset({S.DELAYED, S.DELIVERED, S.EXCEPTION, S.RETURNED_TO_SENDER, S.CLOSED}),
    # One parcel of several refunded (lost, undeliverable, returned): the others go on.
    S.DELAYED: frozenset({S.DELIVERED, S.EXCEPTION, S.RETURNED_TO_SENDER, S.CLOSED}),
    # Reship (a new label, to a corrected address if needed), refund, or it turns up.
    S.EXCEPTION: frozenset(
        {S.RESHIPPING, S.REFUNDED, S.RETURNED_TO_SENDER, S.DELIVERED, S.IN_TRANSIT, S.CLOSED}
    ),
    # Confirmed to the channel, or (the channel refused) followed unconfirmed to its
    # first scan.
    S.RESHIPPING: frozenset({S.SHIPMENT_CONFIRMED, S.IN_TRANSIT, S.EXCEPTION, S.CLOSED}),
    S.RETURNED_TO_SENDER: frozenset({S.REFUNDED, S.IN_TRANSIT, S.CLOSED}),
    S.DELIVERED: frozenset({S.COMPLETED, S.CLOSED}),
    S.COMPLETED: frozenset(),
    S.CANCELLED: frozenset(),
    S.REFUNDED: frozenset(),
    S.CLOSED: frozenset(),
}

ORDER_LIFECYCLE = Lifecycle("order", OrderState.RECEIVED, ORDER_TRANSITIONS)
