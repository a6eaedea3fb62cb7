"""Step: gather the evidence from the order, stage it, and tell the order."""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from activities.disputes import DisputeActivities
    from crossdock.models.approval import duration_text
    from crossdock.models.dispute import GatheredEvidence, GatherEvidenceInput
    from crossdock.models.dispute_states import DisputeState
    from crossdock.policies.disputes import assess, select
    from workflows.dispute_context import DisputeContext
    from workflows.options import PARTNER_HEARTBEAT, PARTNER_RETRY, PARTNER_TIMEOUT

# Gathering may use this share of the time left before the deadline policy acts, so an
# outage (of Temporal's own query, or the provider) cannot eat the decision window.
GATHER_SHARE = 0.25
MIN_GATHER = timedelta(minutes=1)
UNKNOWN_DUE_GATHER = timedelta(hours=12)


def _budget(ctx: DisputeContext) -> timedelta:
    due_by = ctx.status.snapshot.due_by
    if due_by is None:
        return UNKNOWN_DUE_GATHER
    left = due_by - timedelta(seconds=ctx.policy.decide_margin_seconds) - workflow.now()
    return max(MIN_GATHER, left * GATHER_SHARE)


async def _gather_within(ctx: DisputeContext, request: GatherEvidenceInput) -> GatheredEvidence:
    """The order's evidence, or an empty packet (flagged) when it cannot be had in time."""
    budget = _budget(ctx)
    try:
        return await workflow.execute_activity_method(
            DisputeActivities.gather_dispute_evidence,
            request,
            start_to_close_timeout=PARTNER_TIMEOUT,
            schedule_to_close_timeout=budget,
            heartbeat_timeout=PARTNER_HEARTBEAT,
            retry_policy=PARTNER_RETRY,
        )
    except ActivityError as err:
        why = str(err.cause or err)
        ctx.flag(f"evidence not gathered within {duration_text(budget)} ({why}): add it by hand")
        return GatheredEvidence(order_workflow_id=request.order_workflow_id or "")


async def gather(ctx: DisputeContext) -> None:
    """Stage the packet the reason code calls for and say how strong it is; link the
    dispute to its order and notice a return in progress (refunding both pays twice)."""
    status = ctx.status
    snapshot = status.snapshot
    gathered = await _gather_within(
        ctx,
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
    status.editors = []
    status.strength = str(assess(status.packet, snapshot.reason))
    if not gathered.order_workflow_id and not status.needs_attention:
        ctx.flag("no order found for this dispute: evidence must be added by hand")
    elif gathered.open_returns:
        returns = ", ".join(gathered.open_returns)
        ctx.note("return_in_progress", f"{returns}: accepting would refund the buyer twice")
        ctx.flag(f"the order has a return in progress ({returns})")
    summary = f"{snapshot.reason} {snapshot.amount}, due {snapshot.due_by:%Y-%m-%d %H:%M}"
    if not gathered.order_closed:
        await ctx.tell_order(True, summary if snapshot.due_by else str(snapshot.reason))
    ctx.move(DisputeState.EVIDENCE_STAGED, status.strength)
