"""Refunding a return: reserved on the order (never more than is left across all its
returns and disputes), issued through the channel, followed from pending to succeeded or
failed, settled on the order. A failed refund is retried as a new refund (new
reservation, new key); when retries run out a person retries it, records that it was
refunded by hand, or closes it: never forgotten."""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError, FailureError

with workflow.unsafe.imports_passed_through():
    from activities.returns import BY_HAND, REFUSED_BY_ORDER, ReturnActivities
    from crossdock.models.approval import ApprovalOutcome, ApprovalRequest, Decision, Price
    from crossdock.models.notify import NotificationTemplate
    from crossdock.models.order_cases import RefundOutcome
    from crossdock.models.return_states import ReturnState
    from crossdock.models.return_status import ReturnStatus
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
    from workflows.refusals import refusal_of
    from workflows.return_context import ReturnContext
    from workflows.return_decision import finance_threshold
    from workflows.return_notify import notify
    from workflows.return_questions import (
        CLOSE,
        REFUNDED_ANOTHER_WAY,
        REFUNDED_BY_HAND,
        REFUSALS_ASK,
        RETRY,
        VOUCHED,
        ask,
        question,
        vouched,
        words,
    )

FAILURE_OPTIONS = (RETRY, REFUNDED_BY_HAND, REFUNDED_ANOTHER_WAY)
# At most this many capped reservations when other cases keep taking what is left.
CAPPED_TRIES = 3
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
        answer, decision = "", None
        if record.state is RefundState.UNCONFIRMED:
            answer, decision = await confirm(ctx, record)
        await settle(ctx, record)
        if record.state is RefundState.SUCCEEDED:
            await refunded(ctx, record)
            return
        if not answer:
            if attempt < allowed and not by_hand:
                ctx.note("refund_retry", f"{record.step} failed: {record.detail}")
                continue
            answer, decision = await escalate(ctx, record)
        if answer == RETRY:
            allowed = attempt + 1
            ctx.move(ReturnState.REFUNDING, "retried by an operator")
            continue
        if answer in VOUCHED:
            step = f"{step}-by-hand" if answer == REFUNDED_BY_HAND else f"{step}-another-way"
            await record_by_hand(ctx, step, record.amount, why, vouched(decision))
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
    for tries in range(1, CAPPED_TRIES + 1):
        suffix = f"-{tries}" if tries > 1 else ""
        try:
            return await _capped(ctx, f"{step}-capped{suffix}", amount, why)
        except _RefusedAgain:
            continue
    ctx.note("refund_reservation_refused", f"the order refused {CAPPED_TRIES} capped reservations")
    return None


class _RefusedAgain(Exception):
    """The order refused a capped reservation too: another case took what was left."""


async def _capped(
    ctx: ReturnContext, step: str, amount: Money, why: str
) -> tuple[str, Money] | None:
    """What is left on the order, reserved under `step`; None when nothing is left.

    Raises:
        _RefusedAgain: the order refused this one too (another case took it meanwhile).
    """
    try:
        snapshot = await ctx.call(
            ReturnActivities.read_order, ReadOrderInput(order_id=ctx.request.order_id)
        )
    except ActivityError as err:
        refusal = refusal_of(err)
        if refusal is None or not workflow.patched(REFUSALS_ASK):
            raise
        ctx.note("order_unreadable", str(refusal))
        return None
    left = snapshot.remaining
    if left.amount <= 0:
        return None
    capped = Money(amount=min(amount.amount, left.amount), currency=amount.currency)
    try:
        grant = await ctx.call(
            ReturnActivities.reserve_refund, _reservation(ctx, step, capped, why)
        )
    except ActivityError as err:
        if not _refused(err) or not workflow.patched(REFUSALS_ASK):
            raise
        ctx.note("refund_reservation_refused", str(err.cause))
        raise _RefusedAgain from err
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
        refusal = refusal_of(err)
        if refusal is None:
            raise
        record.state = RefundState.FAILED
        record.detail = words(refusal) if refusal.partner else refusal.message
        return refusal.code == BY_HAND
    _apply(record, issued)
    await follow(ctx, record)
    return False


def _apply(record: ReturnRefund, found: IssuedRefund) -> None:
    record.refund_id = found.refund_id or record.refund_id
    record.state = found.state
    record.detail = found.detail


async def follow(ctx: ReturnContext, record: ReturnRefund) -> None:
    """Check a pending refund until it settles; one pending too long needs a person. A
    partner refusing to say leaves it unconfirmed (never assumed paid or failed)."""
    checks = 0
    while record.state is RefundState.PENDING:
        await workflow.sleep(timedelta(seconds=ctx.timers.refund_check_seconds))
        try:
            found = await ctx.call(
                ReturnActivities.check_refund,
                CheckRefundInput(order=ctx.order_snapshot.order, refund_id=record.refund_id),
            )
        except ActivityError as err:
            refusal = refusal_of(err)
            if refusal is None or not workflow.patched(REFUSALS_ASK):
                raise
            record.state = RefundState.UNCONFIRMED
            record.detail = words(refusal)
            break
        _apply(record, found)
        checks += 1
        if checks == ctx.timers.refund_checks:
            ctx.attention(True, f"refund {record.refund_id} still pending after {checks} checks")
    if checks >= ctx.timers.refund_checks:
        ctx.attention(False, f"refund {record.refund_id} {record.state}")


async def confirm(ctx: ReturnContext, record: ReturnRefund) -> tuple[str, Decision | None]:
    """Ask until a person says what became of a refund the partner cannot account for:
    made after all, or made another way (the answer and decision), or checked again
    until the partner answers ("": the ordinary path goes on with its answer)."""
    round = 0
    while True:
        round += 1
        what = f"refund of {record.amount} ({record.refund_id}) unconfirmed: {record.detail}"
        ctx.move(ReturnState.REFUND_UNCONFIRMED, what)
        await ctx.tell_order(f"{what}; a person decides")
        request = unconfirmed_request(ctx.status, ctx.timers, record, round)
        answer, decision = await ask(ctx, request, what)
        if answer == RETRY:
            ctx.move(ReturnState.REFUNDING, "checked again by an operator")
            record.state = RefundState.PENDING
            await follow(ctx, record)
            if record.state is RefundState.UNCONFIRMED:
                continue
            return "", None  # the partner answered after all: the ordinary path goes on
        if answer == REFUNDED_BY_HAND:
            record.state = RefundState.SUCCEEDED
            record.confirmed_by = vouched(decision)
        else:
            record.state = RefundState.FAILED
            record.detail = f"not paid by the partner ({record.detail}); refunded another way"
        return answer, decision


def unconfirmed_request(
    status: ReturnStatus, timers: ReturnTimers, record: ReturnRefund, round: int
) -> ApprovalRequest:
    """Nobody knows whether the money left, so there is no close: checking again gives
    nothing away; recording it as paid (either way) lets the refund's amount go."""
    nothing = Money.zero(record.amount.currency)
    return question(
        f"{record.step}-unconfirmed-{round}",
        f"refund of {record.amount} ({record.refund_id}) was issued but is unconfirmed: "
        f"{record.detail}",
        FAILURE_OPTIONS,
        timers,
        threshold=finance_threshold(status, record.amount),
        prices=(
            Price(option=RETRY, gives_away=nothing),
            Price(option=REFUNDED_BY_HAND, gives_away=record.amount),
            Price(option=REFUNDED_ANOTHER_WAY, gives_away=record.amount),
        ),
        can_close=False,
    )


async def settle(ctx: ReturnContext, record: ReturnRefund) -> None:
    """Tell the order how the reserved refund ended (a failed one frees the amount)."""
    order = workflow.get_external_workflow_handle(ctx.request.order_id)
    try:
        await order.signal(
            OrderWorkflow.settle_refund,
            RefundOutcome(
                reservation_id=f"{ctx.workflow_id}/{record.step}",
                succeeded=record.state is RefundState.SUCCEEDED,
                refund_id=record.refund_id,
                detail=record.detail[:500],
            ),
        )
    except FailureError as err:
        if not workflow.patched(REFUSALS_ASK):
            raise
        ctx.note("order_not_told", f"settlement of {record.step}: {err.message}")
        ctx.attention(True, f"the order did not take the settlement of {record.step}")
    ctx.note(f"refund_{record.state}", f"{record.amount} {record.refund_id} {record.detail}")


async def refunded(ctx: ReturnContext, record: ReturnRefund) -> None:
    """Only a refund the partner or a named person confirmed is counted as refunded."""
    record.confirmed_by = record.confirmed_by or "partner"
    ctx.status.refunded = record.amount
    ctx.move(ReturnState.REFUNDED, f"{record.amount} ({record.refund_id})")
    await notify(
        ctx,
        NotificationTemplate.RETURN_REFUNDED,
        "refunded",
        amounts={"amount": record.amount},
        refund_id=record.refund_id or "-",
    )


async def escalate(ctx: ReturnContext, record: ReturnRefund) -> tuple[str, Decision | None]:
    """Ask a person until one answers: retry, refunded by hand, refunded another way, or
    close ("close"); the order is told the refund failed and why."""
    ctx.move(ReturnState.REFUND_FAILED, f"{record.step}: {record.detail}")
    if not workflow.patched(REFUSALS_ASK):
        return await _escalate_unflagged(ctx, record), None
    what = f"refund of {record.amount} failed: {record.detail}"
    await ctx.tell_order(f"{what}; a person decides")
    return await ask(ctx, refund_failed_request(ctx.status, ctx.timers, record, 1), what)


async def _escalate_unflagged(ctx: ReturnContext, record: ReturnRefund) -> str:
    """As before REFUSALS_ASK (replays of returns that escalated then)."""
    for round in range(1, 1000):
        outcome: ApprovalOutcome = await ctx.approval.ask(
            refund_failed_request(ctx.status, ctx.timers, record, round)
        )
        if outcome.expired:
            ctx.attention(True, f"failed refund of {record.amount} still undecided")
            continue
        decision = outcome.decision
        return decision.option if outcome.approved and decision is not None else CLOSE
    return CLOSE


def refund_failed_request(
    status: ReturnStatus, timers: ReturnTimers, record: ReturnRefund, round: int
) -> ApprovalRequest:
    """The refund did not happen: any answer lets its amount leave (again, or booked as
    made by hand); reject closes the return without a refund."""
    return question(
        f"{record.step}-failed-{round}",
        f"refund of {record.amount} failed ({record.detail})",
        FAILURE_OPTIONS,
        timers,
        threshold=finance_threshold(status, record.amount),
        prices=tuple(Price(option=o, gives_away=record.amount) for o in FAILURE_OPTIONS),
        can_close=True,
    )


async def record_by_hand(
    ctx: ReturnContext, step: str, amount: Money, why: str, confirmed_by: str = ""
) -> None:
    """A person refunded (on the channel, or another way): the order's ledger counts it
    all the same, with who vouched for it."""
    reserved = await reserve(ctx, step, amount, f"{why} (refunded by hand)")
    if reserved is None:
        ctx.move(ReturnState.CLOSED, "refunded by hand, but the order had nothing left")
        return
    step, granted = reserved
    record = ReturnRefund(
        step=step,
        amount=granted,
        state=RefundState.SUCCEEDED,
        refund_id="by-hand",
        confirmed_by=confirmed_by,
    )
    ctx.status.refunds.append(record)
    await settle(ctx, record)
    await refunded(ctx, record)
