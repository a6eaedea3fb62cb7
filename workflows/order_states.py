"""The order lifecycle (design §3) as a table."""

from __future__ import annotations

from enum import StrEnum

from workflows.lifecycle import Lifecycle


class OrderState(StrEnum):
    RECEIVED = "received"
    VALIDATED = "validated"
    PAYMENT_SECURED = "payment_secured"
    CUSTOMS_DECLARED = "customs_declared"
    LABEL_BOUGHT = "label_bought"
    SHIPMENT_CONFIRMED = "shipment_confirmed"
    PAYMENT_CAPTURED = "payment_captured"
    IN_TRANSIT = "in_transit"
    DELIVERED = "delivered"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


S = OrderState

ORDER_TRANSITIONS: dict[OrderState, frozenset[OrderState]] = {
    S.RECEIVED: frozenset({S.VALIDATED, S.CANCELLED}),
    S.VALIDATED: frozenset({S.PAYMENT_SECURED, S.CANCELLED}),
    S.PAYMENT_SECURED: frozenset({S.CUSTOMS_DECLARED, S.CANCELLED}),
    S.CUSTOMS_DECLARED: frozenset({S.LABEL_BOUGHT, S.CANCELLED}),
    S.LABEL_BOUGHT: frozenset({S.SHIPMENT_CONFIRMED, S.CANCELLED}),
    # Storefront orders capture at shipment; marketplaces were paid at sale.
    S.SHIPMENT_CONFIRMED: frozenset({S.PAYMENT_CAPTURED, S.IN_TRANSIT}),
    S.PAYMENT_CAPTURED: frozenset({S.IN_TRANSIT}),
    S.IN_TRANSIT: frozenset({S.DELIVERED}),
    S.DELIVERED: frozenset({S.COMPLETED}),
    S.COMPLETED: frozenset(),
    S.CANCELLED: frozenset(),
}

ORDER_LIFECYCLE = Lifecycle("order", OrderState.RECEIVED, ORDER_TRANSITIONS)
