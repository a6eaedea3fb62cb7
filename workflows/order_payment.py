"""Order steps with money: secure the payment before anything is booked, capture it
once the goods ship."""

from __future__ import annotations

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.marketplace import MarketplaceActivities
    from activities.payments import PaymentActivities
    from crossdock.models.order_states import OrderState
    from crossdock.models.order_steps import (
        AuthorizePaymentInput,
        CapturePaymentInput,
        PaymentCapture,
        VerifyMarketplacePaymentInput,
        VoidAuthorizationInput,
    )
    from workflows import order_questions
    from workflows.options import call_partner
    from workflows.order_context import OrderContext, OrderRejected
    from workflows.order_questions import CAPTURED_BY_HAND, RETRY

# A refused capture after shipment is a question to finance (it used to be only flagged,
# the flag outliving the workflow).
CAPTURE_REFUSAL_ASKS = "capture-refusal-asks"
CAPTURE_CHOICES = (
    "Retry; or record it as collected by hand (a new charge, a payment link), saying how; "
    "reject: the payment is not collected."
)


async def secure_payment(ctx: OrderContext) -> None:
    """Marketplaces: verify they collected the payment. Storefront: authorize what the
    buyer owes (captured at shipment), with its void registered for compensation."""
    order = ctx.order
    if ctx.status.replacement_of:
        ctx.move(OrderState.PAYMENT_SECURED, f"replaces {ctx.status.replacement_of}: no charge")
        return
    if order.channel.collects_payment:
        payment = await ctx.call(
            MarketplaceActivities.verify_marketplace_payment,
            VerifyMarketplacePaymentInput(
                channel=order.channel, channel_order_id=order.channel_order_id
            ),
        )
        if not payment.paid:
            raise OrderRejected(
                f"{order.channel} reports the order unpaid ({payment.status})", tell_channel=None
            )
        ctx.move(OrderState.PAYMENT_SECURED, f"paid on {order.channel}")
        return
    assert order.payment_method is not None  # the Order contract guarantees it
    assert ctx.status.amount_due is not None
    authorization = await ctx.call(
        PaymentActivities.authorize_payment,
        AuthorizePaymentInput(
            reference=ctx.workflow_id,
            amount=ctx.status.amount_due,
            payment_method=order.payment_method,
            idempotency_key=ctx.key("authorize"),
        ),
    )
    ctx.status.authorization = authorization
    ctx.saga.add(
        "void_authorization",
        lambda: call_partner(
            PaymentActivities.void_authorization,
            VoidAuthorizationInput(
                intent_id=authorization.intent_id, idempotency_key=ctx.key("void")
            ),
        ),
    )
    ctx.move(OrderState.PAYMENT_SECURED, f"authorized {authorization.amount}")


async def capture_payment(ctx: OrderContext) -> None:
    authorization = ctx.status.authorization
    assert authorization is not None
    if workflow.patched(CAPTURE_REFUSAL_ASKS):
        capture = await _capture_or_ask(ctx)
    else:
        capture = await ctx.try_call(
            PaymentActivities.capture_payment,
            CapturePaymentInput(
                intent_id=authorization.intent_id,
                amount=authorization.amount,
                idempotency_key=ctx.key("capture"),
            ),
            "capture",
        )
    if capture is None:
        return  # the goods have shipped: a person collects the payment
    ctx.status.captured = capture.captured
    ctx.move(OrderState.PAYMENT_CAPTURED, f"captured {capture.captured}")


async def _capture_or_ask(ctx: OrderContext) -> PaymentCapture | None:
    """The provider's capture; on a refusal, what finance answered (collected by hand
    counts as captured, on their word; reject leaves nothing captured)."""
    authorization = ctx.status.authorization
    assert authorization is not None
    settled = await order_questions.until_settled(
        ctx,
        PaymentActivities.capture_payment,
        lambda key: CapturePaymentInput(
            intent_id=authorization.intent_id, amount=authorization.amount, idempotency_key=key
        ),
        step="capture",
        what=f"capture of {authorization.amount}",
        options=(RETRY, CAPTURED_BY_HAND),
        choices=CAPTURE_CHOICES,
        money=True,
    )
    if settled.result is not None:
        return settled.result
    answer = settled.answer
    assert answer is not None
    if answer.option != CAPTURED_BY_HAND:
        ctx.note("not_captured", f"{authorization.amount}: {answer.describe()}")
        return None
    ctx.note("captured_by_hand", f"{authorization.amount}: {answer.describe()}")
    return PaymentCapture(intent_id=authorization.intent_id, captured=authorization.amount)
