"""Amazon SP-API Messaging v1: ask which messages Amazon allows for an order, then send
only those.

    GET  /messaging/v1/orders/{amazonOrderId}?marketplaceIds=...        getMessagingActionsForOrder
    POST /messaging/v1/orders/{amazonOrderId}/messages/{action}?marketplaceIds=...  {"text": ...}

The answer to the GET is HAL: `_links.actions` lists `{href, name}` per action allowed
for this order now (`confirmDeliveryDetails`, `unexpectedProblem`, `legalDisclosure`,
...). Amazon sends its own order, shipping and delivery notices and refuses unsolicited
messages, so a template with no action for an order is not sent at all. Amazon's
Messaging model is not among the contracts the contract tests check (docs/partners.md);
this follows Amazon's Messaging API v1 reference (paths, HAL shape, `{"text"}` bodies of
at most 2000 characters, `{"errors": [{code, message, details}]}`).

Messaging takes no idempotency key; Crossdock sends `Idempotency-Key` anyway (the sandbox
dedupes on it, Amazon ignores it) and the workflow sends each step once.
"""

from __future__ import annotations

from crossdock.partners.amazon_api import MarketplaceApi

MESSAGING_PATH = "/messaging/v1/orders"
MAX_TEXT = 2000


class AmazonMessagingClient(MarketplaceApi):
    """Async client for SP-API Messaging v1 in one marketplace."""

    accept = "application/hal+json"

    async def allowed_actions(self, order_id: str) -> list[str]:
        """getMessagingActionsForOrder: the names of the actions Amazon allows now."""
        body = await self._json(
            "GET", f"{MESSAGING_PATH}/{order_id}", params={"marketplaceIds": self.marketplace_id}
        )
        links = (body.get("_links") or {}).get("actions") or []
        return [str(link["name"]) for link in links if link.get("name")]

    async def send(self, order_id: str, action: str, text: str, idempotency_key: str) -> None:
        """POST one allowed action's message (`createUnexpectedProblem`, ...)."""
        await self._call(
            "POST",
            f"{MESSAGING_PATH}/{order_id}/messages/{action}",
            idempotency_key,
            params={"marketplaceIds": self.marketplace_id},
            json={"text": text[:MAX_TEXT]},
        )
