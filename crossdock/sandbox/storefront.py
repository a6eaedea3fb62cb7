"""The seller's own shop: a checkout that hands each order to Crossdock's intake.

`POST /storefront/checkout` accepts a Crossdock `Order` and answers at once; a background
sender then POSTs the order to `storefront_checkout_url` until intake answers 2xx,
with capped exponential backoff, the way a shop platform's order webhook retries. So
delivery is at least once (intake dedupes by order id) and never blocks the buyer.

Each delivery is signed as Stripe signs webhooks, with the install's
`storefront_signing_secret`: `Crossdock-Storefront-Signature: t=<unix>,v1=<hex>`, the hex
HMAC-SHA256 of `"{t}.{raw body}"`, signed afresh per attempt. `GET /storefront/orders/{id}`
is the shop's record of an order, which intake re-reads before it trusts a checkout.

`POST /storefront/orders/{id}/fulfillments` is how Crossdock tells the shop an order
shipped (Idempotency-Key honoured), so the shop can email the buyer their tracking.
`POST /storefront/orders/{id}/cancellations` ({"reason", "skus": [] = whole order}) is how
Crossdock tells it the seller cancelled the order or some of its lines (storefront lines
have no channel id: they are named by SKU); refused once the order has shipped.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Annotated, Any

import httpx
import structlog
from fastapi import APIRouter, Header, Request
from fastapi.responses import JSONResponse, Response
from pydantic import AwareDatetime, BaseModel, Field

from crossdock.models.order import Channel, Order
from crossdock.sandbox.context import SandboxContext
from crossdock.sandbox.core.idempotency import reused_key
from crossdock.sandbox.core.routes import Refusal, partner_route
from crossdock.sandbox.core.store import Counter, Table

log = structlog.get_logger(__name__)

SIGNATURE_HEADER = "Crossdock-Storefront-Signature"
FIRST_RETRY_SECONDS = 0.2
MAX_RETRY_SECONDS = 30.0


def sign(body: bytes, secret: str, timestamp: int) -> dict[str, str]:
    """The signature header of one delivery of `body` at `timestamp` (unix seconds)."""
    signed = str(timestamp).encode() + b"." + body
    digest = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return {SIGNATURE_HEADER: f"t={timestamp},v1={digest}"}


def _error(status: int, code: str, message: str, field_name: str | None = None) -> JSONResponse:
    error = {"code": code, "message": message} | ({"field": field_name} if field_name else {})
    return JSONResponse({"error": error}, status_code=status)


@dataclass
class Checkout:
    order: Order
    received_at: datetime
    attempts: int = 0
    forwarded_at: datetime | None = None
    last_error: str | None = None
    # SKU -> the seller's reason, for lines cancelled through /cancellations.
    cancelled: dict[str, str] = field(default_factory=dict)
    shipped: bool = False

    @property
    def status(self) -> str:
        skus = {item.sku for item in self.order.items}
        if not self.cancelled:
            return "open"
        return "cancelled" if skus <= set(self.cancelled) else "partially_cancelled"

    def summary(self) -> dict[str, Any]:
        return {
            "order_id": self.order.channel_order_id,
            "received_at": self.received_at.isoformat(),
            "forwarded": self.forwarded_at is not None,
            "forwarded_at": self.forwarded_at.isoformat() if self.forwarded_at else None,
            "attempts": self.attempts,
            "last_error": self.last_error,
            "status": self.status,
            "cancelled_skus": sorted(self.cancelled),
            "order": self.order.model_dump(mode="json"),
        }


class CancellationInput(BaseModel):
    reason: str = Field(min_length=1, max_length=200)
    skus: list[str] = Field(default_factory=list)  # empty: the whole order


class FulfillmentInput(BaseModel):
    tracking_number: str = Field(min_length=1)
    carrier: str = Field(min_length=1)
    shipped_at: AwareDatetime


@dataclass
class Storefront:
    ctx: SandboxContext
    checkouts: Table[Checkout] = field(init=False)
    fulfillment_ids: Counter = field(init=False)
    cancellation_ids: Counter = field(init=False)
    outbox: asyncio.Queue[Checkout] = field(default_factory=asyncio.Queue)

    def __post_init__(self) -> None:
        store = self.ctx.store
        self.checkouts = store.table("storefront", "checkout", Checkout)
        self.fulfillment_ids = store.counter("storefront", "fulfillment")
        self.cancellation_ids = store.counter("storefront", "cancellation")
        # Checkouts a restart interrupted before intake took them are sent again.
        for checkout in self.checkouts.peek():
            if checkout.forwarded_at is None:
                self.outbox.put_nowait(checkout)

    async def forward_all(self) -> None:
        """Background loop: one delivery task per checkout, all cancelled at shutdown."""
        async with asyncio.TaskGroup() as deliveries:
            while True:
                deliveries.create_task(self._deliver(await self.outbox.get()))

    async def _deliver(self, checkout: Checkout) -> None:
        url = self.ctx.config.storefront_checkout_url
        if url is None:
            return
        delay = FIRST_RETRY_SECONDS
        while not await self._recorded_attempt(checkout, url):
            await asyncio.sleep(delay)
            delay = min(delay * 2, MAX_RETRY_SECONDS)

    async def _recorded_attempt(self, checkout: Checkout, url: str) -> bool:
        with self.ctx.store.unit():
            self.checkouts.changed(checkout.order.channel_order_id)
            return await self._attempt(checkout, url)

    async def _attempt(self, checkout: Checkout, url: str) -> bool:
        checkout.attempts += 1
        order_id = checkout.order.channel_order_id
        body = json.dumps(checkout.order.model_dump(mode="json")).encode()
        headers = {"Content-Type": "application/json"}
        if secret := self.ctx.config.storefront_signing_secret:
            headers |= sign(body, secret, int(time.time()))
        try:
            # Read ctx.http at send time: tests and the app may swap the client.
            response = await self.ctx.http.post(url, content=body, headers=headers)
        except httpx.HTTPError as exc:
            checkout.last_error = f"{type(exc).__name__}: {exc}"
        else:
            if response.is_success:
                checkout.forwarded_at, checkout.last_error = datetime.now(UTC), None
                self.ctx.ledger.record(
                    partner="storefront",
                    kind="checkout_forwarded",
                    reference=order_id,
                    attempts=checkout.attempts,
                )
                return True
            checkout.last_error = f"HTTP {response.status_code}"
        log.warning("checkout_forward_failed", order_id=order_id, error=checkout.last_error)
        return False


def _routes(router: APIRouter, shop: Storefront) -> None:
    @router.post("/storefront/checkout", status_code=201)
    async def checkout(order: Order) -> Any:
        """A buyer completes checkout; the order is queued for Crossdock's intake."""
        if order.channel is not Channel.STOREFRONT:
            raise Refusal(
                _error(422, "invalid_channel", f"channel is {order.channel.value!r}", "channel")
            )
        order_id = order.channel_order_id
        if order_id in shop.checkouts:
            raise Refusal(_error(409, "duplicate_order", f"order {order_id!r} already exists"))
        placed = shop.checkouts[order_id] = Checkout(order, received_at=datetime.now(UTC))
        shop.ctx.ledger.record(
            partner="storefront",
            kind="checkout",
            reference=order_id,
            amount=order.order_total.amount,
            currency=order.currency,
        )
        shop.outbox.put_nowait(placed)
        return {"order_id": order_id}

    @router.get("/storefront/orders/{order_id}")
    async def retrieve(order_id: str) -> Any:
        """The shop's record of one order (what the buyer checked out, and its state)."""
        checkout = shop.checkouts.get(order_id)
        if checkout is None:
            raise Refusal(_error(404, "not_found", f"no order {order_id!r}", "order_id"))
        return checkout.summary()

    @router.get("/storefront/_sandbox/orders")
    async def list_orders() -> Any:
        """Every checkout, oldest first, with its forwarding state."""
        return {"orders": [c.summary() for c in shop.checkouts.peek()]}


def _fulfillment_routes(router: APIRouter, shop: Storefront) -> None:
    @router.post("/storefront/orders/{order_id}/fulfillments", status_code=201)
    async def fulfill(
        order_id: str,
        body: FulfillmentInput,
        request: Request,
        key: Annotated[str | None, Header(alias="Idempotency-Key")] = None,
    ) -> Response:
        """Crossdock reports that the order shipped, with carrier and tracking."""
        if order_id not in shop.checkouts:
            raise Refusal(_error(404, "not_found", f"no order {order_id!r}", "order_id"))

        async def handler() -> JSONResponse:
            if shop.checkouts[order_id].status == "cancelled":
                raise Refusal(
                    _error(400, "order_cancelled", f"order {order_id!r} is cancelled", "order_id")
                )
            shop.checkouts[order_id].shipped = True
            fulfillment = {
                "id": f"ful_{next(shop.fulfillment_ids):08d}",
                "object": "fulfillment",
                "order_id": order_id,
                **body.model_dump(mode="json"),
            }
            shop.ctx.ledger.record(
                partner="storefront",
                kind="confirmation",
                reference=order_id,
                idempotency_key=key,
                tracking_number=body.tracking_number,
                fulfillment_id=fulfillment["id"],
            )
            return JSONResponse(fulfillment, status_code=201)

        params = body.model_dump(mode="json")
        return await shop.ctx.idempotency.once(
            "storefront", request, key, params, handler, _key_reused
        )


def _cancellation_routes(router: APIRouter, shop: Storefront) -> None:
    @router.post("/storefront/orders/{order_id}/cancellations", status_code=201)
    async def cancel(
        order_id: str,
        body: CancellationInput,
        request: Request,
        key: Annotated[str | None, Header(alias="Idempotency-Key")] = None,
    ) -> Response:
        """Crossdock reports that the seller cancelled the order, or some of its lines."""
        checkout = shop.checkouts.get(order_id)
        if checkout is None:
            raise Refusal(_error(404, "not_found", f"no order {order_id!r}", "order_id"))

        async def handler() -> JSONResponse:
            skus = _cancellable(checkout, body.skus)
            new = [sku for sku in skus if sku not in checkout.cancelled]
            for sku in new:
                checkout.cancelled[sku] = body.reason
            cancellation = {
                "id": f"can_{next(shop.cancellation_ids):08d}",
                "object": "cancellation",
                "order_id": order_id,
                "reason": body.reason,
                "skus": skus,
                "status": checkout.status,
            }
            if new:  # cancelling what is already cancelled changes nothing
                shop.ctx.ledger.record(
                    partner="storefront",
                    kind="cancellation",
                    reference=order_id,
                    idempotency_key=key,
                    skus=new,
                    reason=body.reason,
                    cancellation_id=cancellation["id"],
                )
            return JSONResponse(cancellation, status_code=201)

        params = body.model_dump(mode="json")
        return await shop.ctx.idempotency.once(
            "storefront", request, key, params, handler, _key_reused
        )


def _cancellable(checkout: Checkout, skus: list[str]) -> list[str]:
    """The SKUs to cancel (every line when none are named); refused once shipped."""
    if checkout.shipped:
        order_id = checkout.order.channel_order_id
        raise Refusal(_error(400, "already_shipped", f"order {order_id!r} has shipped", "order_id"))
    known = [item.sku for item in checkout.order.items]
    for index, sku in enumerate(skus):
        if sku not in known:
            raise Refusal(
                _error(
                    422,
                    "invalid_request",
                    f"{sku!r} is not a line of this order (lines: {', '.join(known)})",
                    f"skus[{index}]",
                )
            )
    return skus or known


def _key_reused(key: str) -> JSONResponse:
    return _error(400, "idempotency_error", reused_key(key))


def _render_invalid(field_name: str, message: str) -> Response:
    return _error(422, "invalid_request", f"{field_name}: {message}", field_name)


def build(ctx: SandboxContext) -> APIRouter:
    """The storefront under /storefront, with its forwarding loop in `ctx.background`."""
    router = APIRouter(route_class=partner_route(_render_invalid), tags=["storefront"])
    shop = Storefront(ctx)
    ctx.background.append(shop.forward_all)
    _routes(router, shop)
    _fulfillment_routes(router, shop)
    _cancellation_routes(router, shop)
    return router
