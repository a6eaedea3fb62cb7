"""Multi-package orders: a label and a channel confirmation per package, and the
parcels' tracking summarised into the order's own tracking fields.

The summary lets the parcel-exception logic (`order_parcel`) serve one parcel or many:
the order is in transit when every parcel still travelling has moved, delivered when
none is left travelling, and an exception (or the longest silence) of one parcel makes
it the order's current parcel, handled on its own (claim, reship, or refund its share).
"""

from __future__ import annotations

from datetime import UTC, datetime

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.carrier import CarrierActivities
    from activities.marketplace import MarketplaceActivities
    from crossdock.models.order_states import OrderState
    from crossdock.models.order_status import TRACKING_EXCEPTIONS, OrderStatus, ParcelStatus, rank
    from crossdock.models.order_steps import (
        BuyLabelInput,
        ConfirmShipmentInput,
        ShippingLabel,
        TrackingUpdate,
        VoidLabelInput,
    )
    from crossdock.models.packages import Package
    from workflows.options import call_partner
    from workflows.order_context import OrderContext
    from workflows.saga import Compensation
    from workflows.tracking_memory import remember as remember_event

MULTI_PACKAGE = "multi-package"
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# Events for parcels not recorded yet are kept, up to this many.
EARLY_EVENTS = 20


def step(package: int, name: str) -> str:
    """Idempotency step of one package's side effect ("package-2/label")."""
    return f"package-{package}/{name}"


async def buy_labels(ctx: OrderContext, packages: list[Package]) -> None:
    """One label per package, each with its undo; a cancellation between two labels is
    honoured at once (the labels bought so far are voided)."""
    for package in packages:
        if ctx.status.parcels:
            await ctx.checkpoint()
        label = await buy_package_label(ctx, package, package.number)
        ctx.saga.add(f"void_label (package {package.number})", _void(ctx, label, package.number))
        ctx.status.parcels.append(ParcelStatus(package=package, label=label))
    adopt_early_events(ctx.status, workflow.now())
    summarise(ctx.status)
    if ctx.status.needs_attention:
        ctx.attention(False, "labels bought")
    ctx.move(OrderState.LABEL_BOUGHT, "; ".join(_describe(p) for p in ctx.status.parcels))


def _void(ctx: OrderContext, label: ShippingLabel, package: int) -> Compensation:
    return lambda: call_partner(
        CarrierActivities.void_label,
        VoidLabelInput(
            shipment_id=label.shipment_id, idempotency_key=ctx.key(step(package, "void-label"))
        ),
    )


async def buy_package_label(ctx: OrderContext, package: Package, number: int) -> ShippingLabel:
    status = ctx.status
    goods = package.goods(ctx.order)
    if status.corrected_address is not None:
        goods = goods.model_copy(update={"ship_to": status.corrected_address})
    return await ctx.call(
        CarrierActivities.buy_label,
        BuyLabelInput(
            reference=ctx.workflow_id,
            order=goods,
            ship_from=ctx.policy.ship_from,
            idempotency_key=ctx.key(step(number, "label")),
        ),
    )


async def confirm_packages(ctx: OrderContext) -> None:
    """Tell the channel each package shipped, with the item quantities it carries (not
    for a replacement: the channel keeps the original order's confirmation)."""
    ctx.shipping_committed = True
    confirmed = []
    for parcel in ctx.status.parcels:
        if not ctx.status.replacement_of:
            confirmation = await ctx.call(
                MarketplaceActivities.confirm_shipment,
                confirmation_of(ctx, parcel, parcel.package.number),
            )
            confirmed.append(f"package {parcel.package.number} ({confirmation.confirmation_id})")
        parcel.last_scan_at = workflow.now()  # silence is counted from shipment
    summarise(ctx.status)
    detail = f"confirmed to {ctx.order.channel}: {', '.join(confirmed)}"
    ctx.move(OrderState.SHIPMENT_CONFIRMED, detail if confirmed else "replacement: not confirmed")


def confirmation_of(ctx: OrderContext, parcel: ParcelStatus, number: int) -> ConfirmShipmentInput:
    return ConfirmShipmentInput(
        order=parcel.package.goods(ctx.order),
        tracking_code=parcel.label.tracking_code,
        carrier=parcel.label.carrier,
        shipped_at=workflow.now(),
        idempotency_key=ctx.key(step(number, "confirm")),
        package=number,
    )


def record(status: OrderStatus, update: TrackingUpdate, now: datetime) -> bool:
    """File a carrier event under its parcel; False when it changes nothing (a duplicate,
    a stale event, or one about a parcel that is no longer ours)."""
    parcel = next(
        (p for p in status.parcels if p.label.tracking_code == update.tracking_code), None
    )
    if parcel is None:
        # Maybe a parcel whose label the workflow has not recorded yet (the carrier's
        # webhook beat the activity's result): keep it until that parcel appears.
        if not any(update.tracking_code in _codes(p) for p in status.parcels):
            keep_early(status, update)
        return False
    if parcel.outcome or update.event_id in parcel.events_seen:
        return False
    remember_event(parcel.events_seen, update.event_id)
    parcel.last_scan_at = now
    if update.status in TRACKING_EXCEPTIONS:
        parcel.tracking_exception, parcel.tracking_detail = update.status, update.description
    elif rank(update.status) > rank(parcel.tracking_status):
        parcel.tracking_status = update.status
        if update.status == "delivered":
            parcel.outcome = "delivered"
    summarise(status)
    return True


def keep_early(status: OrderStatus, update: TrackingUpdate) -> bool:
    """Keep an event for a parcel whose label is not recorded yet; False when it is kept
    already. Only the latest `EARLY_EVENTS` are kept, so events for parcels that never
    become the order's cannot grow its state; progress only moves forward, so the
    latest say the most."""
    if update in status.early_tracking:
        return False
    status.early_tracking = [*status.early_tracking[-(EARLY_EVENTS - 1) :], update]
    return True


def adopt_early_events(status: OrderStatus, now: datetime) -> None:
    """Apply the events that arrived before their parcel's label was recorded."""
    early, status.early_tracking = status.early_tracking, []
    for update in early:
        record(status, update, now)


def _codes(parcel: ParcelStatus) -> set[str]:
    return {parcel.label.tracking_code, *(label.tracking_code for label in parcel.previous_labels)}


def travelling(status: OrderStatus) -> list[ParcelStatus]:
    return [p for p in status.parcels if not p.outcome]


def current(status: OrderStatus) -> ParcelStatus | None:
    """The parcel the order attends to: one with an exception, else the longest silent."""
    moving = travelling(status)
    troubled = [p for p in moving if p.tracking_exception]
    if troubled:
        return troubled[0]
    if not moving:
        return None
    return min(moving, key=lambda p: p.last_scan_at or EPOCH)


def summarise(status: OrderStatus) -> None:
    """Write the parcels' state into the order's own tracking fields."""
    moving = travelling(status)
    status.tracking_events_seen = [e for p in status.parcels for e in p.events_seen]
    attended = current(status)
    if attended is None:
        delivered = any(p.outcome == "delivered" for p in status.parcels)
        status.tracking_status = "delivered" if delivered else ""
        status.tracking_exception = status.tracking_detail = ""
        return
    status.label = attended.label
    status.tracking_exception = attended.tracking_exception
    status.tracking_detail = attended.tracking_detail
    status.last_scan_at = attended.last_scan_at
    status.tracking_status = min((p.tracking_status for p in moving), key=rank)


def _describe(parcel: ParcelStatus) -> str:
    label = parcel.label
    return f"package {parcel.package.number}: {label.carrier} {label.tracking_code}"
