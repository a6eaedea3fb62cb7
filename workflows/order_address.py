"""When an order's ship-to address may be corrected, and to what (the `correct_address`
update's rules; docs/customer-service.md).

Two moments allow it. After shipment, while the carrier reports the parcel
undeliverable: the reshipment goes to the corrected address. Before shipment, until the
label is bought, for the storefront only: the label is bought to the corrected address.
A marketplace's seller protection covers only a parcel sent to the address on the order
(Amazon and eBay both ask the buyer to cancel and order again), so a marketplace order is
never redirected before it ships. The country may not change before shipment: duties,
taxes and the customs declaration were worked out for it.

Validators do not run on replay, so widening these rules changes no recorded history.
"""

from __future__ import annotations

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from crossdock.models.order import Channel
    from crossdock.models.order_states import BEFORE_SHIPMENT, OrderState
    from crossdock.models.order_steps import AddressCorrection
    from workflows.order_context import OrderContext

# Channels whose orders may be sent to another address than the one sold to.
REDIRECTABLE = frozenset({Channel.STOREFRONT})


def refusal(ctx: OrderContext, correction: AddressCorrection) -> str | None:
    """Why `correction` may not be made now, or None when it may."""
    status = ctx.status
    if status.state == OrderState.EXCEPTION and status.tracking_exception == "failure":
        return None  # undeliverable: the reshipment goes to the corrected address
    if status.state not in BEFORE_SHIPMENT or ctx.shipping_committed:
        return (
            f"order is {status.state}: an address is corrected before the label is bought, "
            "or while the carrier reports the parcel undeliverable"
        )
    return _before_shipment(ctx, correction)


def _before_shipment(ctx: OrderContext, correction: AddressCorrection) -> str | None:
    status, order = ctx.status, ctx.order
    if order.channel not in REDIRECTABLE:
        return (
            f"{order.channel} protects only parcels sent to the address on the order: "
            "the buyer cancels and orders again to the new address"
        )
    if ctx.cancel_request is not None:
        return f"order is being cancelled by {ctx.cancel_request.by.id}"
    if status.label is not None or status.parcels:
        return (
            f"the label is bought already ({status.label.tracking_code if status.label else ''}"
            "): the parcel goes to the address on the order; cancel the order instead"
        )
    if correction.address.country != order.ship_to.country:
        return (
            f"country {correction.address.country} is not {order.ship_to.country}: duties, "
            "taxes and the customs declaration were made for the address on the order"
        )
    return None
