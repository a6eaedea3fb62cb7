"""The goods coming back: a return label from the carrier, tracking as signals, the
buyer-did-not-ship deadline, and the warehouse's inspection."""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from activities.carrier import CarrierActivities
    from activities.returns import ReturnActivities
    from crossdock.models.approval import ApprovalRequest, Role
    from crossdock.models.notify import NotificationTemplate
    from crossdock.models.order_steps import VoidLabelInput
    from crossdock.models.returns import ReturnLabelInput
    from crossdock.money import Money
    from crossdock.policies.returns import inspected_refund
    from workflows.options import condition_within
    from workflows.return_context import ReturnContext
    from workflows.return_notify import notify
    from workflows.return_states import ReturnState

# A carrier status that means the buyer handed the parcel over.
SHIPPED = frozenset({"in_transit", "out_for_delivery", "delivered"})
INSPECTORS = frozenset({Role.OPERATOR, Role.ADMIN})


async def ship_back(ctx: ReturnContext) -> bool:
    """Issue the label and wait for the parcel; False if the buyer never shipped it."""
    snapshot = ctx.order_snapshot
    label = await ctx.call(
        ReturnActivities.buy_return_label,
        ReturnLabelInput(
            reference=ctx.workflow_id,
            order=snapshot.order,
            lines=ctx.request.lines,
            warehouse=ctx.warehouse,
            idempotency_key=ctx.key("return-label"),
        ),
    )
    ctx.status.label = label
    ctx.move(ReturnState.LABEL_ISSUED, f"{label.carrier} {label.tracking_code} ({label.cost})")
    ship_by = workflow.now() + timedelta(seconds=ctx.timers.ship_back_seconds)
    verdict = ctx.status.eligibility
    await notify(
        ctx,
        NotificationTemplate.RETURN_LABEL,
        "label",
        label_url=label.label_url,
        carrier=label.carrier,
        tracking_code=label.tracking_code,
        ship_by=ship_by.date().isoformat(),
        paid_by=verdict.return_shipping_paid_by if verdict else "seller",
    )
    if not await condition_within(
        lambda: ctx.status.tracking_status in SHIPPED, ctx.timers.ship_back_seconds
    ):
        await void_label(ctx)
        ctx.move(ReturnState.NOT_SHIPPED, f"no carrier scan by {ship_by.isoformat()}")
        return False
    if ctx.status.tracking_status != "delivered":
        ctx.move(ReturnState.IN_TRANSIT, ctx.status.tracking_status)
        await until_delivered(ctx)
    ctx.move(ReturnState.RECEIVED, "delivered to the warehouse")
    return True


async def void_label(ctx: ReturnContext) -> None:
    """An unused return label is refunded by the carrier; a refusal is only noted."""
    label = ctx.status.label
    if label is None:
        return
    try:
        await ctx.call(
            CarrierActivities.void_label,
            VoidLabelInput(shipment_id=label.shipment_id, idempotency_key=ctx.key("void-label")),
        )
        ctx.note("label_voided", label.shipment_id)
    except ActivityError as err:
        ctx.note("label_void_refused", str(err.cause or err))


async def until_delivered(ctx: ReturnContext) -> None:
    delivered = await condition_within(
        lambda: ctx.status.tracking_status == "delivered", ctx.timers.transit_attention_seconds
    )
    if not delivered:
        ctx.attention(True, "return parcel has no delivery scan: ask the carrier")
        await workflow.wait_condition(lambda: ctx.status.tracking_status == "delivered")
        ctx.attention(False, "return parcel delivered")


async def inspect(ctx: ReturnContext) -> Money:
    """Wait for the warehouse's `inspect` update; what the inspection supports refunding,
    capped at what was approved. Wrong items go to an operator first."""
    if not await condition_within(
        lambda: ctx.status.inspection is not None, ctx.timers.inspection_remind_seconds
    ):
        ctx.attention(True, "received but not inspected yet")
        await workflow.wait_condition(lambda: ctx.status.inspection is not None)
        ctx.attention(False, "inspected")
    inspection = ctx.status.inspection
    assert inspection is not None
    snapshot = ctx.order_snapshot
    found = inspected_refund(snapshot.order, ctx.request, inspection.lines, snapshot.paid)
    ctx.status.written_off = found.written_off
    amount = found.amount
    approved = ctx.status.approved_amount
    if approved is not None and approved.amount < amount.amount:
        amount = approved
    detail = f"by {inspection.by}: refund {amount}"
    if found.written_off:
        detail += f"; written off: {', '.join(found.written_off)}"
    ctx.move(ReturnState.INSPECTED, detail)
    if found.escalated and not await wrong_item_approved(ctx, found.escalated, amount):
        return Money.zero(amount.currency)
    return amount


async def wrong_item_approved(ctx: ReturnContext, skus: list[str], amount: Money) -> bool:
    """Not what we sent: an operator decides whether the rest is refunded."""
    timers = ctx.timers
    outcome = await ctx.approval.ask(
        ApprovalRequest(
            key="wrong-item",
            subject=(
                f"wrong item returned for {', '.join(skus)}: approve refunds the rest as "
                f"inspected ({amount}), reject refunds nothing"
            ),
            allowed_roles=INSPECTORS,
            remind_after=timedelta(seconds=timers.decision_remind_seconds),
            escalate_after=timedelta(seconds=timers.decision_escalate_seconds),
            expire_after=timedelta(seconds=timers.decision_expire_seconds),
        )
    )
    return outcome.approved
