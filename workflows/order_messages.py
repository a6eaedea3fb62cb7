"""The order's buyer messages: confirmed, shipped (per parcel, with tracking and the
expected delivery), duties due on delivery (DAP), held in customs, delivered, cancelled
(the reason in the buyer's terms) and refunded. Each once per step and parcel; each
behind the `buyer-messages` patch so recorded histories replay."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from crossdock.models.channel_cancel import SellerCancelReason
    from crossdock.models.notify import NotificationTemplate
    from crossdock.models.order import Incoterm
    from crossdock.models.order_steps import ShippingLabel
    from crossdock.money import Money
    from workflows.buyer_messages import BUYER_MESSAGES, message, reachable, send
    from workflows.order_context import OrderContext

# EasyPost's public tracking page, which every carrier's tracker has.
TRACKING_PAGE = "https://track.easypost.com/{tracker_id}"


async def tell(
    ctx: OrderContext,
    template: NotificationTemplate,
    step: str,
    *,
    params: Mapping[str, str] | None = None,
    amounts: Mapping[str, Money] | None = None,
    dates: Mapping[str, date] | None = None,
    terms: Mapping[str, str] | None = None,
) -> None:
    """Send `template` once under `step` (a replacement order's buyer heard already)."""
    if ctx.status.replacement_of or not workflow.patched(BUYER_MESSAGES):
        return
    if not reachable(ctx.order):
        ctx.note("notification_skipped", f"{template.value}: no way to reach the buyer")
        return
    try:
        key = ctx.key(f"notify-{step}")
        input = message(
            ctx.order, template, key, params=params, amounts=amounts, dates=dates, terms=terms
        )
    except ValueError as err:
        ctx.attention(True, f"buyer not notified ({template.value}): {err}")
        return
    await send(input, ctx.note, lambda why: ctx.attention(True, why))


async def confirmed(ctx: OrderContext) -> None:
    await tell(
        ctx,
        NotificationTemplate.ORDER_CONFIRMED,
        "confirmed",
        dates={"expected_delivery": ctx.order.deliver_by.date()},
    )


async def held_in_customs(ctx: OrderContext) -> None:
    await tell(ctx, NotificationTemplate.HELD_IN_CUSTOMS, "customs-hold")


def _labels(ctx: OrderContext) -> list[tuple[str, ShippingLabel]]:
    if ctx.status.parcels:
        return [(f"package-{p.package.number}/", p.label) for p in ctx.status.parcels]
    return [("", ctx.status.label)] if ctx.status.label is not None else []


async def shipped(ctx: OrderContext) -> None:
    """Shipped, once per parcel; then the duties the buyer pays at the door (DAP)."""
    for prefix, label in _labels(ctx):
        await tell(
            ctx,
            NotificationTemplate.SHIPPED,
            f"{prefix}shipped",
            params={
                "carrier": label.carrier,
                "tracking_code": label.tracking_code,
                "tracking_url": TRACKING_PAGE.format(tracker_id=label.tracker_id),
            },
            dates={"expected_delivery": ctx.order.deliver_by.date()},
        )
    due = duties_at_the_door(ctx)
    labels = _labels(ctx)
    if due is not None and labels:
        await tell(
            ctx,
            NotificationTemplate.DUTIES_DUE,
            "duties-due",
            params={"carrier": labels[0][1].carrier},
            amounts={"duties": due},
        )


def duties_at_the_door(ctx: OrderContext) -> Money | None:
    """What the carrier collects from the buyer on delivery: under DAP, the duties and
    taxes not collected at checkout; None when nothing is due."""
    quote = ctx.status.landed_cost
    if ctx.order.incoterm is not Incoterm.DAP or quote is None:
        return None
    due = quote.duties + quote.taxes - quote.due_at_checkout
    return due if due.amount > 0 else None


async def delivered(ctx: OrderContext) -> None:
    await tell(ctx, NotificationTemplate.DELIVERED, "delivered")


async def cancelled(ctx: OrderContext, reason: SellerCancelReason | None) -> None:
    """The reason in the buyer's terms, never the operator's note."""
    why = reason or SellerCancelReason.CANNOT_FULFIL
    await tell(
        ctx, NotificationTemplate.ORDER_CANCELLED, "cancelled", terms={"reason": f"cancel.{why}"}
    )


async def refunded(ctx: OrderContext, amount: Money, step: str) -> None:
    await tell(
        ctx, NotificationTemplate.ORDER_REFUNDED, f"{step}/refunded", amounts={"amount": amount}
    )
