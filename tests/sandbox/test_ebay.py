"""The eBay Sell Fulfillment sandbox: order shape, filters and paging, shipping fulfillments."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from crossdock.models.order import Channel, Order
from crossdock.sandbox.app import create_app
from crossdock.sandbox.context import SandboxContext
from tests.factories import NOW, line_item, order

AUTH = {"Authorization": "Bearer v^1.1#test"}
API = "/ebay/sell/fulfillment/v1"
_numbers = itertools.count(1)


def ebay_order(order_id: str, **overrides: Any) -> Order:
    return order(channel=Channel.EBAY, channel_order_id=order_id, **overrides)


@pytest.fixture(scope="module")
def app() -> FastAPI:
    """One sandbox per module (building it costs ~80 ms); tests use their own order ids."""
    return create_app()


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://sandbox") as http:
        yield http


@pytest.fixture
def order_id() -> str:
    return f"12-{next(_numbers):05d}-89012"


async def place(client: httpx.AsyncClient, placed: Order) -> dict[str, Any]:
    response = await client.post("/ebay/_sandbox/orders", json=placed.model_dump(mode="json"))
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


class TestOrderShape:
    async def test_order_in_fulfillment_api_names(
        self, client: httpx.AsyncClient, order_id: str
    ) -> None:
        await place(client, ebay_order(order_id))
        got = (await client.get(f"{API}/order/{order_id}", headers=AUTH)).json()
        assert got["creationDate"] == "2026-11-02T09:30:00.000Z"
        assert (got["orderFulfillmentStatus"], got["orderPaymentStatus"]) == (
            "NOT_STARTED",
            "PAID",
        )
        assert got["pricingSummary"] == {
            "priceSubtotal": {"value": "36.00", "currency": "EUR"},
            "deliveryCost": {"value": "9.90", "currency": "EUR"},
            "total": {"value": "45.90", "currency": "EUR"},
        }
        instruction = got["fulfillmentStartInstructions"][0]
        assert instruction["fulfillmentInstructionsType"] == "SHIP_TO"
        ship_to = instruction["shippingStep"]["shipTo"]
        assert ship_to["contactAddress"]["city"] == "Lyon"
        assert ship_to["email"] == "buyer-00001@example.com"
        line = got["lineItems"][0]
        assert (line["sku"], line["quantity"], line["lineItemCost"]["value"]) == (
            "MUG-STONEWARE",
            2,
            "36.00",
        )
        assert line["lineItemFulfillmentInstructions"]["shipByDate"] == "2026-11-04T09:30:00.000Z"

    async def test_bearer_token_is_required(self, client: httpx.AsyncClient) -> None:
        response = await client.get(f"{API}/order")
        assert response.status_code == 401
        assert response.json()["errors"][0]["errorId"] == 1001

    async def test_unknown_order(self, client: httpx.AsyncClient) -> None:
        response = await client.get(f"{API}/order/00-00000-00000", headers=AUTH)
        assert response.status_code == 404
        assert response.json()["errors"][0]["errorId"] == 32100


class TestGetOrders:
    async def test_creationdate_filter_and_offset_paging(self, client: httpx.AsyncClient) -> None:
        # Far in the future so other tests' orders stay out of the window.
        start = NOW + timedelta(days=400)
        ids = [f"13-{n:05d}-00000" for n in range(5)]
        for n in (3, 0, 4, 1, 2):
            await place(client, ebay_order(ids[n], placed_at=start + timedelta(minutes=n)))
        window = "creationdate:[2027-12-07T09:31:00.000Z..2027-12-07T09:33:00.000Z]"
        first = await client.get(
            f"{API}/order", params={"filter": window, "limit": 2}, headers=AUTH
        )
        page = first.json()
        assert (page["total"], page["limit"], page["offset"]) == (3, 2, 0)
        assert [o["orderId"] for o in page["orders"]] == ids[1:3]
        second = await client.get(page["next"], headers=AUTH)
        assert [o["orderId"] for o in second.json()["orders"]] == ids[3:4]
        assert "next" not in second.json()

    async def test_fulfillment_status_filter(
        self, client: httpx.AsyncClient, order_id: str
    ) -> None:
        placed = await place(client, ebay_order(order_id, placed_at=NOW + timedelta(days=800)))
        line = placed["lineItems"][0]["lineItemId"]
        await client.post(
            f"{API}/order/{order_id}/shipping_fulfillment",
            json={
                "lineItems": [{"lineItemId": line}],
                "shippingCarrierCode": "DHL",
                "trackingNumber": f"T{order_id.replace('-', '')}",
            },
            headers=AUTH,
        )
        params = {
            "filter": "creationdate:[2029-01-10T00:00:00.000Z..],"
            "orderfulfillmentstatus:{NOT_STARTED|IN_PROGRESS}"
        }
        open_orders = (await client.get(f"{API}/order", params=params, headers=AUTH)).json()
        assert open_orders["total"] == 0
        params["filter"] = params["filter"].replace("NOT_STARTED", "FULFILLED")
        done = (await client.get(f"{API}/order", params=params, headers=AUTH)).json()
        assert [o["orderId"] for o in done["orders"]] == [order_id]

    @pytest.mark.parametrize(
        ("params", "error_id"),
        [
            ({"filter": "price:[1..2]"}, 30700),
            ({"filter": "creationdate:2026-01-01"}, 30800),
            ({"filter": "creationdate:[yesterday..]"}, 30810),
            ({"filter": "creationdate:[..2026-01-01T00:00:00.000Z]"}, 30820),
            (
                {"filter": "creationdate:[2026-02-01T00:00:00.000Z..2026-01-01T00:00:00.000Z]"},
                30840,
            ),
            ({"filter": "orderfulfillmentstatus:{SHIPPED}"}, 30800),
            ({"limit": "201"}, 31100),
            ({"offset": "-1"}, 31000),
        ],
    )
    async def test_bad_queries_get_ebay_errors(
        self, client: httpx.AsyncClient, params: dict[str, str], error_id: int
    ) -> None:
        response = await client.get(f"{API}/order", params=params, headers=AUTH)
        assert response.status_code == 400
        error = response.json()["errors"][0]
        assert (error["errorId"], error["domain"]) == (error_id, "API_FULFILLMENT")


class Fulfillments:
    """One placed order (2 mugs, 1 tea) and the calls a test makes about it."""

    def __init__(self, client: httpx.AsyncClient, app: FastAPI, order_id: str) -> None:
        self.client, self.app, self.order_id = client, app, order_id

    async def place(self) -> list[str]:
        items = [line_item(quantity=2), line_item(sku="TEA", quantity=1)]
        placed = await place(self.client, ebay_order(self.order_id, items=items))
        return [line["lineItemId"] for line in placed["lineItems"]]

    async def create(
        self, lines: list[tuple[str, int]], tracking: str = "JD014600"
    ) -> httpx.Response:
        body = {
            "lineItems": [{"lineItemId": i, "quantity": q} for i, q in lines],
            "shippedDate": "2026-11-03T10:00:00.000Z",
            "shippingCarrierCode": "DHL",
            "trackingNumber": tracking,
        }
        url = f"{API}/order/{self.order_id}/shipping_fulfillment"
        return await self.client.post(url, json=body, headers=AUTH)

    async def status(self) -> str:
        response = await self.client.get(f"{API}/order/{self.order_id}", headers=AUTH)
        return str(response.json()["orderFulfillmentStatus"])

    def confirmations(self) -> list[Any]:
        ctx: SandboxContext = self.app.state.sandbox
        return ctx.ledger.entries(partner="ebay", kind="confirmation", reference=self.order_id)


@pytest.fixture
def fulfillments(client: httpx.AsyncClient, app: FastAPI, order_id: str) -> Fulfillments:
    return Fulfillments(client, app, order_id)


class TestShippingFulfillment:
    async def test_created_with_location_and_readable(self, fulfillments: Fulfillments) -> None:
        mug, tea = await fulfillments.place()
        response = await fulfillments.create([(mug, 2)])
        assert response.status_code == 201
        assert response.content == b""
        location = response.headers["Location"]
        assert location.endswith(f"/order/{fulfillments.order_id}/shipping_fulfillment/JD014600")
        got = (await fulfillments.client.get(location, headers=AUTH)).json()
        assert got["shipmentTrackingNumber"] == "JD014600"
        assert got["lineItems"] == [{"lineItemId": mug, "quantity": 2}]
        assert await fulfillments.status() == "IN_PROGRESS"
        await fulfillments.create([(tea, 1)], tracking="JD014601")
        assert await fulfillments.status() == "FULFILLED"

    async def test_repeat_returns_the_same_location_once_in_the_ledger(
        self, fulfillments: Fulfillments
    ) -> None:
        mug, _ = await fulfillments.place()
        first = await fulfillments.create([(mug, 2)])
        again = await fulfillments.create([(mug, 2)])
        assert again.status_code == 201
        assert again.headers["Location"] == first.headers["Location"]
        assert len(fulfillments.confirmations()) == 1

    async def test_same_tracking_other_lines_is_refused(self, fulfillments: Fulfillments) -> None:
        mug, tea = await fulfillments.place()
        await fulfillments.create([(mug, 1)])
        response = await fulfillments.create([(mug, 1), (tea, 1)])
        assert response.status_code == 400
        assert response.json()["errors"][0]["errorId"] == 34500
        assert len(fulfillments.confirmations()) == 1

    @pytest.mark.parametrize(
        ("lines", "tracking", "error_id"),
        [
            ([("99999999999999", 1)], "JD1", 32200),
            ([("MUG", 3)], "JD1", 32600),
            ([("MUG", 1), ("MUG", 1)], "JD1", 32210),
            ([("MUG", 1)], "JD 1/2", 32300),
        ],
    )
    async def test_invalid_fulfillments_are_refused(
        self,
        fulfillments: Fulfillments,
        lines: list[tuple[str, int]],
        tracking: str,
        error_id: int,
    ) -> None:
        mug, _ = await fulfillments.place()
        resolved = [(mug if i == "MUG" else i, q) for i, q in lines]
        response = await fulfillments.create(resolved, tracking=tracking)
        assert response.status_code == 400
        assert response.json()["errors"][0]["errorId"] == error_id
        assert fulfillments.confirmations() == []
        assert await fulfillments.status() == "NOT_STARTED"
