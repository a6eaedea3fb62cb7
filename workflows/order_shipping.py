"""Order steps with the parcel: label, confirmation to the channel, and tracking until
delivered (late deliveries flagged)."""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.carrier import CarrierActivities
    from activities.marketplace import MarketplaceActivities
    from crossdock.models.order_states import OrderState
    from crossdock.models.order_status import TRACKING_PROGRESS, ParcelStatus
    from crossdock.models.order_steps import BuyLabelInput, ConfirmShipmentInput, VoidLabelInput
    from workflows import order_further, order_tracking
    from workflows.options import call_partner, condition_within
    from workflows.order_context import OrderContext
    from workflows.order_packages import (
        adopt_early_events,
        buy_package_label,
        confirmation_of,
        summarise,
    )

IN_TRANSIT_RANK = TRACKING_PROGRESS.index("in_transit")
# The first label goes to an address corrected before shipment (from a buyer's case).
ADDRESS_BEFORE_SHIPMENT = "address-before-shipment"
# A replacement is not a sale on the channel: it keeps the original order's confirmation.
REPLACEMENT_NOT_CONFIRMED = "replacement: the channel keeps the original order's confirmation"


async def buy_label(ctx: OrderContext) -> None:
    goods = ctx.order
    corrected = ctx.status.corrected_address
    # Only a correction made before shipment is set here (workflows/order_address.py).
    if corrected is not None and workflow.patched(ADDRESS_BEFORE_SHIPMENT):
        goods = goods.model_copy(update={"ship_to": corrected})
    label = await ctx.call(
        CarrierActivities.buy_label,
        BuyLabelInput(
            reference=ctx.workflow_id,
            order=goods,
            ship_from=ctx.policy.ship_from,
            idempotency_key=ctx.key("label"),
        ),
    )
    ctx.status.label = label
    ctx.saga.add(
        "void_label",
        lambda: call_partner(
            CarrierActivities.void_label,
            VoidLabelInput(shipment_id=label.shipment_id, idempotency_key=ctx.key("void-label")),
        ),
    )
    if ctx.status.needs_attention:
        ctx.attention(False, "label bought")
    ctx.move(OrderState.LABEL_BOUGHT, f"{label.carrier} {label.service} {label.tracking_code}")
    order_tracking.adopt(ctx)  # scans that reached the order before its label did


async def confirm_shipment(ctx: OrderContext) -> None:
    label = ctx.status.label
    assert label is not None
    ctx.shipping_committed = True
    if ctx.status.replacement_of:
        ctx.move(OrderState.SHIPMENT_CONFIRMED, REPLACEMENT_NOT_CONFIRMED)
        return
    confirmation = await ctx.call(
        MarketplaceActivities.confirm_shipment,
        ConfirmShipmentInput(
            order=ctx.order,
            tracking_code=label.tracking_code,
            carrier=label.carrier,
            shipped_at=workflow.now(),
            idempotency_key=ctx.key("confirm"),
        ),
    )
    ctx.move(
        OrderState.SHIPMENT_CONFIRMED,
        f"confirmed to {ctx.order.channel} ({confirmation.confirmation_id})",
    )


async def follow_tracking(ctx: OrderContext, *, watch_delivery: bool) -> None:
    """Wait for the carrier's events until delivered. With `watch_delivery`, a parcel
    still undelivered after deliver-by plus the grace period is marked delayed."""
    status = ctx.status
    await workflow.wait_condition(lambda: status.tracking_rank() >= IN_TRANSIT_RANK)
    ctx.move(OrderState.IN_TRANSIT)

    def delivered() -> bool:
        return status.tracking_status == "delivered"

    if watch_delivery:
        late_at = ctx.order.deliver_by + timedelta(seconds=ctx.policy.delivery_grace_seconds)
        if not await condition_within(delivered, (late_at - workflow.now()).total_seconds()):
            ctx.move(OrderState.DELAYED, f"not delivered by {ctx.order.deliver_by:%Y-%m-%d}")
            ctx.attention(True, "delivery late: deliver-by passed")
    await workflow.wait_condition(delivered)
    if status.needs_attention:
        ctx.attention(False, "delivered")
    ctx.move(OrderState.DELIVERED)


async def watch_ship_by(ctx: OrderContext) -> None:
    """Raise NeedsAttention when ship-by is near and no label is bought yet."""
    warn_at = ctx.order.ship_by - timedelta(seconds=ctx.policy.ship_by_warning_seconds)
    wait = (warn_at - workflow.now()).total_seconds()
    if wait > 0:
        await workflow.sleep(wait)
    if ctx.status.label is None and ctx.status.state != OrderState.CANCELLED:
        ctx.attention(True, f"ship-by {ctx.order.ship_by:%Y-%m-%d %H:%M} is near; no label yet")


async def reship(ctx: OrderContext, package: int) -> None:
    """Send a new parcel (to the corrected address, if an operator gave one) and tell the
    channel its tracking number. Nothing is compensated: the goods already left once."""
    status = ctx.status
    ship_to = status.corrected_address or ctx.order.ship_to
    goods = ctx.order.model_copy(update={"ship_to": ship_to})
    label = await ctx.call(
        CarrierActivities.buy_label,
        BuyLabelInput(
            reference=ctx.workflow_id,
            order=goods,
            ship_from=ctx.policy.ship_from,
            idempotency_key=ctx.key(f"label-{package}"),
        ),
    )
    if status.label is not None:
        status.previous_labels.append(status.label)
    status.label = label
    status.tracking_status = status.tracking_exception = status.tracking_detail = ""
    status.last_scan_at = workflow.now()
    ctx.move(OrderState.RESHIPPING, f"new parcel: {label.carrier} {label.tracking_code}")
    order_tracking.adopt(ctx)
    confirmation = ConfirmShipmentInput(
        order=ctx.order,
        tracking_code=label.tracking_code,
        carrier=label.carrier,
        shipped_at=workflow.now(),
        idempotency_key=ctx.key(f"confirm-{package}"),
        package=package,
    )
    if workflow.patched(order_further.FURTHER_PICK):
        await order_further.pick(ctx, goods, package)
    if workflow.patched(order_further.FURTHER_CONFIRM):
        await _confirm_further(ctx, confirmation)
        return
    # Channels may refuse a second confirmation of items already confirmed (Amazon
    # does): the buyer has the new tracking number from our notification anyway.
    detail = await _confirm_again(ctx, confirmation)
    ctx.move(OrderState.SHIPMENT_CONFIRMED, f"package {package} ({detail})")


async def reship_parcel(ctx: OrderContext, parcel: ParcelStatus) -> None:
    """Send one package of a multi-package order again, as a new package number."""
    status = ctx.status
    number = len(status.parcels) + sum(len(p.previous_labels) for p in status.parcels) + 1
    label = await buy_package_label(ctx, parcel.package, number)
    parcel.previous_labels.append(parcel.label)
    parcel.label = label
    parcel.tracking_status = parcel.tracking_exception = parcel.tracking_detail = ""
    parcel.last_scan_at = workflow.now()
    adopt_early_events(status, workflow.now())
    summarise(status)
    ctx.move(
        OrderState.RESHIPPING,
        f"package {parcel.package.number} again as package {number}: "
        f"{label.carrier} {label.tracking_code}",
    )
    if workflow.patched(order_further.FURTHER_PICK):
        await order_further.pick(ctx, parcel.package.goods(ctx.order), number)
    if workflow.patched(order_further.FURTHER_CONFIRM):
        await _confirm_further(ctx, confirmation_of(ctx, parcel, number))
        return
    detail = await _confirm_again(ctx, confirmation_of(ctx, parcel, number))
    ctx.move(OrderState.SHIPMENT_CONFIRMED, f"package {number} ({detail})")


async def _confirm_further(ctx: OrderContext, confirmation: ConfirmShipmentInput) -> None:
    """Confirmed: SHIPMENT_CONFIRMED. Not confirmed: the order stays RESHIPPING until
    the carrier's first scan moves it on (it is never called confirmed)."""
    number = confirmation.package
    if ctx.status.replacement_of:
        ctx.move(OrderState.SHIPMENT_CONFIRMED, f"package {number} ({REPLACEMENT_NOT_CONFIRMED})")
        return
    confirmed = await order_further.confirm(ctx, confirmation)
    if confirmed is not None:
        ctx.move(OrderState.SHIPMENT_CONFIRMED, f"package {number} ({confirmed})")


async def _confirm_again(ctx: OrderContext, confirmation: ConfirmShipmentInput) -> str:
    """Tell the channel about a further parcel; a refusal is flagged, not fatal."""
    if ctx.status.replacement_of:
        return REPLACEMENT_NOT_CONFIRMED
    confirmed = await ctx.try_call(
        MarketplaceActivities.confirm_shipment,
        confirmation,
        f"confirming package {confirmation.package} to {ctx.order.channel}",
    )
    return confirmed.confirmation_id if confirmed else "not confirmed to the channel"
