"""The Amazon SP-API Orders v0 sandbox: wire shapes, pagination, confirmShipment rules."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from crossdock.models.order import Channel, Order
from crossdock.money import Money
from crossdock.sandbox.app import create_app
from crossdock.sandbox.context import SandboxContext
from tests.factories import NOW, line_item, order

AUTH = {"x-amz-access-token": "Atza|test"}
DE = "A1PA6795UKMFR9"
ORDERS = "/amazon/orders/v0/orders"


_numbers = itertools.count(1)


def amazon_order(order_id: str, **overrides: Any) -> Order:
    return order(channel=Channel.AMAZON, channel_order_id=order_id, **overrides)


@pytest.fixture(scope="module")
def app() -> FastAPI:
    """One sandbox per module (building it costs ~80 ms); tests use their own order ids."""
    return create_app()


@pytest.fixture
def order_id() -> str:
    return f"302-{next(_numbers):07d}-7654321"


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://sandbox") as http:
        yield http


async def place(client: httpx.AsyncClient, placed: Order, **params: str) -> dict[str, Any]:
    response = await client.post(
        "/amazon/_sandbox/orders", json=placed.model_dump(mode="json"), params=params
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def package(items: list[tuple[str, int]], ref: str = "1", tracking: str = "1Z999") -> Any:
    return {
        "marketplaceId": DE,
        "packageDetail": {
            "packageReferenceId": ref,
            "carrierCode": "UPS",
            "trackingNumber": tracking,
            "shipDate": "2026-11-03T10:00:00Z",
            "orderItems": [{"orderItemId": i, "quantity": q} for i, q in items],
        },
    }


class TestOrderShape:
    async def test_order_carries_the_contract_in_sp_api_names(
        self, client: httpx.AsyncClient, order_id: str
    ) -> None:
        placed = amazon_order(
            order_id,
            currency="JPY",
            items=[line_item(unit_price=Money(amount=1500, currency="JPY"), quantity=3)],
            shipping=Money(amount=800, currency="JPY"),
        )
        await place(client, placed)
        response = await client.get(f"{ORDERS}/{order_id}", headers=AUTH)
        got = response.json()["payload"]
        assert got["OrderStatus"] == "Unshipped"
        assert got["PurchaseDate"] == "2026-11-02T09:30:00Z"
        assert got["LatestShipDate"] == "2026-11-04T09:30:00Z"
        assert got["LatestDeliveryDate"] == "2026-11-12T09:30:00Z"
        assert got["OrderTotal"] == {"CurrencyCode": "JPY", "Amount": "5300"}
        assert (got["FulfillmentChannel"], got["IsPrime"], got["MarketplaceId"]) == (
            "MFN",
            False,
            DE,
        )
        assert got["ShippingAddress"]["City"] == "Lyon"
        # Restricted data: withheld without a Restricted Data Token.
        assert got["BuyerInfo"] == {}
        assert {"Name", "AddressLine1", "Phone"}.isdisjoint(got["ShippingAddress"])
        rdt = await client.post(
            "/amazon/tokens/2021-03-01/restrictedDataToken",
            json={
                "restrictedResources": [
                    {
                        "method": "GET",
                        "path": "/orders/v0/orders/{orderId}",
                        "dataElements": ["buyerInfo", "shippingAddress"],
                    }
                ]
            },
            headers=AUTH,
        )
        token = rdt.json()["restrictedDataToken"]
        opened = await client.get(f"{ORDERS}/{order_id}", headers={"x-amz-access-token": token})
        listed = await client.get(
            ORDERS,
            params={"MarketplaceIds": DE, "CreatedAfter": "2026-11-01T00:00:00Z"},
            headers={"x-amz-access-token": token},
        )
        shown = opened.json()["payload"]
        assert shown["BuyerInfo"]["BuyerEmail"] == "buyer-00001@example.com"
        assert shown["ShippingAddress"]["Name"] == placed.ship_to.name
        # the token opens the path it was issued for only, not getOrders
        assert all(o["BuyerInfo"] == {} for o in listed.json()["payload"]["Orders"])

    async def test_item_price_is_for_the_whole_quantity_and_shipping_on_the_first(
        self, client: httpx.AsyncClient, order_id: str
    ) -> None:
        items = [line_item(quantity=2), line_item(sku="TEA-MATCHA-50", quantity=1)]
        await place(client, amazon_order(order_id, items=items))
        response = await client.get(f"{ORDERS}/{order_id}/orderItems", headers=AUTH)
        first, second = response.json()["payload"]["OrderItems"]
        assert first["ItemPrice"] == {"CurrencyCode": "EUR", "Amount": "36.00"}
        assert first["ShippingPrice"] == {"CurrencyCode": "EUR", "Amount": "9.90"}
        assert "ShippingPrice" not in second
        assert (first["SellerSKU"], first["QuantityOrdered"]) == ("MUG-STONEWARE", 2)
        assert first["OrderItemId"] != second["OrderItemId"]

    async def test_the_same_order_cannot_be_placed_twice(
        self, client: httpx.AsyncClient, order_id: str
    ) -> None:
        await place(client, amazon_order(order_id))
        body = amazon_order(order_id).model_dump(mode="json")
        again = await client.post("/amazon/_sandbox/orders", json=body)
        assert again.status_code == 409
        assert again.json()["errors"][0]["code"] == "Conflict"

    async def test_unknown_order_is_404_in_sp_api_shape(self, client: httpx.AsyncClient) -> None:
        response = await client.get(f"{ORDERS}/000-0000000-0000000", headers=AUTH)
        assert response.status_code == 404
        assert response.json()["errors"][0]["code"] == "NotFound"

    async def test_access_token_is_required(self, client: httpx.AsyncClient) -> None:
        response = await client.get(f"{ORDERS}/x")
        assert response.status_code == 403
        assert response.json()["errors"][0]["code"] == "Unauthorized"


class TestGetOrders:
    async def test_pages_follow_purchase_date_with_opaque_tokens(
        self, client: httpx.AsyncClient
    ) -> None:
        market = "ATESTPAGES"  # a marketplace of its own: other tests' orders stay out
        for n in (3, 1, 4, 2, 5):  # placed out of order
            placed = amazon_order(f"302-000000{n}-0000000", placed_at=NOW + timedelta(minutes=n))
            await place(client, placed, marketplace_id=market)
        await place(client, amazon_order("302-0000009-0000000"), marketplace_id="AOTHER")
        seen: list[str] = []
        params: dict[str, Any] = {
            "MarketplaceIds": market,
            "CreatedAfter": "2026-11-02T09:32:00Z",
            "MaxResultsPerPage": 2,
        }
        while True:
            payload = (await client.get(ORDERS, params=params, headers=AUTH)).json()["payload"]
            seen += [o["AmazonOrderId"] for o in payload["Orders"]]
            if "NextToken" not in payload:
                break
            # An order indexed late, behind the cursor, must not shift or repeat a page.
            late = amazon_order(
                f"302-10000{len(seen)}-0000000", placed_at=NOW + timedelta(minutes=2, seconds=30)
            )
            await place(client, late, marketplace_id=market)
            params = {"MarketplaceIds": market, "NextToken": payload["NextToken"]}
        assert seen == [f"302-000000{n}-0000000" for n in (2, 3, 4, 5)]

    @pytest.mark.parametrize(
        ("params", "named"),
        [
            ({"MarketplaceIds": DE}, "CreatedAfter"),
            ({"CreatedAfter": "2026-01-01T00:00:00Z"}, "MarketplaceIds"),
            ({"MarketplaceIds": DE, "CreatedAfter": "yesterday"}, "CreatedAfter"),
            ({"MarketplaceIds": DE, "NextToken": "garbage"}, "NextToken"),
            (
                {"MarketplaceIds": DE, "CreatedAfter": "2026-01-01", "MaxResultsPerPage": 101},
                "MaxResultsPerPage",
            ),
        ],
    )
    async def test_bad_parameters_are_named(
        self, client: httpx.AsyncClient, params: dict[str, Any], named: str
    ) -> None:
        response = await client.get(ORDERS, params=params, headers=AUTH)
        assert response.status_code == 400
        error = response.json()["errors"][0]
        assert error["code"] == "InvalidInput"
        assert named in error["message"]


class TestOrderItemsPagination:
    async def test_items_come_in_pages(self, client: httpx.AsyncClient, order_id: str) -> None:
        items = [line_item(sku=f"SKU-{n:02d}") for n in range(23)]
        await place(client, amazon_order(order_id, items=items))
        url = f"{ORDERS}/{order_id}/orderItems"
        first = (await client.get(url, headers=AUTH)).json()["payload"]
        assert len(first["OrderItems"]) == 10 and first["NextToken"]
        second = await client.get(url, params={"NextToken": first["NextToken"]}, headers=AUTH)
        assert second.json()["payload"]["OrderItems"][0]["SellerSKU"] == "SKU-10"


class Shipment:
    """One placed order (2 mugs, 1 tea) and the calls a test makes about it."""

    def __init__(self, client: httpx.AsyncClient, app: FastAPI, order_id: str) -> None:
        self.client, self.app, self.order_id = client, app, order_id

    async def place(self) -> list[str]:
        items = [line_item(quantity=2), line_item(sku="TEA", quantity=1)]
        placed = await place(self.client, amazon_order(self.order_id, items=items))
        return [item["OrderItemId"] for item in placed["OrderItems"]]

    async def confirm(self, body: Any) -> httpx.Response:
        url = f"{ORDERS}/{self.order_id}/shipmentConfirmation"
        return await self.client.post(url, json=body, headers=AUTH)

    async def status(self) -> str:
        response = await self.client.get(f"{ORDERS}/{self.order_id}", headers=AUTH)
        return str(response.json()["payload"]["OrderStatus"])

    def confirmations(self) -> list[Any]:
        ctx: SandboxContext = self.app.state.sandbox
        return ctx.ledger.entries(partner="amazon", kind="confirmation", reference=self.order_id)


@pytest.fixture
def shipment(client: httpx.AsyncClient, app: FastAPI, order_id: str) -> Shipment:
    return Shipment(client, app, order_id)


class TestConfirmShipment:
    async def test_partial_then_full_shipment(self, shipment: Shipment) -> None:
        mug, tea = await shipment.place()
        assert (await shipment.confirm(package([(mug, 1)]))).status_code == 204
        assert await shipment.status() == "PartiallyShipped"
        second = package([(mug, 1), (tea, 1)], ref="2", tracking="1Z2")
        assert (await shipment.confirm(second)).status_code == 204
        assert await shipment.status() == "Shipped"
        recorded = [
            (e.details["package"], e.details["tracking_number"]) for e in shipment.confirmations()
        ]
        assert recorded == [("1", "1Z999"), ("2", "1Z2")]

    async def test_repeating_a_package_is_accepted_once(self, shipment: Shipment) -> None:
        mug, _ = await shipment.place()
        for _ in range(3):
            assert (await shipment.confirm(package([(mug, 2)]))).status_code == 204
        assert len(shipment.confirmations()) == 1

    async def test_same_package_with_other_content_is_refused(self, shipment: Shipment) -> None:
        mug, _ = await shipment.place()
        await shipment.confirm(package([(mug, 1)]))
        response = await shipment.confirm(package([(mug, 1)], tracking="OTHER"))
        assert response.status_code == 400
        assert "packageReferenceId 1" in response.json()["errors"][0]["message"]
        assert len(shipment.confirmations()) == 1

    @pytest.mark.parametrize(
        ("items", "named"),
        [
            ([("12345678901234", 1)], "orderItems[0].orderItemId"),
            ([("MUG", 3)], "orderItems[0].quantity 3"),
            ([("MUG", 1), ("MUG", 1)], "more than once"),
        ],
    )
    async def test_unknown_items_and_excess_quantities_are_refused(
        self, shipment: Shipment, items: list[tuple[str, int]], named: str
    ) -> None:
        mug, _ = await shipment.place()
        resolved = [(mug if i == "MUG" else i, q) for i, q in items]
        response = await shipment.confirm(package(resolved))
        assert response.status_code == 400
        assert named in response.json()["errors"][0]["message"]
        assert shipment.confirmations() == []
        assert await shipment.status() == "Unshipped"

    async def test_missing_field_is_named(self, shipment: Shipment) -> None:
        mug, _ = await shipment.place()
        body = package([(mug, 1)])
        del body["packageDetail"]["trackingNumber"]
        response = await shipment.confirm(body)
        assert response.status_code == 400
        assert "packageDetail.trackingNumber" in response.json()["errors"][0]["message"]

    async def test_canceled_order_cannot_ship(self, shipment: Shipment) -> None:
        mug, _ = await shipment.place()
        cancel = await shipment.client.post(f"/amazon/_sandbox/orders/{shipment.order_id}/cancel")
        assert cancel.json()["OrderStatus"] == "Canceled"
        assert (await shipment.confirm(package([(mug, 1)]))).status_code == 400
