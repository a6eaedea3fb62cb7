"""The sandbox's buyer messaging in the partners' wire shapes: Amazon SP-API Messaging
(only the actions Amazon allows for the order now; others refused as Amazon refuses
them) and eBay's Message API (only to the order's buyer); both remember what was sent
and replay a send with the same Idempotency-Key."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import httpx
import pytest

from crossdock.models.order import Buyer, Channel
from crossdock.partners.amazon_messaging import AmazonMessagingClient
from crossdock.partners.ebay_messages import EbayMessagesClient
from crossdock.partners.errors import PartnerRejected
from crossdock.sandbox.app import create_app
from crossdock.sandbox.context import SandboxConfig
from tests.factories import order

MARKET = "A1PA6795UKMFR9"
TOKEN = {"x-amz-access-token": "Atza|t"}


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=create_app(SandboxConfig()))
    async with httpx.AsyncClient(transport=transport, base_url="http://sandbox") as client:
        yield client


async def amazon_order(http: httpx.AsyncClient, order_id: str) -> str:
    o = order(channel=Channel.AMAZON, channel_order_id=order_id, payment_method=None)
    assert (await http.post("/amazon/_sandbox/orders", json=o.model_dump(mode="json"))).is_success
    return order_id


async def actions(http: httpx.AsyncClient, order_id: str) -> list[str]:
    answer = await http.get(
        f"/amazon/messaging/v1/orders/{order_id}", params={"marketplaceIds": MARKET}, headers=TOKEN
    )
    assert answer.status_code == 200
    body = answer.json()
    assert [a["name"] for a in body["_embedded"]["actions"]] == [
        link["name"] for link in body["_links"]["actions"]
    ]
    return [link["name"] for link in body["_links"]["actions"]]


async def test_amazon_allows_delivery_details_only_once_the_order_shipped(
    http: httpx.AsyncClient,
) -> None:
    order_id = await amazon_order(http, "302-0000001-0000001")
    assert await actions(http, order_id) == [
        "unexpectedProblem",
        "legalDisclosure",
        "confirmOrderDetails",
    ]
    client = AmazonMessagingClient("http://sandbox/amazon", "Atza|t", MARKET, http=http)
    with pytest.raises(PartnerRejected) as refused:
        await client.send(order_id, "confirmDeliveryDetails", "Your duties", "k-1")
    assert "403" in str(refused.value) or "Unauthorized" in str(refused.value)
    await client.send(order_id, "unexpectedProblem", "Held in customs", "k-2")
    await client.send(order_id, "unexpectedProblem", "Held in customs", "k-2")  # a retry

    items = (
        await http.get(f"/amazon/orders/v0/orders/{order_id}/orderItems", headers=TOKEN)
    ).json()["payload"]["OrderItems"]
    confirmation = {
        "marketplaceId": MARKET,
        "packageDetail": {
            "packageReferenceId": "1",
            "carrierCode": "DHL",
            "trackingNumber": "EZ1",
            "shipDate": datetime.now(UTC).isoformat(),
            "orderItems": [
                {"orderItemId": i["OrderItemId"], "quantity": i["QuantityOrdered"]} for i in items
            ],
        },
    }
    shipped = await http.post(
        f"/amazon/orders/v0/orders/{order_id}/shipmentConfirmation",
        json=confirmation,
        headers=TOKEN,
    )
    assert shipped.status_code == 204, shipped.text
    assert "confirmDeliveryDetails" in await client.allowed_actions(order_id)
    await client.send(order_id, "confirmDeliveryDetails", "Your duties", "k-3")
    log = (await http.get("/amazon/_sandbox/messaging/messages")).json()["messages"]
    assert [(m["action"], m["sender"]) for m in log] == [
        ("unexpectedProblem", "seller"),
        ("confirmDeliveryDetails", "seller"),
    ]


async def test_amazon_refuses_unknown_actions_and_empty_texts(http: httpx.AsyncClient) -> None:
    order_id = await amazon_order(http, "302-0000001-0000002")
    base = f"/amazon/messaging/v1/orders/{order_id}/messages"
    unknown = await http.post(
        f"{base}/orderShipped", params={"marketplaceIds": MARKET}, json={"text": "x"}, headers=TOKEN
    )
    assert unknown.status_code == 400 and unknown.json()["errors"][0]["code"] == "InvalidInput"
    empty = await http.post(
        f"{base}/unexpectedProblem",
        params={"marketplaceIds": MARKET},
        json={"text": ""},
        headers=TOKEN,
    )
    assert empty.status_code == 400
    anonymous = await http.get(
        f"/amazon/messaging/v1/orders/{order_id}", params={"marketplaceIds": MARKET}
    )
    assert anonymous.status_code == 403


async def test_ebay_messages_go_only_to_the_orders_buyer(http: httpx.AsyncClient) -> None:
    o = order(
        channel=Channel.EBAY,
        channel_order_id="12-00001-00001",
        payment_method=None,
        buyer=Buyer(name="Marta Nowak"),
    )
    assert (await http.post("/ebay/_sandbox/orders", json=o.model_dump(mode="json"))).is_success
    client = EbayMessagesClient("http://sandbox/ebay", "v^1.1#t", http=http)
    with pytest.raises(PartnerRejected):
        await client.send("someone_else", o.channel_order_id, "Hello", "e-1")
    buyer = "martanowak_0001"
    first = await client.send(buyer, o.channel_order_id, "Dzień dobry", "e-2")
    again = await client.send(buyer, o.channel_order_id, "Dzień dobry", "e-2")
    assert first == again and first["recipientUsername"] == buyer
    log = (await http.get("/ebay/_sandbox/messages")).json()["messages"]
    assert [m["messageBody"] for m in log] == ["Dzień dobry"]
