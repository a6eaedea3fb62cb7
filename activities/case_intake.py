"""Inbound buyer messages from a marketplace's own messaging: eBay's Message API
(getConversations, then getConversation for each conversation with news), each buyer
message delivered to its case (`case-ebay-{conversationId}`) by signal-with-start.

Amazon has no API to read buyer messages: they reach the seller as e-mail through
Amazon's relay, so Amazon (like the storefront) comes in as e-mail, not here.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

import structlog
from pydantic import ValidationError
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.errors import partner_errors
from crossdock.models.case import BuyerMessage, ImportBuyerMessagesInput, ImportBuyerMessagesResult
from crossdock.models.order import Channel
from crossdock.partners.ebay_messages import EbayMessagesClient

log = structlog.get_logger(__name__)

# Starts or joins the message's case; answers its workflow id
# (`starter.cases.CaseDelivery`, injected by worker.py).
DeliverMessage = Callable[[BuyerMessage], Awaitable[str]]
MAX_TEXT = 4000


class CaseIntakeActivities:
    def __init__(self, ebay: EbayMessagesClient, deliver: DeliverMessage, seller: str) -> None:
        self._ebay = ebay
        self._deliver = deliver
        self._seller = seller

    @activity.defn
    async def import_buyer_messages(
        self, input: ImportBuyerMessagesInput
    ) -> ImportBuyerMessagesResult:
        """Deliver every buyer message sent at or after `input.since` to its case.

        Delivering is idempotent (the case drops a message id it has), so a retry after
        a partial run delivers nothing twice. A message that cannot be read (no id, an
        unreadable date, a conversation id unfit for a workflow id) is skipped and
        logged, never fails the poll.
        """
        if input.channel is not Channel.EBAY:
            raise ApplicationError(
                f"{input.channel} buyer messages arrive as e-mail, not by polling",
                non_retryable=True,
            )
        result = ImportBuyerMessagesResult(cursor=input.since)
        with partner_errors():
            async for conversation in self._ebay.conversations(input.since):
                for detail in await self._ebay.messages(str(conversation["conversationId"])):
                    await self._one(conversation, detail, input.since, result)
                activity.heartbeat(conversation["conversationId"])
        return result

    async def _one(
        self,
        conversation: dict[str, Any],
        detail: dict[str, Any],
        since: datetime,
        result: ImportBuyerMessagesResult,
    ) -> None:
        if detail.get("senderUsername") == self._seller:
            return  # our own reply
        message = self._message(conversation, detail)
        if message is None:
            result.skipped += 1
            return
        if message.received_at < since:
            return
        await self._deliver(message)
        result.delivered += 1
        result.cursor = max(result.cursor, message.received_at)

    @staticmethod
    def _message(conversation: dict[str, Any], detail: dict[str, Any]) -> BuyerMessage | None:
        # eBay references a listing (item id) today, or the order: only an order links.
        is_order = conversation.get("referenceType") == "ORDER"
        try:
            return BuyerMessage(
                channel=Channel.EBAY,
                thread=str(conversation["conversationId"]),
                message_id=str(detail["messageId"]),
                text=str(detail.get("messageBody") or "-")[:MAX_TEXT],
                received_at=datetime.fromisoformat(str(detail["createdDate"])),
                order_id=str(conversation.get("referenceId") or "") if is_order else "",
            )
        except (KeyError, ValueError, ValidationError) as err:
            log.warning(
                "buyer_message_unreadable",
                conversation=conversation.get("conversationId"),
                message=detail.get("messageId"),
                error=str(err)[:200],
            )
            return None
