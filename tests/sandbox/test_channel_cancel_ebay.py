"""eBay sandbox: the seller cancels a whole order (Post-Order Create Cancellation) or
refunds some lines (Fulfillment issueRefund), in eBay's shapes, each effect ledgered once."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from crossdock.models.order import Channel
from crossdock.sandbox.app import create_app
from crossdock.sandbox.context import SandboxContext
from tests.factories import line_item, order

POST_ORDER = "/ebay/post-order/v2/cancellation"
FULFILLMENT = "/ebay/sell/fulfillment/v1"
IAF = {"Authorization": "IAF v^1.1#test"}
BEARER = {"Authorization": "Bearer v^1.1#test"}
_numbers = itertools.count(1)


@pytest.fixture(scope="module")
def app() -> FastAPI:
    return create_app()


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://sandbox") as http:
        yield http


async def place(client: httpx.AsyncClient) -> tuple[str, list[str]]:
    """A two-line eBay order (EUR 36.00 + 18.00, shipping 9.90): (orderId, lineItemIds)."""
    placed = order(
        channel=Channel.EBAY,
        channel_order_id=f"15-{next(_numbers):05d}-88888",
        items=[
            line_item(),
            line_item(sku="TEE-ORGANIC-M", title="T-shirt", quantity=1),
        ],
    )
    response = await client.post("/ebay/_sandbox/orders", json=placed.model_dump(mode="json"))
    return placed.channel_order_id, [line["lineItemId"] for line in response.json()["lineItems"]]


async def get_order(client: httpx.AsyncClient, order_id: str) -> dict[str, Any]:
    response = await client.get(f"{FULFILLMENT}/order/{order_id}", headers=BEARER)
    return dict(response.json())


def entries(app: FastAPI, kind: str) -> list[Any]:
    ctx: SandboxContext = app.state.sandbox
    return ctx.ledger.entries(partner="ebay", kind=kind)


def seller_cancel(order_id: str, reason: str = "OUT_OF_STOCK_OR_CANNOT_FULFILL") -> dict[str, Any]:
    return {
        "legacyOrderId": order_id,
        "cancelReason": reason,
        "buyerPaid": True,
        "buyerPaidDate": {"value": "2026-01-01T00:00:00.000Z"},
    }


class TestSellerCancellation:
    async def test_the_order_is_cancelled_and_refunded_at_once(
        self, app: FastAPI, client: httpx.AsyncClient
    ) -> None:
        order_id, _ = await place(client)
        before = len(entries(app, "seller_cancellation"))

        created = await client.post(POST_ORDER, json=seller_cancel(order_id), headers=IAF)
        again = await client.post(POST_ORDER, json=seller_cancel(order_id), headers=IAF)

        assert created.status_code == 201
        cancel_id = created.json()["cancelId"]
        assert again.status_code == 400
        assert (
            f"Order {order_id} is already canceled"
            in again.json()["errorMessage"]["error"][0]["message"]
        )
        assert len(entries(app, "seller_cancellation")) == before + 1
        ebay = await get_order(client, order_id)
        assert ebay["cancelStatus"]["cancelState"] == "CANCELED"
        assert ebay["orderPaymentStatus"] == "FULLY_REFUNDED"
        [request] = ebay["cancelStatus"]["cancelRequests"]
        assert request["cancelInitiator"] == "Seller"
        found = await client.get(
            f"{POST_ORDER}/search", params={"legacy_order_id": order_id}, headers=IAF
        )
        [summary] = found.json()["cancellations"]
        assert (summary["cancelId"], summary["requestorType"]) == (cancel_id, "SELLER")
        assert (summary["cancelState"], summary["cancelStatus"]) == (
            "CLOSED",
            "CANCEL_CLOSED_WITH_REFUND",
        )

    async def test_a_buyers_reason_is_refused_by_name(self, client: httpx.AsyncClient) -> None:
        order_id, _ = await place(client)
        response = await client.post(
            POST_ORDER, json=seller_cancel(order_id, "ORDER_MISTAKE"), headers=IAF
        )
        assert response.status_code == 400
        [error] = response.json()["errorMessage"]["error"]
        assert error["parameter"] == [{"name": "cancelReason", "value": "ORDER_MISTAKE"}]

    async def test_a_waiting_buyer_request_must_be_answered_instead(
        self, client: httpx.AsyncClient
    ) -> None:
        order_id, _ = await place(client)
        asked = await client.post(
            f"/ebay/_sandbox/orders/{order_id}/buyer-cancel", json={"reason": "ORDER_MISTAKE"}
        )
        response = await client.post(POST_ORDER, json=seller_cancel(order_id), headers=IAF)
        assert response.status_code == 400
        [error] = response.json()["errorMessage"]["error"]
        assert error["parameter"] == [{"name": "cancelId", "value": asked.json()["cancelId"]}]

    async def test_a_shipped_order_cannot_be_cancelled(self, client: httpx.AsyncClient) -> None:
        order_id, lines = await place(client)
        await client.post(
            f"{FULFILLMENT}/order/{order_id}/shipping_fulfillment",
            headers=BEARER,
            json={
                "lineItems": [{"lineItemId": lines[0]}],
                "shippingCarrierCode": "DHL",
                "trackingNumber": "TRK123",
            },
        )
        response = await client.post(POST_ORDER, json=seller_cancel(order_id), headers=IAF)
        assert response.status_code == 400
        assert "has shipped" in response.json()["errorMessage"]["error"][0]["message"]

    async def test_an_unknown_order_is_not_found(self, client: httpx.AsyncClient) -> None:
        response = await client.post(POST_ORDER, json=seller_cancel("00-00000-00000"), headers=IAF)
        assert response.status_code == 404


class TestIssueRefund:
    async def test_a_line_refund_is_issued_once_per_comment(
        self, app: FastAPI, client: httpx.AsyncClient
    ) -> None:
        order_id, lines = await place(client)
        body = {
            "reasonForRefund": "SELLER_CANCEL",
            "comment": f"order-ebay-{order_id}/cancel-lines",
            "refundItems": [
                {"lineItemId": lines[1], "refundAmount": {"value": "18.00", "currency": "EUR"}}
            ],
        }
        url = f"{FULFILLMENT}/order/{order_id}/issue_refund"
        before = len(entries(app, "refund"))

        first = await client.post(url, json=body, headers=BEARER)
        retried = await client.post(url, json=body, headers=BEARER)

        assert first.status_code == 200 and first.json()["refundStatus"] == "PENDING"
        assert retried.json() == first.json()
        assert len(entries(app, "refund")) == before + 1
        ebay = await get_order(client, order_id)
        assert ebay["orderPaymentStatus"] == "PARTIALLY_REFUNDED"
        [refund] = ebay["paymentSummary"]["refunds"]
        assert (refund["refundId"], refund["refundStatus"]) == (
            first.json()["refundId"],
            "REFUNDED",
        )
        assert refund["amount"] == {"value": "18.00", "currency": "EUR"}
        assert ebay["lineItems"][0]["refunds"] == []
        assert ebay["lineItems"][1]["refunds"][0]["amount"]["value"] == "18.00"

    @pytest.mark.parametrize(
        ("item", "parameter"),
        [
            ({"value": "18.01", "currency": "EUR"}, "refundItems[0].refundAmount.value"),
            ({"value": "5.00", "currency": "USD"}, "refundItems[0].refundAmount.currency"),
        ],
    )
    async def test_refunds_beyond_the_line_are_refused_by_field(
        self, client: httpx.AsyncClient, item: dict[str, str], parameter: str
    ) -> None:
        order_id, lines = await place(client)
        body = {
            "reasonForRefund": "SELLER_CANCEL",
            "refundItems": [{"lineItemId": lines[1], "refundAmount": item}],
        }
        response = await client.post(
            f"{FULFILLMENT}/order/{order_id}/issue_refund", json=body, headers=BEARER
        )
        assert response.status_code == 400
        assert response.json()["errors"][0]["parameters"][0]["name"] == parameter

    async def test_a_comment_reused_with_other_amounts_is_refused(
        self, client: httpx.AsyncClient
    ) -> None:
        order_id, lines = await place(client)
        url = f"{FULFILLMENT}/order/{order_id}/issue_refund"

        def body(value: str) -> dict[str, Any]:
            amount = {"value": value, "currency": "EUR"}
            return {
                "reasonForRefund": "SELLER_CANCEL",
                "comment": "same",
                "refundItems": [{"lineItemId": lines[0], "refundAmount": amount}],
            }

        await client.post(url, json=body("10.00"), headers=BEARER)
        response = await client.post(url, json=body("11.00"), headers=BEARER)
        assert response.status_code == 400
        assert response.json()["errors"][0]["parameters"][0]["name"] == "comment"
