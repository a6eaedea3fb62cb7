"""eBay buyer messages through the Message API (commerce/message/v1).

    POST /commerce/message/v1/send_message   {otherPartyUsername | conversationId,
                                              messageText, reference?}
    GET  /commerce/message/v1/conversation?conversation_type=FROM_MEMBERS&start_time=...
         getConversations: ConversationDetail (latestMessage, referenceId/Type), paged
    GET  /commerce/message/v1/conversation/{conversation_id}?conversation_type=FROM_MEMBERS
         getConversation: its MessageDetails (senderUsername, messageBody, createdDate)

A message about an order goes to the buyer's username (from the Fulfillment API's
order), with `reference` naming the order. eBay takes no idempotency key; Crossdock
sends `Idempotency-Key` anyway (the sandbox dedupes on it) and sends each step once.
Messages are at most 2000 characters.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any
from urllib.parse import quote

from crossdock.partners.ebay_api import EbayApi

SEND_PATH = "/commerce/message/v1/send_message"
CONVERSATIONS_PATH = "/commerce/message/v1/conversation"
MAX_TEXT = 2000
# getConversations and getConversation answer at most 50 entries a page.
PAGE = 50
MEMBERS = "FROM_MEMBERS"


class EbayMessagesClient(EbayApi):
    """Async client for eBay's Message API."""

    async def send(
        self,
        username: str,
        order_id: str,
        text: str,
        idempotency_key: str,
        *,
        conversation_id: str | None = None,
    ) -> dict[str, Any]:
        """Send `text` to `username` about `order_id` (or within a conversation)."""
        body: dict[str, Any] = {"messageText": text[:MAX_TEXT]}
        if conversation_id:
            body["conversationId"] = conversation_id
        else:
            body["otherPartyUsername"] = username
            body["reference"] = {"referenceId": order_id, "referenceType": "ORDER"}
        answer: dict[str, Any] = await self._json("POST", SEND_PATH, idempotency_key, json=body)
        return answer

    async def conversations(self, since: datetime) -> AsyncIterator[dict[str, Any]]:
        """Members' conversations whose latest message is at or after `since`, every
        page (ConversationDetail objects)."""
        params: dict[str, Any] = {
            "conversation_type": MEMBERS,
            "start_time": since.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
            "limit": PAGE,
            "offset": 0,
        }
        while True:
            page: dict[str, Any] = await self._json("GET", CONVERSATIONS_PATH, params=params)
            for conversation in page.get("conversations") or []:
                yield conversation
            if not page.get("next"):
                return
            params["offset"] += PAGE

    async def messages(self, conversation_id: str) -> list[dict[str, Any]]:
        """Every message of a conversation, oldest first (MessageDetail objects)."""
        found: list[dict[str, Any]] = []
        params: dict[str, Any] = {"conversation_type": MEMBERS, "limit": PAGE, "offset": 0}
        path = f"{CONVERSATIONS_PATH}/{quote(conversation_id, safe='')}"
        while True:
            page: dict[str, Any] = await self._json("GET", path, params=params)
            found += page.get("messages") or []
            if not page.get("next"):
                return found
            params["offset"] += PAGE
