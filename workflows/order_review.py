"""Order validation and the review gate: quote, verify the address, screen the order
against the policies (pure, in workflow code), refuse or ask an operator."""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.carrier import CarrierActivities
    from activities.records import RecordsActivities
    from crossdock.models.approval import ApprovalRequest, DecisionAction, Role
    from crossdock.models.buyer_history import BuyerHistory, RecordBuyerOrderInput
    from crossdock.models.channel_cancel import SellerCancelReason
    from crossdock.models.order_states import OrderState
    from crossdock.models.screening import (
        AddressVerdict,
        OrderAssessment,
        Outcome,
        VerifyAddressInput,
    )
    from crossdock.policies import assess_order
    from crossdock.policies.risk import RISK_RULES
    from workflows.order_context import OrderContext, OrderRejected
    from workflows.order_customs import quote_landed_cost

REVIEW_ROLES = frozenset({Role.OPERATOR, Role.ADMIN})
REVIEW_ACTIONS = frozenset(
    {DecisionAction.APPROVE, DecisionAction.REJECT, DecisionAction.REQUEST_INFO}
)


async def validate(ctx: OrderContext, *, screening: bool) -> None:
    """Quote duties and taxes; with `screening`, also check address, HS codes, goods,
    parties and risk: refuse, pass, or hold the order for an operator's review."""
    quote = await quote_landed_cost(ctx)
    detail = (
        f"{quote.regime}: duties {quote.duties}, taxes {quote.taxes}, "
        f"buyer owes {ctx.status.amount_due}"
    )
    if not screening:
        ctx.move(OrderState.VALIDATED, detail)
        return
    verdict = await ctx.call(
        CarrierActivities.verify_address, VerifyAddressInput(address=ctx.order.ship_to)
    )
    assessment = await assess(ctx, verdict)
    ctx.status.assessment = assessment
    for line in assessment.timeline():
        ctx.note("check", line)
    if assessment.outcome is Outcome.REFUSE:
        undeliverable = not verdict.deliverable
        raise OrderRejected(
            assessment.refusal_reason or "refused by the order checks",
            SellerCancelReason.ADDRESS_UNDELIVERABLE
            if undeliverable
            else SellerCancelReason.CANNOT_FULFIL,
        )
    ctx.move(OrderState.VALIDATED, detail)
    if assessment.outcome is Outcome.REVIEW:
        await review(ctx, assessment.review_reasons)


async def assess(ctx: OrderContext, verdict: AddressVerdict) -> OrderAssessment:
    """Every order check, the risk score weighing the buyer's history and billing country."""
    history = await buyer_history(ctx)
    if history is None:  # started before buyer history: scored as it was then
        return assess_order(ctx.order, address=verdict)
    return assess_order(
        ctx.order,
        billing_country=ctx.order.billing_country,
        first_time_buyer=history.first_time_buyer,
        orders_last_24h=history.orders_in_window,
        address=verdict,
    )


async def buyer_history(ctx: OrderContext) -> BuyerHistory | None:
    """Record the order in its buyer's history and return the orders before it; None
    for orders started before buyer history existed (their histories replay as they
    ran, without the activity and without the billing-country rule)."""
    if not workflow.patched("buyer-history"):
        return None
    order = ctx.order
    history = await ctx.call(
        RecordsActivities.record_buyer_order,
        RecordBuyerOrderInput(
            order_workflow_id=workflow.info().workflow_id,
            channel=order.channel,
            buyer=order.buyer,
            placed_at=order.placed_at,
            window_hours=RISK_RULES.velocity.window_hours,
        ),
    )
    ctx.note(
        "buyer_history",
        f"{history.previous_orders} earlier order(s), {history.orders_in_window} in the "
        f"last {RISK_RULES.velocity.window_hours} h",
    )
    return history


async def review(ctx: OrderContext, reasons: list[str]) -> None:
    """Wait for an operator's decision; reject, expiry (T3) or cancellation end the order."""
    policy = ctx.policy
    ctx.move(OrderState.IN_REVIEW, "; ".join(reasons))
    outcome = await ctx.approval.ask(
        ApprovalRequest(
            key="review",
            subject="Order held for review: " + "; ".join(reasons),
            allowed_roles=REVIEW_ROLES,
            actions=REVIEW_ACTIONS,
            remind_after=timedelta(seconds=policy.review_remind_seconds),
            escalate_after=timedelta(seconds=policy.review_escalate_seconds),
            expire_after=timedelta(seconds=policy.review_expire_seconds),
        )
    )
    ctx.check_cancelled()
    if not outcome.approved:
        why = outcome.decision.reason if outcome.decision else outcome.reason
        raise OrderRejected(f"review {outcome.state}: {why}", SellerCancelReason.RISK_REJECTED)
    assert outcome.decision is not None
    decision = outcome.decision
    ctx.move(OrderState.APPROVED, f"approved by {decision.by.id}: {decision.reason}".rstrip(": "))
