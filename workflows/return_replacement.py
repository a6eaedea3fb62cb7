"""Sending the returned lines again instead of refunding them: a replacement order of
their own, started once (its id comes from the RMA), charged nothing. The buyer keeps or
disposes of the faulty goods: a replacement is returnless."""

from __future__ import annotations

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.returns import ReturnActivities
    from crossdock.models.returns import StartReplacementInput
    from workflows.return_context import ReturnContext
    from workflows.return_states import ReturnState


async def replace(ctx: ReturnContext) -> None:
    request = ctx.request
    started = await ctx.call(
        ReturnActivities.start_replacement,
        StartReplacementInput(order_id=request.order_id, rma=request.rma, lines=request.lines),
    )
    ctx.status.replacement_order = started.workflow_id
    ctx.move(ReturnState.REPLACED, f"replacement order {started.workflow_id}")
