"""After a partial shipment: ship the backordered lines when their stock arrives, as
further packages, or cancel them at the backorder deadline (stock released, buyer
refunded their value). The parcels already sent travel on meanwhile."""

from __future__ import annotations

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.marketplace import MarketplaceActivities
    from crossdock.models.channel_cancel import SellerCancelReason
    from crossdock.models.order_states import OrderState
    from crossdock.models.order_status import ParcelStatus
    from crossdock.models.packages import Package
    from crossdock.models.stock import line_ref
    from workflows import order_further
    from workflows.order_channel import tell_channel
    from workflows.order_context import OrderContext, OrderRejected
    from workflows.order_further import FURTHER_CONFIRM
    from workflows.order_packages import (
        adopt_early_events,
        buy_package_label,
        confirmation_of,
        summarise,
    )
    from workflows.order_packing import plan_packages
    from workflows.order_refund import refund, refunded_by_channel
    from workflows.order_stock import fulfil, ready, release_lines, wait_for_stock, waiting


async def ship_backorder(ctx: OrderContext) -> None:
    status = ctx.status
    short = [i for i in waiting(status.stock) if i not in status.shipped_lines]
    if not short:
        return
    ctx.move(OrderState.BACKORDERED, ", ".join(f"{line_ref(i)} waits for stock" for i in short))
    reservation = await wait_for_stock(ctx, any_line=False)
    arrived = [i for i in ready(reservation, set(status.shipped_lines)) if i in short]
    shipped = await _ship_lines(ctx, arrived) if arrived else []
    # Lines a person recorded as shipped by hand (the warehouse refused) are not missing.
    missing = [i for i in short if i not in shipped and i not in status.shipped_lines]
    if missing:
        await _cancel_lines(ctx, missing)
    if not shipped:
        ctx.move(OrderState.IN_TRANSIT, "nothing more to ship; the parcels sent travel on")


async def _ship_lines(ctx: OrderContext, lines: list[int]) -> list[int]:
    """Label and confirm the lines as new packages; returns the lines that shipped."""
    status = ctx.status
    first = len(status.parcels) + sum(len(p.previous_labels) for p in status.parcels) + 1
    planned = plan_packages(ctx.order, ctx.policy.max_parcel_grams, line_indexes=lines)
    sent: list[ParcelStatus] = []
    confirmed: list[int] = []
    for offset, plan in enumerate(planned):
        package = Package(number=first + offset, lines=plan.lines)
        try:
            label = await buy_package_label(ctx, package, package.number)
        except OrderRejected as refusal:
            ctx.attention(True, f"package {package.number} not labelled: {refusal}")
            continue
        parcel = ParcelStatus(package=package, label=label, last_scan_at=workflow.now())
        if not ctx.status.replacement_of:
            if await _confirm(ctx, parcel, package.number):
                confirmed.append(package.number)
        status.parcels.append(parcel)
        sent.append(parcel)
    shipped = sorted({line.line_index for parcel in sent for line in parcel.package.lines})
    if not sent:
        return []
    await fulfil(ctx, shipped, sent[0].package.number)
    adopt_early_events(status, workflow.now())
    summarise(status)
    numbers = ", ".join(str(parcel.package.number) for parcel in sent)
    if confirmed or ctx.status.replacement_of or not workflow.patched(FURTHER_CONFIRM):
        ctx.move(OrderState.SHIPMENT_CONFIRMED, f"backordered lines shipped: package {numbers}")
    else:
        # Nothing the channel confirmed: the order is not called confirmed.
        ctx.move(OrderState.IN_TRANSIT, f"backordered lines shipped unconfirmed: package {numbers}")
    return shipped


async def _confirm(ctx: OrderContext, parcel: ParcelStatus, number: int) -> bool:
    """Tell the channel a backordered package shipped; True when it confirmed."""
    confirmation = confirmation_of(ctx, parcel, number)
    if workflow.patched(FURTHER_CONFIRM):
        return await order_further.confirm(ctx, confirmation) is not None
    told = await ctx.try_call(
        MarketplaceActivities.confirm_shipment,
        confirmation,
        f"confirming package {number} to {ctx.order.channel}",
    )
    return told is not None


async def _cancel_lines(ctx: OrderContext, lines: list[int]) -> None:
    """Release the lines' stock, tell the channel, and refund them: marketplaces refund
    the buyer themselves when told; the storefront refunds through the provider."""
    refs = ", ".join(line_ref(i) for i in lines)
    value = await release_lines(ctx, lines)
    ctx.note("lines_cancelled", f"{refs}: no stock by the backorder deadline")
    if ctx.status.replacement_of:
        ctx.attention(True, f"replacement lines {refs} out of stock: tell the buyer")
        return
    told = await tell_channel(ctx, SellerCancelReason.OUT_OF_STOCK, lines)
    if told is not None and ctx.order.channel.collects_payment:
        refunded_by_channel(ctx, value, f"{refs} out of stock")
        return
    await refund(
        ctx,
        keep=None,
        why=f"{refs} out of stock",
        share=value,
        step="backorder-refund",
        close=False,
    )
