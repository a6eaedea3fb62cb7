"""Telling the buyer how a payment dispute ended, where the channel allows it
(docs/customer-service.md): the payment stands (`dispute_won`) or the buyer has the
money back (`dispute_lost`), in their language, once per round and verdict.

The storefront's buyer hears by e-mail and eBay's through its Message API; Amazon tells
its buyers an A-to-z claim's outcome itself and allows no message for it (the timeline
says so). Behind the `dispute-outcome-messages` patch: disputes decided before it replay
without the message.
"""

from __future__ import annotations

from temporalio import workflow
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from activities.cases import CaseActivities
    from crossdock.models.dispute import DisputeProvider
    from crossdock.models.dispute_states import DisputeState
    from crossdock.models.notify import NotificationTemplate, NotifyBuyerInput
    from crossdock.models.order import Channel
    from workflows.buyer_messages import send
    from workflows.dispute_context import DisputeContext
    from workflows.options import call_partner

DISPUTE_MESSAGES = "dispute-outcome-messages"
TEMPLATES = {
    DisputeState.WON: NotificationTemplate.DISPUTE_WON,
    DisputeState.LOST: NotificationTemplate.DISPUTE_LOST,
}
CHANNELS = {
    DisputeProvider.STRIPE: Channel.STOREFRONT,
    DisputeProvider.AMAZON: Channel.AMAZON,
    DisputeProvider.EBAY: Channel.EBAY,
    DisputeProvider.EBAY_CASE: Channel.EBAY,
}


async def tell_buyer(ctx: DisputeContext, state: DisputeState) -> None:
    """The verdict's message to the buyer of the dispute's order (none without one)."""
    template = TEMPLATES.get(state)
    order_id = ctx.status.order_workflow_id
    if template is None or not order_id or not workflow.patched(DISPUTE_MESSAGES):
        return
    try:
        facts = await call_partner(CaseActivities.order_facts, order_id)
    except ActivityError as err:
        ctx.note("buyer_not_notified", f"{template.value}: order unreadable: {err.cause or err}")
        return
    step = f"notify-{state.value}"  # the key adds the round
    try:
        message = NotifyBuyerInput(
            to=facts.buyer_email,
            template=template,
            params={"order_ref": facts.channel_order_id},
            amounts={"amount": ctx.status.snapshot.amount},
            idempotency_key=ctx.key(step),
            language=facts.language,
            country=facts.country,
            channel=CHANNELS[ctx.provider],
            channel_order_id=facts.channel_order_id,
        )
    except ValueError as err:
        ctx.note("buyer_not_notified", f"{template.value}: {err}")
        return
    await send(message, ctx.note, ctx.flag)
