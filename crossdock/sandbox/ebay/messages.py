"""eBay's Message API (commerce/message/v1) on the sandbox's eBay order book.

    POST /ebay/commerce/message/v1/send_message   {otherPartyUsername | conversationId,
                                                   messageText, reference?}
    GET  /ebay/commerce/message/v1/conversation   getConversations: conversation_type,
                                                   start_time, end_time, limit, offset
    GET  /ebay/commerce/message/v1/conversation/{conversation_id}   getConversation
    POST /ebay/_sandbox/messages/{orderId}/buyer-messages   a buyer writes {text}
    GET  /ebay/_sandbox/messages                             every message, oldest first

One conversation per buyer and order. A message to a username that is not the order's
buyer, or without text, is refused in eBay's error container (400); texts over 2000
characters too. eBay takes no idempotency key; the sandbox honours `Idempotency-Key`
so that tests can assert exactly-once. Sends are ledger entries of kind "buyer_message".
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Depends, Header, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from crossdock.sandbox.context import SandboxContext
from crossdock.sandbox.core.routes import Refusal
from crossdock.sandbox.core.store import Table
from crossdock.sandbox.ebay.orders import EbayOrders, buyer_username, ebay_error

PARTNER = "ebay"
API = "/ebay/commerce/message/v1"
ADMIN = "/ebay/_sandbox/messages"
SELLER = "crossdock_seller"


@dataclass
class EbayMessage:
    message_id: str
    conversation_id: str
    order_id: str
    sender: str
    recipient: str
    text: str
    created: datetime


class Reference(BaseModel):
    referenceId: str = Field(min_length=1, max_length=64)
    referenceType: str = Field(pattern="^(LISTING|ORDER)$")


class SendMessageRequest(BaseModel):
    conversationId: str | None = Field(default=None, max_length=64)
    otherPartyUsername: str | None = Field(default=None, max_length=64)
    messageText: str = Field(min_length=1, max_length=2000)
    reference: Reference | None = None


class BuyerText(BaseModel):
    text: str = Field(min_length=1, max_length=2000)


def _refused(message: str, field: str) -> Refusal:
    return Refusal(ebay_error(400, 355001, message, {"field": field}, domain="API_MESSAGE"))


def message_json(message: EbayMessage) -> dict[str, Any]:
    return {
        "messageId": message.message_id,
        "conversationId": message.conversation_id,
        "senderUsername": message.sender,
        "recipientUsername": message.recipient,
        "messageBody": message.text,
        "createdDate": message.created.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
        "reference": {"referenceId": message.order_id, "referenceType": "ORDER"},
    }


def _date(at: datetime) -> str:
    return at.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def message_detail(message: EbayMessage) -> dict[str, Any]:
    """A MessageDetail, as getConversation(s) return it."""
    return {
        "messageId": message.message_id,
        "messageBody": message.text,
        "senderUsername": message.sender,
        "recipientUsername": message.recipient,
        "createdDate": _date(message.created),
        "readStatus": False,
        "subject": "",
        "messageMedia": [],
    }


def conversation_detail(messages: list[EbayMessage]) -> dict[str, Any]:
    """A ConversationDetail of one buyer's conversation about one order (oldest first)."""
    first, latest = messages[0], messages[-1]
    buyer = first.sender if first.sender != SELLER else first.recipient
    return {
        "conversationId": first.conversation_id,
        "conversationStatus": "ACTIVE",
        "conversationTitle": f"Order {first.order_id} with {buyer}",
        "conversationType": "FROM_MEMBERS",
        "createdDate": _date(first.created),
        "latestMessage": message_detail(latest),
        # Real eBay references a listing today; the sandbox's conversations are per order.
        "referenceId": first.order_id,
        "referenceType": "ORDER",
        "unreadCount": sum(1 for m in messages if m.sender != SELLER),
    }


def _page(rows: list[Any], limit: int, offset: int, href: str) -> dict[str, Any]:
    nxt = f"{href}&offset={offset + limit}&limit={limit}" if offset + limit < len(rows) else None
    return {"href": href, "limit": limit, "offset": offset, "total": len(rows), "next": nxt}


def _when(value: str | None, field: str) -> datetime | None:
    if value is None:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise _refused(f"{field} {value!r} is not an ISO 8601 date.", field) from None


class Inbox:
    def __init__(self, ctx: SandboxContext, orders: EbayOrders) -> None:
        self.ctx = ctx
        self.orders = orders
        self.messages: Table[EbayMessage] = ctx.store.table(PARTNER, "message", EbayMessage)

    def add(self, order_id: str, sender: str, recipient: str, text: str) -> EbayMessage:
        message = EbayMessage(
            message_id=f"m{secrets.token_hex(8)}",
            conversation_id=f"conv-{order_id}",
            order_id=order_id,
            sender=sender,
            recipient=recipient,
            text=text,
            created=datetime.now(UTC),
        )
        self.messages[f"{len(self.messages):09d}"] = message
        return message

    def listed(self) -> list[EbayMessage]:
        return [self.messages[k] for k in sorted(self.messages)]

    def conversations(self) -> dict[str, list[EbayMessage]]:
        """Each conversation's messages, oldest first; conversations newest first."""
        found: dict[str, list[EbayMessage]] = {}
        for message in self.listed():
            found.setdefault(message.conversation_id, []).append(message)
        return dict(sorted(found.items(), key=lambda kv: kv[1][-1].created, reverse=True))

    def order_of(self, body: SendMessageRequest) -> str:
        if body.conversationId:
            return body.conversationId.removeprefix("conv-")
        if body.reference is None or body.reference.referenceType != "ORDER":
            raise _refused("A new conversation about an order needs reference ORDER.", "reference")
        return body.reference.referenceId


def add_routes(router: APIRouter, orders: EbayOrders, ctx: SandboxContext, auth: Any) -> None:
    """The Message API and the buyer's side of it, on the eBay router."""
    inbox = Inbox(ctx, orders)
    _add_send_route(router, inbox, orders, ctx, auth)
    _add_conversation_routes(router, inbox, auth)
    _add_buyer_routes(router, inbox, orders)


def _add_send_route(
    router: APIRouter, inbox: Inbox, orders: EbayOrders, ctx: SandboxContext, auth: Any
) -> None:
    @router.post(f"{API}/send_message", dependencies=[Depends(auth)])
    async def send_message(
        body: SendMessageRequest,
        request: Request,
        key: str | None = Header(default=None, alias="Idempotency-Key"),
    ) -> JSONResponse:
        """sendMessage: to the order's buyer, in a new or existing conversation."""
        order_id = inbox.order_of(body)
        buyer = buyer_username(orders.get(order_id).order)
        if body.otherPartyUsername not in (None, buyer):
            raise _refused("The other party is not a partner in this order.", "otherPartyUsername")

        async def deliver() -> JSONResponse:
            message = inbox.add(order_id, SELLER, buyer, body.messageText)
            ctx.ledger.record(PARTNER, "buyer_message", order_id, idempotency_key=key)
            return JSONResponse(message_json(message))

        return await ctx.idempotency.once(
            "ebay-messages",
            request,
            key,
            body.model_dump(),
            deliver,
            lambda used: ebay_error(409, 355002, f"Idempotency-Key {used} reused"),
        )


def _add_conversation_routes(router: APIRouter, inbox: Inbox, auth: Any) -> None:
    @router.get(f"{API}/conversation", dependencies=[Depends(auth)])
    async def get_conversations(
        conversation_type: str = Query(pattern="^(FROM_EBAY|FROM_MEMBERS)$"),
        start_time: str | None = None,
        end_time: str | None = None,
        limit: int = Query(default=25, ge=1, le=50),
        offset: int = Query(default=0, ge=0),
    ) -> JSONResponse:
        """getConversations: members' conversations whose latest message falls in the
        time range, newest first."""
        start, end = _when(start_time, "start_time"), _when(end_time, "end_time")
        rows = []
        if conversation_type == "FROM_MEMBERS":
            for messages in inbox.conversations().values():
                latest = messages[-1].created
                if (start is None or latest >= start) and (end is None or latest <= end):
                    rows.append(conversation_detail(messages))
        href = f"{API}/conversation?conversation_type={conversation_type}"
        body = _page(rows, limit, offset, href)
        body["conversations"] = rows[offset : offset + limit]
        return JSONResponse(body)

    @router.get(f"{API}/conversation/{{conversation_id}}", dependencies=[Depends(auth)])
    async def get_conversation(
        conversation_id: str,
        conversation_type: str = Query(pattern="^(FROM_EBAY|FROM_MEMBERS)$"),
        limit: int = Query(default=25, ge=1, le=50),
        offset: int = Query(default=0, ge=0),
    ) -> JSONResponse:
        """getConversation: the conversation's messages, oldest first."""
        messages = inbox.conversations().get(conversation_id)
        if messages is None or conversation_type != "FROM_MEMBERS":
            return ebay_error(
                404, 355010, f"Conversation {conversation_id} was not found.", domain="API_MESSAGE"
            )
        body = conversation_detail(messages)
        del body["latestMessage"], body["unreadCount"]
        href = f"{API}/conversation/{conversation_id}?conversation_type={conversation_type}"
        body |= _page(messages, limit, offset, href)
        body["messages"] = [message_detail(m) for m in messages[offset : offset + limit]]
        return JSONResponse(body)


def _add_buyer_routes(router: APIRouter, inbox: Inbox, orders: EbayOrders) -> None:
    """The sandbox's own side: the buyer writes, tests read every message."""

    @router.post(f"{ADMIN}/{{order_id}}/buyer-messages", status_code=201)
    async def buyer_writes(order_id: str, body: BuyerText) -> JSONResponse:
        """The order's buyer writes to the seller."""
        buyer = buyer_username(orders.get(order_id).order)
        return JSONResponse(message_json(inbox.add(order_id, buyer, SELLER, body.text)), 201)

    @router.get(ADMIN)
    async def listed(since: int = 0) -> JSONResponse:
        """Every message both ways, oldest first, from position `since`."""
        rows = inbox.listed()[since:]
        return JSONResponse(
            {"messages": [message_json(m) for m in rows], "next": since + len(rows)}
        )
