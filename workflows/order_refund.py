"""Refunding a shipped order that will not arrive: never more than was paid less what
returns already refunded or reserved (the order's ledger), in the original currency;
through the payment provider for the storefront. Marketplaces collected the money, so
a person makes their refund on the marketplace.

The ledger counts a refund only once the provider confirmed it, or a person answered
that it was made by hand (`workflows/order_questions.py`): a refused refund is a
question to finance, never a refund recorded as made. Before the REFUND_CONFIRMED patch
a refused refund was recorded as made and only flagged.
"""

from __future__ import annotations

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.payments import PaymentActivities
    from crossdock.models import order_ledger
    from crossdock.models.order_cases import RefundOutcome, RefundRequest
    from crossdock.models.order_states import OrderState
    from crossdock.models.order_steps import RefundPaymentInput
    from crossdock.models.refusals import PartnerQuestion, Refusal, RefusalKind
    from crossdock.money import Money
    from workflows import order_messages, order_questions
    from workflows.order_context import OrderContext
    from workflows.order_questions import (
        CLOSE,
        REFUNDED_ANOTHER_WAY,
        REFUNDED_BY_HAND,
        RETRY,
        Answer,
    )

REFUND_CONFIRMED = "refund-confirmed-only"
PROVIDER_CHOICES = (
    "Retry; or record it as refunded by hand (in the provider's dashboard) or another way "
    "(bank transfer, voucher), saying how; reject: no refund is made."
)


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
    """Refund the buyer; with `close`, the order ends refunded (else only a parcel was).
    A refund the partner or a person confirmed is told to the buyer."""
    await _refund(ctx, keep=keep, why=why, share=share, step=step, close=close)
    made = order_ledger.find(ctx.status, f"{ctx.workflow_id}/{step}")
    if made is not None and made.state == "succeeded":
        await order_messages.refunded(ctx, made.amount, step)


async def _refund(
    ctx: OrderContext,
    *,
    keep: Money | None,
    why: str,
    share: Money | None,
    step: str,
    close: bool,
) -> None:
    amount = refundable(ctx, keep, share)
    if amount.amount > 0:
        order_ledger.reserve(
            ctx.status,
            RefundRequest(case_id=ctx.workflow_id, step=step, amount=amount, reason=why),
        )
    reservation_id = f"{ctx.workflow_id}/{step}"
    authorization = ctx.status.authorization
    if workflow.patched(REFUND_CONFIRMED):
        if amount.amount > 0:
            await _refund_confirmed(ctx, amount, why, step, close)
            return
        # Nothing was paid or nothing is left: nothing to refund, nobody to ask.
        ctx.status.refunded = ctx.status.refunded or Money.zero(amount.currency)
        _done(ctx, close, f"{why}: nothing left to refund")
        return
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


async def _refund_confirmed(
    ctx: OrderContext, amount: Money, why: str, step: str, close: bool
) -> None:
    """Refund `amount` (reserved under `step`) and settle the ledger with what happened."""
    reservation_id = f"{ctx.workflow_id}/{step}"
    authorization = ctx.status.authorization
    if authorization is None:
        answer = await _ask_marketplace_refund(ctx, amount, why, step)
    else:
        intent_id = authorization.intent_id
        settled = await order_questions.until_settled(
            ctx,
            PaymentActivities.refund_payment,
            lambda key: RefundPaymentInput(intent_id=intent_id, amount=amount, idempotency_key=key),
            step=step,
            what=f"refund of {amount}",
            options=(RETRY, REFUNDED_BY_HAND, REFUNDED_ANOTHER_WAY),
            choices=PROVIDER_CHOICES,
            money=True,
        )
        if settled.result is not None:
            refund = settled.result
            order_ledger.settle(
                ctx.status,
                RefundOutcome(
                    reservation_id=reservation_id, succeeded=True, refund_id=refund.refund_id
                ),
            )
            _done(ctx, close, f"{why}: refunded {refund.amount} ({refund.status})")
            return
        assert settled.answer is not None
        answer = settled.answer
    _answered(ctx, amount, why, reservation_id, close, answer)


async def _ask_marketplace_refund(ctx: OrderContext, amount: Money, why: str, step: str) -> Answer:
    channel = ctx.order.channel
    question = PartnerQuestion(
        step=step,
        what=f"refund of {amount} on {channel}",
        refusal=Refusal(
            kind=RefusalKind.REFUSED,
            message=f"{channel} collected the payment: the refund is made on {channel}",
            partner=str(channel),
        ),
        money=True,
    )
    subject = (
        f"Refund {amount} on {channel} by hand ({why}), then record it here with the "
        "marketplace's refund reference; reject: no refund is made."
    )
    return await order_questions.ask(ctx, question, subject, (REFUNDED_BY_HAND,))


def _answered(
    ctx: OrderContext, amount: Money, why: str, reservation_id: str, close: bool, answer: Answer
) -> None:
    """A person's answer instead of the partner's confirmation: refunded by hand (the
    ledger counts it, attributed), or no refund (the reservation is freed)."""
    made = answer.option != CLOSE
    order_ledger.settle(
        ctx.status,
        RefundOutcome(
            reservation_id=reservation_id,
            succeeded=made,
            refund_id=f"{answer.option}:{answer.by.id if answer.by else '-'}" if made else "",
            detail=answer.reason[:500],
        ),
    )
    if made:
        _done(ctx, close, f"{why}: {amount} {answer.describe()}")
        return
    ctx.status.refunded = ctx.status.refunded or Money.zero(amount.currency)
    detail = f"{why}: no refund of {amount} made ({answer.describe()})"
    if close:
        ctx.move(OrderState.CLOSED, detail)
    else:
        ctx.note("refund_not_made", detail)


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
