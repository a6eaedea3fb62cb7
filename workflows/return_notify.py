"""Telling the buyer about their return, once per step; a refusal is noted, not fatal."""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from activities.notify import NotifyActivities
    from crossdock.models.notify import NotificationTemplate, NotifyBuyerInput
    from workflows.options import PARTNER_HEARTBEAT, PARTNER_RETRY, PARTNER_TIMEOUT
    from workflows.return_context import ReturnContext

NOTIFY_GIVE_UP = timedelta(hours=1)


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
        await workflow.execute_activity_method(
            NotifyActivities.notify_buyer,
            message,
            start_to_close_timeout=PARTNER_TIMEOUT,
            heartbeat_timeout=PARTNER_HEARTBEAT,
            retry_policy=PARTNER_RETRY,
            # A mail service down for long must not hold a refund up: give up, flag it.
            schedule_to_close_timeout=NOTIFY_GIVE_UP,
        )
    except (ValueError, ActivityError) as err:
        # A bad address or a refused message must not stop a refund; a person follows up.
        ctx.attention(True, f"buyer not notified ({template.value}): {err}")
        return
    ctx.note("buyer_notified", template.value)
