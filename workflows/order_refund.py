"""Refunding a shipped order that will not arrive: never more than was captured, in the
original currency; through the payment provider for the storefront. Marketplaces
collected the money, so their refund goes through their own API (it arrives with
returns); until then the operator refunds there, and the order says so."""

from __future__ import annotations

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.payments import PaymentActivities
    from crossdock.models.order_steps import RefundPaymentInput
    from crossdock.money import Money
    from workflows.order_context import OrderContext
    from workflows.order_states import OrderState


def refundable(ctx: OrderContext, keep: Money | None) -> Money:
    """What the buyer gets back: what they paid, less what policy keeps (never < 0). On
    the storefront that is what we captured (nothing, if the capture was refused);
    marketplaces collected what the buyer owed."""
    status = ctx.status
    if status.authorization is not None:
        paid = status.captured or Money.zero(status.authorization.amount.currency)
    else:
        paid = status.amount_due or ctx.order.order_total
    amount = paid - keep if keep is not None else paid
    return amount if amount.amount > 0 else Money.zero(paid.currency)


async def refund(ctx: OrderContext, *, keep: Money | None, why: str) -> None:
    amount = refundable(ctx, keep)
    authorization = ctx.status.authorization
    if authorization is not None and amount.amount > 0:
        result = await ctx.try_call(
            PaymentActivities.refund_payment,
            RefundPaymentInput(
                intent_id=authorization.intent_id, amount=amount, idempotency_key=ctx.key("refund")
            ),
            f"refund of {amount}",
        )
        if result is not None:
            ctx.status.refunded = result.amount
            ctx.move(OrderState.REFUNDED, f"{why}: refunded {result.amount} ({result.status})")
            return
    ctx.status.refunded = amount
    ctx.attention(True, f"refund {amount} on {ctx.order.channel} by hand: {why}")
    ctx.move(OrderState.REFUNDED, f"{why}: {amount} to refund on {ctx.order.channel}")
