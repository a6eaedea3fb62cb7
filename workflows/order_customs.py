"""Order steps with customs: the landed-cost quote, the declaration, and a hold that
waits for release (or gives up at its deadline)."""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.customs import CustomsActivities
    from crossdock.models.order_states import OrderState
    from crossdock.models.order_steps import (
        CancelDeclarationInput,
        CheckDeclarationInput,
        CustomsDeclaration,
        FileDeclarationInput,
        LandedCost,
        QuoteLandedCostInput,
    )
    from workflows import order_messages
    from workflows.options import call_partner, condition_within
    from workflows.order_context import OrderContext, OrderRejected

HELD = "held"
RELEASED = "released"


async def quote_landed_cost(ctx: OrderContext) -> LandedCost:
    """Duties and taxes for the destination, and so what the buyer owes in all."""
    quote = await ctx.call(
        CustomsActivities.quote_landed_cost, QuoteLandedCostInput(order=ctx.order)
    )
    ctx.status.landed_cost = quote
    ctx.status.amount_due = ctx.order.order_total + quote.due_at_checkout
    return quote


async def declare(ctx: OrderContext) -> None:
    """File the declaration (its cancellation registered for compensation); a hold
    waits for release."""
    quote = ctx.status.landed_cost
    assert quote is not None
    declaration = await ctx.call(
        CustomsActivities.file_declaration,
        FileDeclarationInput(
            reference=ctx.workflow_id,
            order=ctx.order,
            quote_id=quote.quote_id,
            idempotency_key=ctx.key("declare"),
        ),
    )
    ctx.status.declaration = declaration
    ctx.saga.add(
        "cancel_declaration",
        lambda: call_partner(
            CustomsActivities.cancel_declaration,
            CancelDeclarationInput(
                declaration_id=declaration.declaration_id,
                idempotency_key=ctx.key("cancel-declaration"),
            ),
        ),
    )
    ctx.move(OrderState.CUSTOMS_DECLARED, f"declaration {declaration.mrn}")
    if declaration.status == HELD:
        await wait_for_release(ctx, declaration)


async def wait_for_release(ctx: OrderContext, declaration: CustomsDeclaration) -> None:
    """Re-check the held declaration until customs releases it. An operator can cancel
    (abandon) meanwhile; at the hold deadline the order is cancelled and compensated."""
    policy = ctx.policy
    ctx.move(OrderState.CUSTOMS_HOLD, f"declaration {declaration.mrn} held by customs")
    ctx.attention(True, "customs hold")
    await order_messages.held_in_customs(ctx)
    deadline = workflow.now() + timedelta(seconds=policy.customs_hold_timeout_seconds)
    while True:
        remaining = (deadline - workflow.now()).total_seconds()
        if remaining <= 0:
            raise OrderRejected(
                f"customs did not release declaration {declaration.mrn} within "
                f"{timedelta(seconds=policy.customs_hold_timeout_seconds)}"
            )
        await condition_within(
            lambda: ctx.cancel_request is not None, min(policy.customs_poll_seconds, remaining)
        )
        ctx.check_cancelled()
        current = await ctx.call(
            CustomsActivities.check_declaration,
            CheckDeclarationInput(declaration_id=declaration.declaration_id),
        )
        if current.status == RELEASED:
            ctx.status.declaration = current
            ctx.attention(False, "customs released the goods")
            ctx.move(OrderState.CUSTOMS_DECLARED, f"declaration {current.mrn} released")
            return
