"""eBay buyer messages through the Message API (commerce/message/v1).

    POST /commerce/message/v1/send_message   {otherPartyUsername | conversationId,
                                              messageText, reference?}

A message about an order goes to the buyer's username (from the Fulfillment API's
order), with `reference` naming the order. eBay takes no idempotency key; Crossdock
sends `Idempotency-Key` anyway (the sandbox dedupes on it) and sends each step once.
Messages are at most 2000 characters.
"""

from __future__ import annotations

from typing import Any

from crossdock.partners.ebay_api import EbayApi

SEND_PATH = "/commerce/message/v1/send_message"
MAX_TEXT = 2000


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
