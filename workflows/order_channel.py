"""Telling the channel that the seller cancelled the order, or some of its lines.

Amazon and eBay keep their own copy of the order and refund the buyer themselves when
the seller cancels (Amazon's order acknowledgement, eBay's cancellation or line refund);
the storefront's record is marked cancelled. A channel that refuses is flagged for a
person, never retried forever: the order's own undo is done either way.
"""

from __future__ import annotations

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.channel_cancel import ChannelCancelActivities
    from crossdock.models.channel_cancel import (
        CancelOnChannelInput,
        ChannelCancellation,
        SellerCancelReason,
    )
    from crossdock.models.order import Channel
    from workflows.order_context import OrderContext

TELL_CHANNEL = "tell-channel"


async def tell_channel(
    ctx: OrderContext, reason: SellerCancelReason, lines: list[int] | None = None
) -> ChannelCancellation | None:
    """Cancel the whole order (or `lines`, indexes into its items) on its channel."""
    order = ctx.order
    chosen = [] if lines is None else [_line_id(ctx, i) for i in lines]
    step = "cancel-on-channel" if lines is None else "cancel-lines-on-channel"
    what = "the order" if lines is None else f"{len(chosen)} line(s)"
    told = await ctx.try_call(
        ChannelCancelActivities.cancel_on_channel,
        CancelOnChannelInput(
            order=order, reason=reason, line_ids=chosen, idempotency_key=ctx.key(step)
        ),
        f"telling {order.channel} {what} cancelled ({reason.value})",
    )
    if told is not None:
        ctx.note(
            "channel_told", f"{what} cancelled on {order.channel}: {told.status} {told.reference}"
        )
    return told


def _line_id(ctx: OrderContext, index: int) -> str:
    # The storefront's lines have no channel id: it knows them by SKU.
    item = ctx.order.items[index]
    return item.sku if ctx.order.channel is Channel.STOREFRONT else item.line_id
