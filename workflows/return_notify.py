"""Telling the buyer about their return, once per step; a refusal is noted, not fatal."""

from __future__ import annotations

from temporalio import workflow
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from activities.notify import NotifyActivities
    from crossdock.models.notify import NotificationTemplate, NotifyBuyerInput
    from workflows.return_context import ReturnContext


async def notify(
    ctx: ReturnContext, template: NotificationTemplate, step: str, **params: str
) -> None:
    email = ctx.order_snapshot.order.buyer.email
    if not email:
        ctx.note("notification_skipped", f"{template.value}: no email address on file")
        return
    params |= {"order_ref": ctx.order_snapshot.order.channel_order_id, "rma": ctx.request.rma}
    try:
        message = NotifyBuyerInput(
            to=email, template=template, params=params, idempotency_key=ctx.key(f"notify-{step}")
        )
        await ctx.call(NotifyActivities.notify_buyer, message)
    except (ValueError, ActivityError) as err:
        # A bad address or a refused message must not stop a refund; a person follows up.
        ctx.attention(True, f"buyer not notified ({template.value}): {err}")
        return
    ctx.note("buyer_notified", template.value)
