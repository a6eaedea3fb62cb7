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
    from crossdock.models.dispute import (
        CloseDisputeInput,
        DisputeAnswer,
        ProviderStatus,
        RecordLossInput,
        SubmitEvidenceInput,
    )
    from crossdock.models.order_cases import RefundOutcome
    from workflows.dispute_context import DisputeContext, PartnerRefused
    from workflows.dispute_states import DisputeState

OUTCOME_STATES = {
    ProviderStatus.WON: DisputeState.WON,
    ProviderStatus.PREVENTED: DisputeState.WON,
    ProviderStatus.LOST: DisputeState.LOST,
    ProviderStatus.WARNING_CLOSED: DisputeState.INQUIRY_CLOSED,
}


def _answered(ctx: DisputeContext, answer: DisputeAnswer) -> None:
    """The provider's reply is its newest word on the dispute: until a later event says
    otherwise, the round is under review (or closed), not waiting for us any more."""
    status = ctx.status
    status.answers.append(answer)
    status.snapshot = status.snapshot.model_copy(
        update={"status": answer.status, "submission_count": answer.submission_count}
    )


async def submit(ctx: DisputeContext) -> None:
    """Submit the staged packet exactly once: the key is the workflow id and the round, so
    a retry or a crashed worker's replay makes the provider replay its answer."""
    snapshot = ctx.status.snapshot
    request = SubmitEvidenceInput(
        dispute_id=snapshot.id,
        evidence=ctx.status.packet.fields,
        idempotency_key=ctx.key("submit"),
        provider=ctx.provider,
    )
    try:
        answer = await ctx.call(DisputeActivities.submit_dispute_evidence, request)
    except PartnerRefused as refusal:
        # Past due or closed at the provider: nothing left to submit; a person looks.
        ctx.flag(f"evidence refused by {ctx.provider}: {refusal}")
        ctx.note("submission_refused", str(refusal))
        return
    _answered(ctx, answer)
    fields = ", ".join(sorted(request.evidence))
    ctx.move(DisputeState.SUBMITTED, f"submission {answer.submission_count}: {fields}")


async def accept(ctx: DisputeContext) -> None:
    """Accept the dispute: the provider closes it as lost; the loss is booked."""
    snapshot = ctx.status.snapshot
    request = CloseDisputeInput(
        dispute_id=snapshot.id, idempotency_key=ctx.key("accept"), provider=ctx.provider
    )
    try:
        answer = await ctx.call(DisputeActivities.close_dispute, request)
    except PartnerRefused as refusal:
        ctx.flag(f"accepting refused by {ctx.provider}: {refusal}")
        ctx.note("accept_refused", str(refusal))
        return
    _answered(ctx, answer)
    ctx.move(DisputeState.ACCEPTED, f"by {ctx.status.decided_by}; {snapshot.amount} conceded")
    await book_loss(ctx, "dispute accepted")


async def book_loss(ctx: DisputeContext, why: str) -> None:
    """Reserve the lost amount on the order (update), then settle it (signal)."""
    status = ctx.status
    amount = status.snapshot.amount
    status.lost_amount = amount
    if not status.order_workflow_id:
        ctx.flag(f"{why}: {amount} lost on no known order")
        return
    loss = await ctx.call(
        DisputeActivities.reserve_dispute_refund,
        RecordLossInput(
            order_workflow_id=status.order_workflow_id,
            case_id=ctx.workflow_id,
            step=f"chargeback-{status.round}",
            amount=amount,
            reason=f"{why}: {status.snapshot.reason} {status.snapshot.id}",
        ),
    )
    status.loss = loss
    ctx.note(f"loss_{loss.outcome}", loss.detail)
    if loss.outcome != "reserved":
        ctx.flag(f"{amount} lost but not booked on the order: {loss.detail}")
        return
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
