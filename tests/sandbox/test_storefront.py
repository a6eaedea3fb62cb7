"""The storefront sandbox: checkout, at-least-once forwarding to intake, fulfillments."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from crossdock.models.order import Channel
from crossdock.sandbox.app import create_app
from crossdock.sandbox.context import SandboxConfig, SandboxContext
from tests.factories import order
from tests.servers import serve


class Intake:
    """A stand-in for Crossdock's intake that fails its first `failures` requests."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.received: list[dict[str, Any]] = []
        self.server = FastAPI()
        self.server.post("/intake/storefront/checkout")(self.checkout)

    async def checkout(self, request: Request) -> JSONResponse:
        self.received.append(await request.json())
        if len(self.received) <= self.failures:
            return JSONResponse({"error": "warming up"}, status_code=503)
        return JSONResponse({"status": "accepted"}, status_code=202)


@pytest.fixture(scope="module")
def intake() -> Iterator[tuple[Intake, str]]:
    receiver = Intake(failures=2)
    with serve(receiver.server) as url:
        yield receiver, f"{url}/intake/storefront/checkout"


@contextlib.asynccontextmanager
async def running(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    # The app's lifespan starts the background sender, as `make run` does.
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://sandbox") as client:
            yield client


def ledger(app: FastAPI, kind: str) -> list[Any]:
    ctx: SandboxContext = app.state.sandbox
    return ctx.ledger.entries(partner="storefront", kind=kind)


async def eventually_forwarded(client: httpx.AsyncClient) -> dict[str, Any]:
    async with asyncio.timeout(5):
        while True:
            orders = (await client.get("/storefront/_sandbox/orders")).json()["orders"]
            if orders and orders[0]["forwarded"]:
                found: dict[str, Any] = orders[0]
                return found
            await asyncio.sleep(0.05)


def checkout_body(order_id: str = "SF20000001") -> dict[str, Any]:
    return order(channel_order_id=order_id).model_dump(mode="json")


async def test_forwarding_retries_until_intake_accepts(intake: tuple[Intake, str]) -> None:
    receiver, url = intake
    app = create_app(SandboxConfig(storefront_checkout_url=url))
    async with running(app) as client:
        response = await client.post("/storefront/checkout", json=checkout_body())
        assert (response.status_code, response.json()) == (201, {"order_id": "SF20000001"})
        forwarded = await eventually_forwarded(client)
    assert forwarded["attempts"] == 3
    assert len(receiver.received) == 3
    assert receiver.received[-1] == checkout_body()
    assert [e.reference for e in ledger(app, "checkout_forwarded")] == ["SF20000001"]


async def test_checkout_never_waits_for_intake() -> None:
    app = create_app(SandboxConfig(storefront_checkout_url="http://intake.test/checkout"))
    stuck = asyncio.Event()

    async def hanging(request: httpx.Request) -> httpx.Response:
        await stuck.wait()
        return httpx.Response(200)

    app.state.sandbox.http = httpx.AsyncClient(transport=httpx.MockTransport(hanging))
    async with running(app) as client:
        # Intake never answers: a checkout that waited for it would never return. The
        # bound is for a hang, not for speed (a loaded machine may take seconds).
        checkout = client.post("/storefront/checkout", json=checkout_body())
        response = await asyncio.wait_for(checkout, timeout=15)
        assert response.status_code == 201
        assert not stuck.is_set()
        orders = (await client.get("/storefront/_sandbox/orders")).json()["orders"]
        assert orders[0]["forwarded"] is False


@pytest.fixture
def app() -> FastAPI:
    return create_app()


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with running(app) as client:
        yield client


class TestCheckout:
    async def test_checkout_is_recorded_with_its_total(
        self, client: httpx.AsyncClient, app: FastAPI
    ) -> None:
        await client.post("/storefront/checkout", json=checkout_body())
        (entry,) = ledger(app, "checkout")
        assert (entry.reference, entry.amount, entry.currency) == ("SF20000001", 4590, "EUR")

    async def test_duplicate_order_id_is_a_conflict(
        self, client: httpx.AsyncClient, app: FastAPI
    ) -> None:
        await client.post("/storefront/checkout", json=checkout_body())
        again = await client.post("/storefront/checkout", json=checkout_body())
        assert again.status_code == 409
        assert len(ledger(app, "checkout")) == 1

    async def test_marketplace_orders_are_refused(self, client: httpx.AsyncClient) -> None:
        body = order(channel=Channel.EBAY, channel_order_id="12-1-1").model_dump(mode="json")
        response = await client.post("/storefront/checkout", json=body)
        assert (response.status_code, response.json()["error"]["field"]) == (422, "channel")

    async def test_invalid_order_names_the_field(self, client: httpx.AsyncClient) -> None:
        body = checkout_body()
        body["items"][0]["quantity"] = 0
        response = await client.post("/storefront/checkout", json=body)
        assert response.status_code == 422
        assert response.json()["error"]["field"] == "items[0].quantity"

    async def test_fulfillment_is_idempotent_per_key(
        self, client: httpx.AsyncClient, app: FastAPI
    ) -> None:
        await client.post("/storefront/checkout", json=checkout_body())
        shipped = {
            "tracking_number": "EZ1000",
            "carrier": "DHL",
            "shipped_at": "2026-11-03T10:00:00Z",
        }
        url = "/storefront/orders/SF20000001/fulfillments"
        key = {"Idempotency-Key": "order-storefront-SF20000001-confirm"}
        first = await client.post(url, json=shipped, headers=key)
        again = await client.post(url, json=shipped, headers=key)
        assert first.status_code == again.status_code == 201
        assert first.json()["id"] == again.json()["id"]
        assert len(ledger(app, "confirmation")) == 1
        other = await client.post(url, json={**shipped, "tracking_number": "EZ2"}, headers=key)
        assert other.status_code == 400

    async def test_fulfillment_of_unknown_order(self, client: httpx.AsyncClient) -> None:
        shipped = {"tracking_number": "EZ1", "carrier": "DHL", "shipped_at": "2026-11-03T10:00:00Z"}
        response = await client.post("/storefront/orders/SF0/fulfillments", json=shipped)
        assert response.status_code == 404
