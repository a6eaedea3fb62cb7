"""Shipped marketplace orders in the sandbox, and claims opened on them by their buyers:
shared by the sandbox, workflow and integration tests of marketplace claims."""

from __future__ import annotations

from typing import Any

import httpx

from crossdock.models.order import Channel, Order
from tests.factories import order

EBAY_AUTH = {"Authorization": "Bearer v^1.1#test"}
AMAZON_AUTH = {"x-amz-access-token": "Atza|test"}


async def shipped_ebay_order(http: httpx.AsyncClient, order_id: str) -> Order:
    """An eBay order placed and shipped in full (tracking JD0146001)."""
    placed = order(channel=Channel.EBAY, channel_order_id=order_id)
    (
        await http.post("/ebay/_sandbox/orders", json=placed.model_dump(mode="json"))
    ).raise_for_status()
    api = "/ebay/sell/fulfillment/v1/order"
    lines = (await http.get(f"{api}/{order_id}", headers=EBAY_AUTH)).json()["lineItems"]
    body = {
        "lineItems": [{"lineItemId": i["lineItemId"], "quantity": i["quantity"]} for i in lines],
        "shippingCarrierCode": "DHL",
        "trackingNumber": "JD0146001",
    }
    shipped = await http.post(
        f"{api}/{order_id}/shipping_fulfillment", json=body, headers=EBAY_AUTH
    )
    shipped.raise_for_status()
    return placed


async def shipped_amazon_order(http: httpx.AsyncClient, order_id: str) -> Order:
    """An Amazon order placed and confirmed shipped in full (UPS 1Z999)."""
    placed = order(channel=Channel.AMAZON, channel_order_id=order_id)
    created = await http.post("/amazon/_sandbox/orders", json=placed.model_dump(mode="json"))
    created.raise_for_status()
    items = [(i["OrderItemId"], i["QuantityOrdered"]) for i in created.json()["OrderItems"]]
    body = {
        "marketplaceId": "A1PA6795UKMFR9",
        "packageDetail": {
            "packageReferenceId": "1",
            "carrierCode": "UPS",
            "trackingNumber": "1Z999",
            "shipDate": "2026-11-03T10:00:00Z",
            "orderItems": [{"orderItemId": i, "quantity": q} for i, q in items],
        },
    }
    url = f"/amazon/orders/v0/orders/{order_id}/shipmentConfirmation"
    (await http.post(url, json=body, headers=AMAZON_AUTH)).raise_for_status()
    return placed


async def open_ebay_case(
    http: httpx.AsyncClient, order_id: str, case_type: str = "ITEM_NOT_RECEIVED", **extra: Any
) -> dict[str, Any]:
    opened = await http.post(
        "/ebay/_sandbox/cases", json={"order_id": order_id, "case_type": case_type, **extra}
    )
    assert opened.status_code == 200, opened.text
    return dict(opened.json())


async def file_atoz_claim(
    http: httpx.AsyncClient, order_id: str, claim_type: str = "ITEM_NOT_RECEIVED", **extra: Any
) -> dict[str, Any]:
    filed = await http.post(
        "/amazon/_sandbox/claims", json={"order_id": order_id, "claim_type": claim_type, **extra}
    )
    assert filed.status_code == 200, filed.text
    return dict(filed.json()["payload"])
