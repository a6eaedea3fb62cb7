"""Steps: answer the provider (submit once, or accept) and book the outcome.

A lost or accepted dispute takes its amount from the buyer's payment for good, so it is
reserved and settled on the order's refund ledger: a return can then never refund the
same money again. The order refuses what is no longer there (a return refunded it
first) and a closed order takes no update; both are recorded on the dispute and flagged.
"""

from __future__ import annotations

from temporalio import workflow
from temporalio.exceptions import FailureError

with workflow.unsafe.imports_passed_through():
    from activities.disputes import DisputeActivities
    from crossdock.models.approval import Decision
    from crossdock.models.dispute import (
        CloseDisputeInput,
        DisputeAnswer,
        ProviderStatus,
        RecordLossInput,
        SubmitEvidenceInput,
    )
    from crossdock.models.dispute_states import DisputeState
    from crossdock.models.order_cases import RefundOutcome
    from workflows.dispute_context import DisputeContext, EventKey, PartnerRefused
    from workflows.dispute_messages import tell_buyer
    from workflows.dispute_questions import (
        CLOSE,
        CONCEDE,
        DONE_BY_HAND,
        REFUSALS_ASK,
        RETRY,
        ask,
        by_whom,
        question,
        words,
    )

ORDER_CLOSED = "order_closed"
LOSS_MEANINGS = {
    RETRY: "retry books it on the order again",
    DONE_BY_HAND: "done_by_hand records where you booked it instead (say where)",
}
OUTCOME_STATES = {
    ProviderStatus.WON: DisputeState.WON,
    ProviderStatus.PREVENTED: DisputeState.WON,
    ProviderStatus.LOST: DisputeState.LOST,
    ProviderStatus.WARNING_CLOSED: DisputeState.INQUIRY_CLOSED,
}


# Before this patch the answer to a submission or an acceptance replaced the provider's
# status even when an event delivered during the call had already closed the round (a
# dispute then waited in `submitted` for a verdict it had received, docs/chaos.md), and
# a refusal from a provider that had closed the round meanwhile was put to a person.
EVENTS_OUTRANK_ANSWERS = "dispute-events-outrank-answers"


def _answered(ctx: DisputeContext, answer: DisputeAnswer, since: EventKey) -> None:
    """Record the provider's reply; it is the provider's newest word unless an event
    delivered during the call said more (`DisputeContext.take_read`)."""
    status = ctx.status
    status.answers.append(answer)
    read = status.snapshot.model_copy(
        update={"status": answer.status, "submission_count": answer.submission_count}
    )
    if workflow.patched(EVENTS_OUTRANK_ANSWERS):
        ctx.take_read(read, since, "answer")
    else:
        status.snapshot = read


def _closed_meanwhile(ctx: DisputeContext, refused: PartnerRefused) -> bool:
    """A refusal from a provider that has closed the round: nobody needs asking, the
    verdict is applied by the workflow's loop."""
    if not ctx.provider_closed or not workflow.patched(EVENTS_OUTRANK_ANSWERS):
        return False
    ctx.note("refused_after_close", f"{ctx.provider_status}: {refused}")
    return True


async def submit(ctx: DisputeContext) -> None:
    """Submit the staged packet exactly once: the key is the workflow id and the round, so
    a retry or a crashed worker's replay makes the provider replay its answer. Refused,
    a person retries (a new key), records it done by hand, concedes, or leaves it."""
    snapshot = ctx.status.snapshot
    attempt = 1
    while True:
        request = SubmitEvidenceInput(
            dispute_id=snapshot.id,
            evidence=ctx.status.packet.fields,
            idempotency_key=ctx.key("submit" if attempt == 1 else f"submit-{attempt}"),
            provider=ctx.provider,
        )
        since = ctx.status.latest_event
        try:
            answer = await ctx.call(DisputeActivities.submit_dispute_evidence, request)
        except PartnerRefused as refused:
            if _closed_meanwhile(ctx, refused):
                return
            # Past due or closed at the provider: a person looks.
            ctx.flag(f"evidence refused by {ctx.provider}: {refused}")
            ctx.note("submission_refused", str(refused))
            if not workflow.patched(REFUSALS_ASK):
                return
            what = f"submitting evidence refused: {words(refused.refusal)}"
            choice, decision = await ask(
                ctx,
                question(
                    ctx, "submit-refused", what, (RETRY, DONE_BY_HAND, CONCEDE), can_close=True
                ),
            )
            if choice == RETRY:
                attempt += 1
                continue
            await _after_refusal(ctx, choice, decision, DisputeState.SUBMITTED)
            return
        _answered(ctx, answer, since)
        fields = ", ".join(sorted(request.evidence))
        ctx.move(DisputeState.SUBMITTED, f"submission {answer.submission_count}: {fields}")
        return


async def _after_refusal(
    ctx: DisputeContext, choice: str, decision: Decision | None, done: DisputeState
) -> None:
    """Act on a person's answer to a refused submission or acceptance."""
    if choice == DONE_BY_HAND:
        ctx.unflag(f"{done} by hand ({by_whom(decision)})")
        ctx.move(done, f"by hand at {ctx.provider}: {by_whom(decision)}")
        if done is DisputeState.ACCEPTED:
            await book_loss(ctx, "dispute accepted by hand")
    elif choice == CONCEDE:
        ctx.status.decided_by = decision.by.id if decision else ctx.status.decided_by
        await accept(ctx)
    elif choice == CLOSE:
        ctx.note("left_to_the_provider", by_whom(decision))


async def accept(ctx: DisputeContext) -> None:
    """Accept the dispute: the provider closes it as lost; the loss is booked. Refused, a
    person retries (a new key), records it accepted by hand, or leaves it."""
    snapshot = ctx.status.snapshot
    attempt = 1
    while True:
        request = CloseDisputeInput(
            dispute_id=snapshot.id,
            idempotency_key=ctx.key("accept" if attempt == 1 else f"accept-{attempt}"),
            provider=ctx.provider,
        )
        since = ctx.status.latest_event
        try:
            answer = await ctx.call(DisputeActivities.close_dispute, request)
        except PartnerRefused as refused:
            if _closed_meanwhile(ctx, refused):
                return
            ctx.flag(f"accepting refused by {ctx.provider}: {refused}")
            ctx.note("accept_refused", str(refused))
            if not workflow.patched(REFUSALS_ASK):
                return
            what = f"accepting the dispute refused: {words(refused.refusal)}"
            choice, decision = await ask(
                ctx, question(ctx, "accept-refused", what, (RETRY, DONE_BY_HAND), can_close=True)
            )
            if choice == RETRY:
                attempt += 1
                continue
            await _after_refusal(ctx, choice, decision, DisputeState.ACCEPTED)
            return
        _answered(ctx, answer, since)
        by = ctx.status.decided_by
        ctx.move(DisputeState.ACCEPTED, f"by {by}; {snapshot.amount} conceded")
        await book_loss(ctx, "dispute accepted")
        return


async def book_loss(ctx: DisputeContext, why: str) -> None:
    """Reserve the lost amount on the order (update), then settle it (signal). A loss the
    order will not book is a question that must be answered before the dispute ends."""
    status = ctx.status
    amount = status.snapshot.amount
    status.lost_amount = amount
    attempt = 0
    while True:
        attempt += 1
        problem = await _reserve_loss(ctx, why, attempt)
        if not problem:
            return
        ctx.flag(problem)
        closed = status.loss is not None and status.loss.outcome == ORDER_CLOSED
        # A closed order's ledger is final: the loss stays recorded on the dispute.
        if closed or not workflow.patched(REFUSALS_ASK):
            return
        options = (RETRY, DONE_BY_HAND) if status.order_workflow_id else (DONE_BY_HAND,)
        request = question(
            ctx,
            f"loss-unbooked-{attempt}",
            problem,
            options,
            can_close=False,
            meanings=LOSS_MEANINGS,
        )
        choice, decision = await ask(ctx, request)
        if choice != RETRY:
            ctx.unflag(f"loss recorded by hand ({by_whom(decision)})")
            ctx.note("loss_by_hand", by_whom(decision))
            return


async def _reserve_loss(ctx: DisputeContext, why: str, attempt: int) -> str:
    """Book the loss on the order; what went wrong, or "" once it is booked."""
    status = ctx.status
    amount = status.snapshot.amount
    if not status.order_workflow_id:
        return f"{why}: {amount} lost on no known order"
    suffix = "" if attempt == 1 else f"-{attempt}"
    try:
        loss = await ctx.call(
            DisputeActivities.reserve_dispute_refund,
            RecordLossInput(
                order_workflow_id=status.order_workflow_id,
                case_id=ctx.workflow_id,
                step=f"chargeback-{status.round}{suffix}",
                amount=amount,
                reason=f"{why}: {status.snapshot.reason} {status.snapshot.id}",
            ),
        )
    except PartnerRefused as refused:
        if not workflow.patched(REFUSALS_ASK):
            raise
        return f"{amount} lost but not booked on the order: {refused}"
    status.loss = loss
    ctx.note(f"loss_{loss.outcome}", loss.detail)
    if loss.outcome != "reserved":
        return f"{amount} lost but not booked on the order: {loss.detail}"
    settled = RefundOutcome(
        reservation_id=loss.reservation_id,
        succeeded=True,
        refund_id=status.snapshot.id,
        detail=why,
    )
    try:
        handle = workflow.get_external_workflow_handle(status.order_workflow_id)
        await handle.signal("settle_refund", settled)
    except FailureError as err:
        ctx.note("order_not_told", f"settlement: {err.message}")
    return ""


async def apply_outcome(ctx: DisputeContext) -> None:
    """Move to the provider's verdict on this round and book a loss."""
    target = OUTCOME_STATES[ctx.provider_status]
    ctx.move(target, f"{ctx.provider_status} at {ctx.provider}")
    if ctx.status.needs_attention and target is not DisputeState.LOST:
        ctx.unflag(f"round {ctx.status.round} {target}")
    if target is DisputeState.LOST:
        await book_loss(ctx, "dispute lost")
        if not ctx.status.open_returns:
            # The buyer has the money back and, as far as we know, the goods too.
            ctx.flag(f"lost {ctx.status.snapshot.amount} and nothing was returned")
    await tell_buyer(ctx, target)
