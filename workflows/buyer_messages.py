"""Telling a buyer about a step of their order or return: in their language, through
their channel, once per step and parcel (the idempotency key names both).

Shared by the order and return workflows. New steps are behind the `buyer-messages`
patch (`BUYER_MESSAGES`), so histories recorded before them replay unchanged.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date, timedelta

from temporalio import workflow
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from activities.notify import NotifyActivities
    from crossdock.messages import language_for
    from crossdock.models.notify import NotificationSent, NotificationTemplate, NotifyBuyerInput
    from crossdock.models.order import Channel, Order
    from crossdock.money import Money
    from workflows.options import PARTNER_HEARTBEAT, PARTNER_RETRY, PARTNER_TIMEOUT

BUYER_MESSAGES = "buyer-messages"
# A messaging service down for long must not hold a lifecycle up: give up, flag it.
GIVE_UP = timedelta(hours=1)


def message(
    order: Order,
    template: NotificationTemplate,
    key: str,
    *,
    params: Mapping[str, str] | None = None,
    amounts: Mapping[str, Money] | None = None,
    dates: Mapping[str, date] | None = None,
    terms: Mapping[str, str] | None = None,
) -> NotifyBuyerInput:
    """The notify input for `order`'s buyer (raises ValueError when incomplete)."""
    return NotifyBuyerInput(
        to=order.buyer.email,
        template=template,
        params={"order_ref": order.channel_order_id, **(params or {})},
        amounts=dict(amounts or {}),
        dates=dict(dates or {}),
        terms=dict(terms or {}),
        idempotency_key=key,
        language=language_for(order.ship_to.country, order.buyer.language),
        country=order.ship_to.country,
        channel=order.channel,
        channel_order_id=order.channel_order_id,
    )


def reachable(order: Order) -> bool:
    """Whether the buyer can be written to: e-mail, or the marketplace's messaging (only
    under the patch: before it, a marketplace buyer without e-mail was skipped)."""
    if order.buyer.email:
        return True
    return order.channel is not Channel.STOREFRONT and workflow.patched(BUYER_MESSAGES)


async def send(
    input: NotifyBuyerInput,
    note: Callable[[str, str], None],
    flag: Callable[[str], None],
) -> NotificationSent | None:
    """Send once; note the send (or the channel's refusal) on the timeline. A failed
    send flags the case for a person and never stops the lifecycle."""
    try:
        sent = await workflow.execute_activity_method(
            NotifyActivities.notify_buyer,
            input,
            start_to_close_timeout=PARTNER_TIMEOUT,
            heartbeat_timeout=PARTNER_HEARTBEAT,
            retry_policy=PARTNER_RETRY,
            schedule_to_close_timeout=GIVE_UP,
        )
    except ActivityError as err:
        flag(f"buyer not notified ({input.template.value}): {err.cause or err}")
        return None
    if sent.sent:
        note("buyer_notified", f"{input.template.value} [{sent.language}] via {sent.via}")
    else:
        note("buyer_message_not_sent", f"{input.template.value} via {sent.via}: {sent.detail}")
    return sent
