"""Deciding a return: the policy first (eligibility, auto-approval), else an operator's
`decide` through the approval component; a partial-refund offer waits for the buyer."""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from crossdock.models.approval import (
        ApprovalRequest,
        Decision,
        DecisionAction,
        Price,
        Role,
    )
    from crossdock.models.notify import NotificationTemplate
    from crossdock.models.order import Order
    from crossdock.models.return_states import ReturnState
    from crossdock.models.return_status import ReturnStatus
    from crossdock.models.returns import ReturnOption, ReturnRequest, ReturnTimers
    from crossdock.money import Money
    from crossdock.policies.returns import Eligibility, assess
    from crossdock.replacements import replacement_value
    from workflows.options import condition_within
    from workflows.return_context import ReturnContext
    from workflows.return_notify import notify

DECIDERS = frozenset({Role.OPERATOR, Role.FINANCE, Role.ADMIN})
DECISION_KEY = "decision"


async def decide(ctx: ReturnContext) -> bool:
    """Leave the return approved (or its offer accepted) and return True, or declined
    and return False. The approved option and amount are in the status."""
    snapshot = ctx.order_snapshot
    verdict = assess(
        snapshot.order,
        ctx.request,
        delivered_at=snapshot.delivered_at,
        paid=snapshot.paid,
        now=workflow.now(),
    )
    ctx.status.eligibility = verdict
    ctx.note("eligibility", "; ".join(verdict.problems) or f"eligible, about {verdict.estimate}")
    if verdict.invalid:
        return await decline(ctx, "; ".join(verdict.problems))
    if verdict.auto_approve and not verdict.needs_finance:
        option = (
            ReturnOption.RETURNLESS if verdict.suggest_returnless else ReturnOption.RETURN_LABEL
        )
        approve(ctx, option, verdict.estimate, "auto-approved under policy")
        return True
    ctx.move(ReturnState.IN_REVIEW, "; ".join(verdict.problems) or "over the auto-approve amount")
    request = decision_request(ctx.request, snapshot.order, ctx.timers, verdict)
    outcome = await ctx.approval.ask(request)
    decision = outcome.decision
    if outcome.expired:
        # Marketplaces accept a return the seller leaves unanswered; so do we.
        option = ReturnOption.RETURN_LABEL if verdict.ship_back else ReturnOption.RETURNLESS
        approve(ctx, option, verdict.estimate, "no decision in time: accepted, as marketplaces do")
        return True
    if not outcome.approved or decision is None:
        return await decline(ctx, outcome.reason or "declined")
    amount = decision.amount or verdict.estimate
    option = ReturnOption(decision.option)
    if option is ReturnOption.PARTIAL_OFFER:
        return await offer(ctx, amount, verdict)
    approve(ctx, option, amount, f"by {decision.by}: {decision.reason}".rstrip(": "))
    return True


def decision_request(
    request: ReturnRequest, order: Order, timers: ReturnTimers, verdict: Eligibility
) -> ApprovalRequest:
    """The return decision put to operators, each option priced by what it gives away."""
    options = [ReturnOption.RETURNLESS, ReturnOption.PARTIAL_OFFER, ReturnOption.REPLACEMENT]
    if verdict.ship_back:
        options.insert(0, ReturnOption.RETURN_LABEL)
    why = "; ".join(verdict.problems) or "over the auto-approve amount"
    lines = ", ".join(f"{line.quantity}x {line.sku}" for line in request.lines)
    goods = replacement_value(order, request.lines)
    return ApprovalRequest(
        key=DECISION_KEY,
        subject=(
            f"{request.reason} return of {lines}, refund about {verdict.estimate} "
            f"(a replacement sends {goods} of goods): {why}"
        ),
        allowed_roles=DECIDERS,
        actions=frozenset(DecisionAction),
        options=tuple(option.value for option in options),
        remind_after=timedelta(seconds=timers.decision_remind_seconds),
        escalate_after=timedelta(seconds=timers.decision_escalate_seconds),
        expire_after=timedelta(seconds=timers.decision_expire_seconds),
        requested_by=request.requested_by,
        amount=verdict.estimate,
        # No threshold for the currency: every refund needs finance (never a guessed rate).
        finance_threshold=verdict.finance_threshold or Money.zero(verdict.estimate.currency),
        prices=prices(goods, verdict),
    )


def prices(goods: Money, verdict: Eligibility) -> tuple[Price, ...]:
    """What the options give away when it is not the amount typed: a replacement sends
    the goods again, and an offer the buyer declines falls back to the whole refund.
    return_label and returnless refund exactly the amount approved (capped, when the goods
    come back, by the inspection)."""
    return (
        Price(option=ReturnOption.REPLACEMENT, gives_away=goods),
        Price(option=ReturnOption.PARTIAL_OFFER, gives_away=verdict.estimate),
    )


def terms_refusal(decision: Decision) -> str:
    """What the approval rules do not know about returns: an offer needs its amount, and
    a replacement takes none (it sends goods, priced at their order value)."""
    if decision.action is not DecisionAction.APPROVE:
        return ""
    if decision.option == ReturnOption.PARTIAL_OFFER and decision.amount is None:
        return "a partial_offer needs the amount offered (amount), less than requested"
    if decision.option == ReturnOption.REPLACEMENT and decision.amount is not None:
        return (
            f"amount does not apply to a replacement (got {decision.amount}): it sends the "
            "returned lines again, priced at their order value; leave amount empty"
        )
    return ""


def finance_threshold(status: ReturnStatus, amount: Money) -> Money:
    """The return's finance threshold; none for the currency means every refund needs
    finance (never a guessed rate)."""
    verdict = status.eligibility
    threshold = verdict.finance_threshold if verdict is not None else None
    return threshold or Money.zero(amount.currency)


def approve(ctx: ReturnContext, option: ReturnOption, amount: Money, detail: str) -> None:
    ctx.status.option = option
    ctx.status.approved_amount = amount
    ctx.move(ReturnState.APPROVED, f"{option}, up to {amount}: {detail}")


async def decline(ctx: ReturnContext, reason: str) -> bool:
    ctx.status.reason = reason
    ctx.move(ReturnState.DECLINED, reason)
    await notify(ctx, NotificationTemplate.RETURN_DECLINED, "declined", reason=reason)
    return False


async def offer(ctx: ReturnContext, amount: Money, verdict: Eligibility) -> bool:
    """Offer `amount` for the buyer to keep the goods; accepted: refund it; declined or
    unanswered: the ordinary return."""
    ctx.status.offer = amount
    ctx.move(ReturnState.OFFERED, f"{amount} to keep the goods")
    await notify(ctx, NotificationTemplate.RETURN_OFFER, "offer", amounts={"amount": amount})
    answered = await condition_within(
        lambda: ctx.status.offer_answer is not None, ctx.timers.offer_expire_seconds
    )
    answer = ctx.status.offer_answer
    if answered and answer is not None and answer.accepted:
        ctx.status.option = ReturnOption.PARTIAL_OFFER
        ctx.status.approved_amount = amount
        return True
    why = "declined by the buyer" if answered else "unanswered"
    option = ReturnOption.RETURN_LABEL if verdict.ship_back else ReturnOption.RETURNLESS
    approve(ctx, option, verdict.estimate, f"offer {why}: the ordinary return")
    return True
