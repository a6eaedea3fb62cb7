"""The storefront sandbox signs each checkout it forwards, and serves its record of an
order to whoever re-reads it (intake), as `crossdock.partners.storefront` reads it."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from crossdock.models.order import Order
from crossdock.partners.storefront import StorefrontClient
from crossdock.sandbox.app import create_app
from crossdock.sandbox.context import SandboxConfig
from crossdock.sandbox.storefront import SIGNATURE_HEADER
from starter.stripe_signature import verify
from tests.factories import order

SECRET = "storefront-sandbox-test-secret"


Deliveries = list[tuple[bytes, str | None]]


@pytest.fixture
async def received() -> AsyncIterator[tuple[Deliveries, FastAPI, asyncio.Event]]:
    deliveries: Deliveries = []
    arrived = asyncio.Event()
    intake = FastAPI()

    @intake.post("/checkout")
    async def checkout(request: Request) -> JSONResponse:
        deliveries.append((await request.body(), request.headers.get(SIGNATURE_HEADER)))
        arrived.set()
        return JSONResponse({}, status_code=202)

    config = SandboxConfig(storefront_checkout_url="http://intake/checkout")
    app = create_app(config.model_copy(update={"storefront_signing_secret": SECRET}))
    app.state.sandbox.http = httpx.AsyncClient(transport=httpx.ASGITransport(app=intake))
    async with app.router.lifespan_context(app):
        yield deliveries, app, arrived


async def test_forwarded_checkouts_are_signed_over_their_raw_body(
    received: tuple[Deliveries, FastAPI, asyncio.Event],
) -> None:
    deliveries, app, arrived = received
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://sandbox") as client:
        placed = order(channel_order_id="SF18100001")
        await client.post("/storefront/checkout", json=placed.model_dump(mode="json"))
        await asyncio.wait_for(arrived.wait(), timeout=5)
    [(body, header)] = deliveries
    signed = verify(body, header, SECRET, time.time(), name=SIGNATURE_HEADER)
    assert abs(signed.timestamp - time.time()) < 5
    assert Order.model_validate_json(body) == placed


async def test_the_shops_record_is_read_back_and_unknown_orders_are_none(
    received: tuple[Deliveries, FastAPI, asyncio.Event],
) -> None:
    _, app, _ = received
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://sandbox") as http:
        placed = order(channel_order_id="SF18100002")
        await http.post("/storefront/checkout", json=placed.model_dump(mode="json"))
        shop = StorefrontClient("http://sandbox/storefront", http=http)
        record = await shop.retrieve_order("SF18100002")
        assert record is not None and record.order == placed and record.status == "open"
        assert await shop.retrieve_order("SF-NEVER-PLACED") is None
        missing = await http.get("/storefront/orders/SF-NEVER-PLACED")
    assert missing.status_code == 404 and missing.json()["error"]["field"] == "order_id"
