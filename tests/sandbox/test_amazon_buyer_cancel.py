"""Amazon sandbox: a buyer's cancellation request (BuyerRequestedCancel on the items, a new
LastUpdateDate) and getOrders by last update, as SP-API Orders v0 has them."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from crossdock.models.order import Channel, Order
from crossdock.sandbox.app import create_app
from tests.factories import order

AUTH = {"x-amz-access-token": "Atza|test"}
ORDERS = "/amazon/orders/v0/orders"
ADMIN = "/amazon/_sandbox/orders"
_numbers = itertools.count(1)


@pytest.fixture(scope="module")
def app() -> FastAPI:
    return create_app()


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://sandbox") as http:
        yield http


def amazon_order() -> Order:
    return order(channel=Channel.AMAZON, channel_order_id=f"305-{next(_numbers):07d}-1111111")


async def place(client: httpx.AsyncClient, placed: Order, market: str) -> str:
    body = placed.model_dump(mode="json")
    response = await client.post(ADMIN, json=body, params={"marketplace_id": market})
    assert response.status_code == 201, response.text
    return placed.channel_order_id


async def ask_to_cancel(client: httpx.AsyncClient, order_id: str, reason: str) -> httpx.Response:
    return await client.post(f"{ADMIN}/{order_id}/buyer-cancel", json={"reason": reason})


async def listed(client: httpx.AsyncClient, **params: Any) -> dict[str, Any]:
    response = await client.get(ORDERS, params=params, headers=AUTH)
    assert response.status_code == 200, response.text
    payload: dict[str, Any] = response.json()["payload"]
    return payload


class TestBuyerRequest:
    async def test_items_carry_the_request_and_the_order_is_updated(
        self, client: httpx.AsyncClient
    ) -> None:
        order_id = await place(client, amazon_order(), "ACANCEL1")
        before = (await client.get(f"{ORDERS}/{order_id}", headers=AUTH)).json()["payload"]
        asked = await ask_to_cancel(client, order_id, "Found cheaper somewhere else.")
        assert asked.status_code == 200, asked.text
        items = (await client.get(f"{ORDERS}/{order_id}/orderItems", headers=AUTH)).json()
        assert [i["BuyerRequestedCancel"] for i in items["payload"]["OrderItems"]] == [
            {"IsBuyerRequestedCancel": "true", "BuyerCancelReason": "Found cheaper somewhere else."}
        ]
        after = (await client.get(f"{ORDERS}/{order_id}", headers=AUTH)).json()["payload"]
        assert after["LastUpdateDate"] >= before["LastUpdateDate"]
        assert after["OrderStatus"] == "Unshipped"  # the seller decides; nothing cancelled yet

    async def test_asking_again_changes_nothing(self, client: httpx.AsyncClient) -> None:
        order_id = await place(client, amazon_order(), "ACANCEL1")
        first = (await ask_to_cancel(client, order_id, "Ordered by mistake")).json()
        again = (await ask_to_cancel(client, order_id, "Another reason")).json()
        assert again["LastUpdateDate"] == first["LastUpdateDate"]
        assert again["OrderItems"][0]["BuyerRequestedCancel"]["BuyerCancelReason"] == (
            "Ordered by mistake"
        )

    async def test_items_without_a_request_carry_no_flag(self, client: httpx.AsyncClient) -> None:
        order_id = await place(client, amazon_order(), "ACANCEL1")
        items = (await client.get(f"{ORDERS}/{order_id}/orderItems", headers=AUTH)).json()
        assert "BuyerRequestedCancel" not in items["payload"]["OrderItems"][0]

    async def test_a_canceled_order_takes_no_request(self, client: httpx.AsyncClient) -> None:
        order_id = await place(client, amazon_order(), "ACANCEL1")
        await client.post(f"{ADMIN}/{order_id}/cancel")
        refused = await ask_to_cancel(client, order_id, "too late")
        assert refused.status_code == 400
        assert "Canceled" in refused.json()["errors"][0]["message"]

    async def test_unknown_order_and_empty_reason_are_refused(
        self, client: httpx.AsyncClient
    ) -> None:
        assert (await ask_to_cancel(client, "999-0000000-0000000", "x")).status_code == 404
        order_id = await place(client, amazon_order(), "ACANCEL1")
        empty = await ask_to_cancel(client, order_id, "")
        assert empty.status_code == 400
        assert "reason" in empty.json()["errors"][0]["message"]


class TestGetOrdersByLastUpdate:
    async def test_a_request_brings_an_older_order_into_a_later_window(
        self, client: httpx.AsyncClient
    ) -> None:
        market = "AUPDATED1"
        ids = [await place(client, amazon_order(), market) for _ in range(3)]
        # LastUpdateDate has whole seconds: let a second pass so the request stands apart.
        await asyncio.sleep(1.05)
        asked = (await ask_to_cancel(client, ids[0], "Ordered by mistake")).json()
        payload = await listed(
            client, MarketplaceIds=market, LastUpdatedAfter=asked["LastUpdateDate"]
        )
        assert [o["AmazonOrderId"] for o in payload["Orders"]] == [ids[0]]
        assert "LastUpdatedBefore" in payload and "CreatedBefore" not in payload

    async def test_pages_follow_last_update_and_statuses_filter(
        self, client: httpx.AsyncClient
    ) -> None:
        market = "AUPDATED2"
        ids = [await place(client, amazon_order(), market) for _ in range(3)]
        await client.post(f"{ADMIN}/{ids[1]}/cancel")
        seen: list[dict[str, Any]] = []
        params: dict[str, Any] = {
            "MarketplaceIds": market,
            "LastUpdatedAfter": "2026-01-01T00:00:00Z",
            "OrderStatuses": "Unshipped,PartiallyShipped",
            "MaxResultsPerPage": 1,
        }
        while True:
            payload = await listed(client, **params)
            seen += payload["Orders"]
            if "NextToken" not in payload:
                break
            params = {"MarketplaceIds": market, "NextToken": payload["NextToken"]}
        assert sorted(o["AmazonOrderId"] for o in seen) == [ids[0], ids[2]]
        keys = [(o["LastUpdateDate"], o["AmazonOrderId"]) for o in seen]
        assert keys == sorted(keys)

    @pytest.mark.parametrize(
        ("params", "named"),
        [
            (
                {"CreatedAfter": "2026-01-01T00:00:00Z", "LastUpdatedAfter": "2026-01-01"},
                "LastUpdatedAfter",
            ),
            (
                {"LastUpdatedAfter": "2026-01-01T00:00:00Z", "CreatedBefore": "2026-02-01"},
                "CreatedBefore",
            ),
            ({"LastUpdatedAfter": "soon"}, "LastUpdatedAfter"),
            (
                {"LastUpdatedAfter": "2026-02-01T00:00:00Z", "LastUpdatedBefore": "2026-01-01"},
                "LastUpdatedBefore",
            ),
            ({"LastUpdatedAfter": "2026-01-01T00:00:00Z", "OrderStatuses": "Lost"}, "Lost"),
        ],
    )
    async def test_bad_parameters_are_named(
        self, client: httpx.AsyncClient, params: dict[str, Any], named: str
    ) -> None:
        response = await client.get(
            ORDERS, params={"MarketplaceIds": "AUPDATED3", **params}, headers=AUTH
        )
        assert response.status_code == 400
        error = response.json()["errors"][0]
        assert error["code"] == "InvalidInput"
        assert named in error["message"]
