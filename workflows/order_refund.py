"""Refunding a shipped order that will not arrive: never more than was paid less what
returns already refunded or reserved (the order's ledger), in the original currency;
through the payment provider for the storefront. Marketplaces collected the money, so
their refund is flagged for an operator to make on the marketplace."""

from __future__ import annotations

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.payments import PaymentActivities
    from crossdock.models.order_cases import RefundOutcome, RefundRequest
    from crossdock.models.order_steps import RefundPaymentInput
    from crossdock.money import Money
    from workflows import order_ledger
    from workflows.order_context import OrderContext
    from workflows.order_states import OrderState


def refundable(ctx: OrderContext, keep: Money | None, share: Money | None = None) -> Money:
    """What the buyer gets back: what is left to refund (or only `share` of it, for one
    parcel of several), less what policy keeps; never below zero."""
    left = order_ledger.remaining(ctx.status, ctx.order)
    if share is not None and share.amount < left.amount:
        left = share
    amount = left - keep if keep is not None else left
    return amount if amount.amount > 0 else Money.zero(left.currency)


async def refund(
    ctx: OrderContext,
    *,
    keep: Money | None,
    why: str,
    share: Money | None = None,
    step: str = "refund",
    close: bool = True,
) -> None:
    """Refund the buyer; with `close`, the order ends refunded (else only a parcel was)."""
    amount = refundable(ctx, keep, share)
    if amount.amount > 0:
        order_ledger.reserve(
            ctx.status,
            RefundRequest(case_id=ctx.workflow_id, step=step, amount=amount, reason=why),
        )
    reservation_id = f"{ctx.workflow_id}/{step}"
    authorization = ctx.status.authorization
    if authorization is not None and amount.amount > 0:
        result = await ctx.try_call(
            PaymentActivities.refund_payment,
            RefundPaymentInput(
                intent_id=authorization.intent_id, amount=amount, idempotency_key=ctx.key(step)
            ),
            f"refund of {amount}",
        )
        if result is not None:
            order_ledger.settle(
                ctx.status, RefundOutcome(reservation_id=reservation_id, succeeded=True)
            )
            _done(ctx, close, f"{why}: refunded {result.amount} ({result.status})")
            return
    if amount.amount > 0:
        order_ledger.settle(
            ctx.status, RefundOutcome(reservation_id=reservation_id, succeeded=True)
        )
    ctx.status.refunded = ctx.status.refunded or Money.zero(amount.currency)
    ctx.attention(True, f"refund {amount} on {ctx.order.channel} by hand: {why}")
    _done(ctx, close, f"{why}: {amount} to refund on {ctx.order.channel}")


def _done(ctx: OrderContext, close: bool, detail: str) -> None:
    if close:
        ctx.move(OrderState.REFUNDED, detail)
    else:
        ctx.note("refunded", detail)


def refunded_by_channel(ctx: OrderContext, amount: Money, why: str) -> None:
    """Record a refund the marketplace made itself (on a seller cancellation)."""
    step = "channel-refund"
    order_ledger.reserve(
        ctx.status, RefundRequest(case_id=ctx.workflow_id, step=step, amount=amount, reason=why)
    )
    order_ledger.settle(
        ctx.status, RefundOutcome(reservation_id=f"{ctx.workflow_id}/{step}", succeeded=True)
    )
    ctx.note("refunded", f"{why}: {amount} refunded by {ctx.order.channel}")
