"""Step: gather the evidence from the order, stage it, and tell the order."""

from __future__ import annotations

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.disputes import DisputeActivities
    from crossdock.models.dispute import GatherEvidenceInput
    from crossdock.policies.disputes import assess, select
    from workflows.dispute_context import DisputeContext
    from workflows.dispute_states import DisputeState


async def gather(ctx: DisputeContext) -> None:
    """Stage the packet the reason code calls for and say how strong it is; link the
    dispute to its order and notice a return in progress (refunding both pays twice)."""
    status = ctx.status
    snapshot = status.snapshot
    gathered = await ctx.call(
        DisputeActivities.gather_dispute_evidence,
        GatherEvidenceInput(
            dispute_id=snapshot.id,
            reason=snapshot.reason,
            payment_intent=snapshot.payment_intent,
            order_workflow_id=snapshot.order_workflow_id or status.order_workflow_id or None,
        ),
    )
    status.order_workflow_id = gathered.order_workflow_id
    status.order_state = gathered.order_state
    status.open_returns = gathered.open_returns
    status.packet = select(gathered.packet, snapshot.reason)
    status.edited_by = None
    status.strength = str(assess(status.packet, snapshot.reason))
    if not gathered.order_workflow_id:
        ctx.flag("no order found for this dispute: evidence must be added by hand")
    elif gathered.open_returns:
        returns = ", ".join(gathered.open_returns)
        ctx.note("return_in_progress", f"{returns}: accepting would refund the buyer twice")
        ctx.flag(f"the order has a return in progress ({returns})")
    summary = f"{snapshot.reason} {snapshot.amount}, due {snapshot.due_by:%Y-%m-%d %H:%M}"
    if not gathered.order_closed:
        await ctx.tell_order(True, summary if snapshot.due_by else str(snapshot.reason))
    ctx.move(DisputeState.EVIDENCE_STAGED, status.strength)
