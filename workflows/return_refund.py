"""Refunding a return: reserved on the order (never more than is left across all its
returns and disputes), issued through the channel, followed from pending to succeeded or
failed, settled on the order. A failed refund is retried as a new refund (new
reservation, new key); when retries run out a person retries it, records that it was
refunded by hand, or closes it: never forgotten."""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from activities.returns import REFUSED_BY_ORDER, ReturnActivities
    from crossdock.models.approval import ApprovalOutcome, ApprovalRequest, Price, Role
    from crossdock.models.notify import NotificationTemplate
    from crossdock.models.order_cases import RefundOutcome
    from crossdock.models.returns import (
        CheckRefundInput,
        IssuedRefund,
        IssueRefundInput,
        ReadOrderInput,
        RefundState,
        ReserveRefundInput,
        ReturnReason,
        ReturnRefund,
        ReturnTimers,
    )
    from crossdock.money import Money
    from workflows.order import OrderWorkflow
    from workflows.return_context import ReturnContext
    from workflows.return_decision import finance_threshold
    from workflows.return_notify import notify
    from workflows.return_states import ReturnState
    from workflows.return_status import ReturnStatus

RETRY = "retry"
REFUNDED_BY_HAND = "refunded_by_hand"
FAILURE_OPTIONS = (RETRY, REFUNDED_BY_HAND)
FINANCE = frozenset({Role.FINANCE, Role.ADMIN, Role.OPERATOR})
# eBay's ReasonForRefundEnum for our reasons.
EBAY_REASONS = {
    ReturnReason.DAMAGED: "ITEM_NOT_AS_DESCRIBED",
    ReturnReason.NOT_AS_DESCRIBED: "ITEM_NOT_AS_DESCRIBED",
    ReturnReason.WRONG_ITEM: "ITEM_NOT_AS_DESCRIBED",
    ReturnReason.CHANGED_MIND: "BUYER_RETURN",
    ReturnReason.NOT_RECEIVED: "ITEM_NOT_RECEIVED",
}


async def refund(ctx: ReturnContext, amount: Money, why: str) -> None:
    ctx.move(ReturnState.REFUNDING, f"{amount}: {why}")
    attempt = 0
    allowed = ctx.timers.refund_attempts
    while True:
        attempt += 1
        step = "refund" if attempt == 1 else f"refund-{attempt}"
        reserved = await reserve(ctx, step, amount, why)
        if reserved is None:
            ctx.move(ReturnState.CLOSED, "nothing left to refund on the order")
            return
        step, granted = reserved
        record = ReturnRefund(step=step, amount=granted)
        ctx.status.refunds.append(record)
        by_hand = await issue(ctx, record, why)
        await settle(ctx, record)
        if record.state is RefundState.SUCCEEDED:
            await refunded(ctx, record)
            return
        if attempt < allowed and not by_hand:
            ctx.note("refund_retry", f"{record.step} failed: {record.detail}")
            continue
        answer = await escalate(ctx, record)
        if answer == RETRY:
            allowed = attempt + 1
            ctx.move(ReturnState.REFUNDING, "retried by an operator")
            continue
        if answer == REFUNDED_BY_HAND:
            await record_by_hand(ctx, f"{step}-by-hand", record.amount, why)
            return
        ctx.move(ReturnState.CLOSED, "closed without a refund by an operator")
        return


async def reserve(
    ctx: ReturnContext, step: str, amount: Money, why: str
) -> tuple[str, Money] | None:
    """Reserve `amount` on the order; if another case took part of it meanwhile, what is
    left (under its own step). The step and amount reserved, or None when nothing is left."""
    try:
        grant = await ctx.call(
            ReturnActivities.reserve_refund, _reservation(ctx, step, amount, why)
        )
        return step, grant.granted
    except ActivityError as err:
        if not _refused(err):
            raise
        ctx.note("refund_reservation_refused", str(err.cause))
    snapshot = await ctx.call(
        ReturnActivities.read_order, ReadOrderInput(order_id=ctx.request.order_id)
    )
    left = snapshot.remaining
    if left.amount <= 0:
        return None
    capped = Money(amount=min(amount.amount, left.amount), currency=amount.currency)
    step = f"{step}-capped"
    grant = await ctx.call(ReturnActivities.reserve_refund, _reservation(ctx, step, capped, why))
    ctx.note("refund_capped", f"{amount} asked, {grant.granted} left on the order")
    return step, grant.granted


def _reservation(ctx: ReturnContext, step: str, amount: Money, why: str) -> ReserveRefundInput:
    return ReserveRefundInput(
        order_id=ctx.request.order_id,
        case_id=ctx.workflow_id,
        step=step,
        amount=amount,
        reason=f"return {ctx.request.rma}: {why}"[:500],
    )


def _refused(err: ActivityError) -> bool:
    cause = err.cause
    return isinstance(cause, ApplicationError) and cause.type == REFUSED_BY_ORDER


async def issue(ctx: ReturnContext, record: ReturnRefund, why: str) -> bool:
    """Issue the refund and follow it to succeeded or failed. True when the channel can
    only be refunded by hand (retrying cannot help)."""
    snapshot = ctx.order_snapshot
    authorization = snapshot.authorization
    request = IssueRefundInput(
        order=snapshot.order,
        amount=record.amount,
        reason=EBAY_REASONS[ctx.request.reason],
        idempotency_key=ctx.key(record.step),
        intent_id=authorization.intent_id if authorization else None,
        lines=ctx.request.lines,
    )
    try:
        issued = await ctx.call(ReturnActivities.issue_refund, request)
    except ActivityError as err:
        cause = err.cause
        if not (isinstance(cause, ApplicationError) and cause.non_retryable):
            raise
        record.state = RefundState.FAILED
        record.detail = cause.message
        return cause.type == "RefundByHand"
    _apply(record, issued)
    await follow(ctx, record)
    return False


def _apply(record: ReturnRefund, found: IssuedRefund) -> None:
    record.refund_id = found.refund_id or record.refund_id
    record.state = found.state
    record.detail = found.detail


async def follow(ctx: ReturnContext, record: ReturnRefund) -> None:
    """Check a pending refund until it settles; one pending too long needs a person."""
    checks = 0
    while record.state is RefundState.PENDING:
        await workflow.sleep(timedelta(seconds=ctx.timers.refund_check_seconds))
        found = await ctx.call(
            ReturnActivities.check_refund,
            CheckRefundInput(order=ctx.order_snapshot.order, refund_id=record.refund_id),
        )
        _apply(record, found)
        checks += 1
        if checks == ctx.timers.refund_checks:
            ctx.attention(True, f"refund {record.refund_id} still pending after {checks} checks")
    if checks >= ctx.timers.refund_checks:
        ctx.attention(False, f"refund {record.refund_id} {record.state}")


async def settle(ctx: ReturnContext, record: ReturnRefund) -> None:
    """Tell the order how the reserved refund ended (a failed one frees the amount)."""
    order = workflow.get_external_workflow_handle(ctx.request.order_id)
    await order.signal(
        OrderWorkflow.settle_refund,
        RefundOutcome(
            reservation_id=f"{ctx.workflow_id}/{record.step}",
            succeeded=record.state is RefundState.SUCCEEDED,
            refund_id=record.refund_id,
            detail=record.detail[:500],
        ),
    )
    ctx.note(f"refund_{record.state}", f"{record.amount} {record.refund_id} {record.detail}")


async def refunded(ctx: ReturnContext, record: ReturnRefund) -> None:
    ctx.status.refunded = record.amount
    ctx.move(ReturnState.REFUNDED, f"{record.amount} ({record.refund_id})")
    await notify(
        ctx,
        NotificationTemplate.RETURN_REFUNDED,
        "refunded",
        amount=str(record.amount),
        refund_id=record.refund_id or "-",
    )


async def escalate(ctx: ReturnContext, record: ReturnRefund) -> str:
    """Ask a person until one answers: retry, refunded by hand, or close ("")."""
    ctx.move(ReturnState.REFUND_FAILED, f"{record.step}: {record.detail}")
    for round in range(1, 1000):
        outcome: ApprovalOutcome = await ctx.approval.ask(
            refund_failed_request(ctx.status, ctx.timers, record, round)
        )
        if outcome.expired:
            ctx.attention(True, f"failed refund of {record.amount} still undecided")
            continue
        decision = outcome.decision
        return decision.option if outcome.approved and decision is not None else ""
    return ""


def refund_failed_request(
    status: ReturnStatus, timers: ReturnTimers, record: ReturnRefund, round: int
) -> ApprovalRequest:
    return ApprovalRequest(
        key=f"{record.step}-failed-{round}",
        subject=(
            f"refund of {record.amount} failed ({record.detail}): retry, or record it "
            "as refunded by hand; reject closes the return without a refund"
        ),
        allowed_roles=FINANCE,
        options=FAILURE_OPTIONS,
        remind_after=timedelta(seconds=timers.decision_remind_seconds),
        escalate_after=timedelta(seconds=timers.decision_escalate_seconds),
        expire_after=timedelta(seconds=timers.decision_expire_seconds),
        finance_threshold=finance_threshold(status, record.amount),
        # Either answer lets the refund's amount leave (again, or booked as gone).
        prices=tuple(Price(option=o, gives_away=record.amount) for o in FAILURE_OPTIONS),
    )


async def record_by_hand(ctx: ReturnContext, step: str, amount: Money, why: str) -> None:
    """A person refunded on the channel: the order's ledger counts it all the same."""
    reserved = await reserve(ctx, step, amount, f"{why} (refunded by hand)")
    if reserved is None:
        ctx.move(ReturnState.CLOSED, "refunded by hand, but the order had nothing left")
        return
    step, granted = reserved
    record = ReturnRefund(
        step=step, amount=granted, state=RefundState.SUCCEEDED, refund_id="by-hand"
    )
    ctx.status.refunds.append(record)
    await settle(ctx, record)
    await refunded(ctx, record)
