"""Amazon SP-API Messaging v1 on the sandbox's order book, and buyers writing to the seller.

    GET  /messaging/v1/orders/{amazonOrderId}?marketplaceIds=   getMessagingActionsForOrder
    POST /messaging/v1/orders/{amazonOrderId}/messages/{action}?marketplaceIds=  {"text"}
    POST /amazon/_sandbox/messaging/{amazonOrderId}/buyer-messages  a buyer writes {text}
    GET  /amazon/_sandbox/messaging/messages        every message both ways, oldest first

Which actions an order allows follows Amazon's rules as sellers meet them: an order's
messages concern its fulfilment, and Amazon itself tells buyers about confirmation,
shipment and delivery, so there is no action for those. `unexpectedProblem` and
`legalDisclosure` are open while the order is not cancelled; `confirmOrderDetails`
only before shipment; `confirmDeliveryDetails` only once it shipped;
`confirmCustomizationDetails` never (no customised items here). A POST of an action not
allowed for the order now is refused as Amazon refuses it: 403 Unauthorized. Amazon's
Messaging model is not among the contracts the contract tests check (docs/partners.md);
shapes follow Amazon's Messaging API v1 reference (HAL `_links.actions`, `{"text"}` of
1 to 2000 characters, SP-API errors).

A send carrying an `Idempotency-Key` (Amazon takes none; the sandbox honours it so tests
can assert exactly-once) is replayed, never delivered twice. Every message sent is a
ledger entry of kind "buyer_message" (order id, action, key; never the text).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Depends, Header, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from crossdock.sandbox.amazon.orders import AmazonOrders, OrderRecord, invalid, iso, sp_api_error
from crossdock.sandbox.context import SandboxContext
from crossdock.sandbox.core.routes import Refusal
from crossdock.sandbox.core.store import Table

PARTNER = "amazon"
API = "/amazon/messaging/v1/orders"
# The hrefs Amazon answers are relative to its host, without the sandbox's /amazon prefix.
HREF = "/messaging/v1/orders"
ADMIN = "/amazon/_sandbox/messaging"
ALWAYS = ("unexpectedProblem", "legalDisclosure")
BEFORE_SHIPMENT = ("confirmOrderDetails",)
AFTER_SHIPMENT = ("confirmDeliveryDetails",)
KNOWN = (
    "confirmCustomizationDetails",
    "confirmDeliveryDetails",
    "confirmOrderDetails",
    "confirmServiceDetails",
    "amazonMotors",
    "warranty",
    "digitalAccessKey",
    "legalDisclosure",
    "negativeFeedbackRemoval",
    "unexpectedProblem",
)


@dataclass
class MessageRecord:
    message_id: str
    order_id: str
    # "seller" (sent through Messaging) or "buyer" (a buyer wrote to the seller).
    sender: str
    action: str
    text: str
    sent_at: datetime
    idempotency_key: str | None = None


class MessageBody(BaseModel):
    text: str = Field(min_length=1, max_length=2000)


def allowed(record: OrderRecord) -> list[str]:
    """The actions Amazon allows for this order now."""
    if record.status == "Canceled":
        return []
    shipped = record.status in ("Shipped", "PartiallyShipped")
    return [*ALWAYS, *(AFTER_SHIPMENT if shipped else BEFORE_SHIPMENT)]


def actions_json(record: OrderRecord, marketplace_id: str) -> dict[str, Any]:
    """getMessagingActionsForOrder's HAL answer."""
    base = f"{HREF}/{record.id}"
    query = f"?marketplaceIds={marketplace_id}"
    links = [{"href": f"{base}/messages/{name}{query}", "name": name} for name in allowed(record)]
    embedded = [
        {
            "_links": {
                "self": {"href": f"{base}/messages/{name}{query}"},
                "schema": {"href": f"/messaging/v1/orders/schemas/{name}", "name": name},
            },
            "name": name,
        }
        for name in allowed(record)
    ]
    return {
        "_links": {"self": {"href": f"{base}{query}"}, "actions": links},
        "_embedded": {"actions": embedded},
    }


class Conversations:
    """Messages per order, both ways, remembered across restarts."""

    def __init__(self, ctx: SandboxContext, orders: AmazonOrders) -> None:
        self.ctx = ctx
        self.orders = orders
        self.messages: Table[MessageRecord] = ctx.store.table(PARTNER, "message", MessageRecord)

    def order(self, order_id: str) -> OrderRecord:
        try:
            return self.orders.get(order_id)
        except KeyError:
            raise Refusal(
                sp_api_error(404, "NotFound", "The resource specified does not exist.", order_id)
            ) from None

    def add(self, order_id: str, sender: str, action: str, text: str, key: str | None) -> Any:
        record = MessageRecord(
            message_id=f"amzn-msg-{secrets.token_hex(8)}",
            order_id=order_id,
            sender=sender,
            action=action,
            text=text,
            sent_at=datetime.now(UTC),
            idempotency_key=key,
        )
        self.messages[f"{len(self.messages):09d}"] = record
        if sender == "seller":
            self.ctx.ledger.record(
                PARTNER, "buyer_message", order_id, idempotency_key=key, action=action
            )
        return record

    def listed(self) -> list[MessageRecord]:
        return [self.messages[k] for k in sorted(self.messages)]


def message_json(record: MessageRecord) -> dict[str, Any]:
    return {
        "messageId": record.message_id,
        "amazonOrderId": record.order_id,
        "sender": record.sender,
        "action": record.action,
        "text": record.text,
        "sentAt": iso(record.sent_at),
    }


def add_routes(
    router: APIRouter, orders: AmazonOrders, ctx: SandboxContext, auth: list[Any]
) -> None:
    """Messaging v1 and the buyer's side of it, on the Amazon router."""
    conversations = Conversations(ctx, orders)
    deps = [Depends(dep) for dep in auth]

    @router.get(f"{API}/{{order_id}}", dependencies=deps)
    async def get_actions(order_id: str, marketplaceIds: str = Query()) -> JSONResponse:
        """getMessagingActionsForOrder."""
        record = conversations.order(order_id)
        return JSONResponse(actions_json(record, marketplaceIds), media_type="application/hal+json")

    @router.post(f"{API}/{{order_id}}/messages/{{action}}", dependencies=deps, status_code=201)
    async def send(
        order_id: str,
        action: str,
        body: MessageBody,
        request: Request,
        marketplaceIds: str = Query(),
        key: str | None = Header(default=None, alias="Idempotency-Key"),
    ) -> JSONResponse:
        """createUnexpectedProblem, createConfirmDeliveryDetails, ... (201, `{}`)."""
        if action not in KNOWN:
            raise invalid(f"action {action!r} is not a messaging action")
        record = conversations.order(order_id)
        if action not in allowed(record):
            return sp_api_error(
                403,
                "Unauthorized",
                "Access to requested resource is denied.",
                f"The {action} action is not available for order {order_id}.",
            )

        async def deliver() -> JSONResponse:
            conversations.add(order_id, "seller", action, body.text, key)
            return JSONResponse({}, status_code=201)

        return await ctx.idempotency.once(
            "amazon-messaging",
            request,
            key,
            body.model_dump(),
            deliver,
            lambda used: sp_api_error(400, "InvalidInput", f"Idempotency-Key {used} reused"),
        )

    _buyer_routes(router, conversations)


def _buyer_routes(router: APIRouter, conversations: Conversations) -> None:
    """The buyer's side, which Amazon does not show sellers: buyers write, messages listed."""

    @router.post(f"{ADMIN}/{{order_id}}/buyer-messages", status_code=201)
    async def buyer_writes(order_id: str, body: MessageBody) -> JSONResponse:
        """A buyer writes to the seller about an order (Buyer-Seller Messaging)."""
        conversations.order(order_id)
        record = conversations.add(order_id, "buyer", "buyerMessage", body.text, None)
        return JSONResponse(message_json(record), status_code=201)

    @router.get(f"{ADMIN}/messages")
    async def listed(since: int = 0) -> JSONResponse:
        """Every message both ways, oldest first, from position `since`."""
        rows = conversations.listed()[since:]
        return JSONResponse(
            {"messages": [message_json(r) for r in rows], "next": since + len(rows)}
        )
