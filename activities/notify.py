"""Notify activities: tell a buyer what happened to their order, in their language,
through their channel's own messaging surface, once per idempotency key.

Storefront buyers get e-mail (SendGrid shape); Amazon buyers get SP-API Messaging, only
for the actions Amazon allows for the order (asked first with
getMessagingActionsForOrder); eBay buyers get the Message API.
"""

from __future__ import annotations

import structlog
from temporalio import activity

from activities.errors import partner_errors
from crossdock.messages import amazon_action
from crossdock.messages.render import Rendered, render
from crossdock.models.notify import NotificationSent, NotificationTemplate, NotifyBuyerInput
from crossdock.models.order import Channel
from crossdock.partners.amazon_messaging import AmazonMessagingClient
from crossdock.partners.ebay import EbayFulfillmentClient
from crossdock.partners.ebay_messages import EbayMessagesClient
from crossdock.partners.mail import MailClient

log = structlog.get_logger(__name__)


def rendered(input: NotifyBuyerInput) -> Rendered:
    """The message in the buyer's language, money and dates in their locale."""
    return render(
        input.template.value,
        input.language,
        input.country,
        params=input.params,
        amounts=input.amounts,
        dates=input.dates,
        terms=input.terms,
    )


def relayed(input: NotifyBuyerInput) -> bool:
    """A reply to an Amazon buyer's own message goes by e-mail to the buyer's relay
    address (Buyer-Seller Messaging), not through the Messaging API's actions."""
    return (
        input.channel is Channel.AMAZON
        and input.template is NotificationTemplate.CASE_REPLY
        and bool(input.to)
    )


class NotifyActivities:
    def __init__(
        self,
        mail: MailClient,
        amazon: AmazonMessagingClient | None = None,
        ebay: EbayMessagesClient | None = None,
        ebay_orders: EbayFulfillmentClient | None = None,
    ) -> None:
        self._mail = mail
        self._amazon = amazon
        self._ebay = ebay
        self._ebay_orders = ebay_orders

    @activity.defn
    async def notify_buyer(self, input: NotifyBuyerInput) -> NotificationSent:
        """Render the template and send it to the buyer through their channel.

        Logs name the template, channel and key only, never the address or the text.
        """
        message = rendered(input)
        with partner_errors():
            if relayed(input):
                sent = await self._mail_send(input, message)
            elif input.channel is Channel.AMAZON and self._amazon is not None:
                sent = await self._amazon_send(input, message)
            elif input.channel is Channel.EBAY and self._ebay is not None:
                sent = await self._ebay_send(input, message)
            else:
                sent = await self._mail_send(input, message)
        log.info(
            "buyer_notified" if sent.sent else "buyer_message_not_allowed",
            template=input.template.value,
            via=sent.via,
            language=message.language,
            idempotency_key=input.idempotency_key,
        )
        return sent

    def _sent(self, input: NotifyBuyerInput, message: Rendered, via: str) -> NotificationSent:
        return NotificationSent(
            template=input.template,
            idempotency_key=input.idempotency_key,
            via=via,
            language=message.language,
            subject=message.subject,
            body=message.body,
        )

    async def _mail_send(self, input: NotifyBuyerInput, message: Rendered) -> NotificationSent:
        await self._mail.send(
            input.to,
            message.subject,
            message.body,
            input.idempotency_key,
            tags={"template": input.template.value, "language": message.language},
        )
        return self._sent(input, message, "mail")

    async def _amazon_send(self, input: NotifyBuyerInput, message: Rendered) -> NotificationSent:
        assert self._amazon is not None
        action = amazon_action(input.template.value)
        if action is None:
            return self._refused(input, message, "amazon", "Amazon tells the buyer itself")
        allowed = await self._amazon.allowed_actions(input.channel_order_id)
        if action not in allowed:
            why = f"Amazon allows {', '.join(allowed) or 'no message'} for the order, not {action}"
            return self._refused(input, message, f"amazon:{action}", why)
        text = f"{message.subject}\n\n{message.body}"
        await self._amazon.send(input.channel_order_id, action, text, input.idempotency_key)
        return self._sent(input, message, f"amazon:{action}")

    async def _ebay_send(self, input: NotifyBuyerInput, message: Rendered) -> NotificationSent:
        assert self._ebay is not None and self._ebay_orders is not None
        order = await self._ebay_orders.get_order(input.channel_order_id)
        username = order.buyer.username if order.buyer else None
        if not username:
            return self._refused(input, message, "ebay", "eBay names no buyer for the order")
        text = f"{message.subject}\n\n{message.body}"
        await self._ebay.send(username, input.channel_order_id, text, input.idempotency_key)
        return self._sent(input, message, "ebay")

    def _refused(
        self, input: NotifyBuyerInput, message: Rendered, via: str, why: str
    ) -> NotificationSent:
        return self._sent(input, message, via).model_copy(update={"sent": False, "detail": why})
