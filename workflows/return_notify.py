"""Telling the buyer about their return, once per step, in their language through their
channel; a refusal is noted, not fatal."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from crossdock.models.notify import NotificationTemplate
    from crossdock.money import Money
    from workflows.buyer_messages import BUYER_MESSAGES, message, reachable, send
    from workflows.return_context import ReturnContext


async def notify(
    ctx: ReturnContext,
    template: NotificationTemplate,
    step: str,
    *,
    amounts: Mapping[str, Money] | None = None,
    terms: Mapping[str, str] | None = None,
    dates: Mapping[str, date] | None = None,
    **params: str,
) -> None:
    order = ctx.order_snapshot.order
    if not reachable(order):
        ctx.note("notification_skipped", f"{template.value}: no email address on file")
        return
    try:
        input = message(
            order,
            template,
            ctx.key(f"notify-{step}"),
            params={"rma": ctx.request.rma, **params},
            amounts=amounts,
            terms=terms,
            dates=dates,
        )
    except ValueError as err:
        # A bad address must not stop a refund; a person follows up.
        ctx.attention(True, f"buyer not notified ({template.value}): {err}")
        return
    await send(input, ctx.note, lambda why: ctx.attention(True, why))


async def notify_new(
    ctx: ReturnContext, template: NotificationTemplate, step: str, **kw: Money
) -> None:
    """A step the buyer was not told about before the `buyer-messages` patch."""
    if workflow.patched(BUYER_MESSAGES):
        await notify(ctx, template, step, amounts=kw)
