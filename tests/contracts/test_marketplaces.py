"""Amazon SP-API Orders v0 and eBay Sell Fulfillment v1: every request our order clients
send, and every answer the sandbox gives, fit the published models."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest

from crossdock.models.order import Channel
from crossdock.money import Money
from crossdock.partners.amazon import AmazonOrdersClient, AmazonPackage
from crossdock.partners.ebay import EbayFulfillmentClient
from crossdock.partners.errors import PartnerRejected
from tests.contracts.contracts import Contracts
from tests.factories import NOW, line_item, order

DE = "A1PA6795UKMFR9"


async def test_amazon_orders_fit_the_orders_v0_model(
    checked_http: httpx.AsyncClient, raw_http: httpx.AsyncClient, contracts: Contracts
) -> None:
    items = [line_item(sku="KNIFE", unit_price=Money(amount=14000, currency="JPY"))]
    placed = order(
        channel=Channel.AMAZON,
        channel_order_id="171-0000001-0000001",
        currency="JPY",
        items=items,
        shipping=Money.zero("JPY"),
    )
    created = await raw_http.post(
        "/amazon/_sandbox/orders",
        json=placed.model_dump(mode="json"),
        params={"marketplace_id": DE},
    )
    assert created.status_code == 201, created.text
    amazon = AmazonOrdersClient("http://sandbox/amazon", "Atza|test", DE, http=checked_http)

    await amazon.get_orders(NOW - timedelta(days=1))
    await amazon.get_updated_orders(NOW - timedelta(days=1), order_statuses=("Unshipped",))
    await amazon.get_order(placed.channel_order_id)
    (item,) = await amazon.get_order_items(placed.channel_order_id)
    package = AmazonPackage(
        package_reference_id="1",
        carrier_code="DHL",
        tracking_number="EZ1000000001",
        ship_date=NOW + timedelta(hours=1),
        order_items=[(item.order_item_id, 1)],
    )
    await amazon.confirm_shipment(placed.channel_order_id, package)
    with pytest.raises(PartnerRejected):
        await amazon.get_order("999-0000000-0000000")

    assert {"getOrders", "getOrder", "getOrderItems", "confirmShipment"} <= contracts.seen


async def test_ebay_orders_fit_the_fulfillment_contract(
    checked_http: httpx.AsyncClient, raw_http: httpx.AsyncClient, contracts: Contracts
) -> None:
    placed = order(channel=Channel.EBAY, channel_order_id="27-00001-11111")
    created = await raw_http.post("/ebay/_sandbox/orders", json=placed.model_dump(mode="json"))
    assert created.status_code == 201, created.text
    ebay = EbayFulfillmentClient("http://sandbox/ebay", "v^1.1#test", http=checked_http)

    await ebay.get_orders(NOW - timedelta(days=1))
    (line,) = (await ebay.get_order(placed.channel_order_id)).line_items
    shipped = await ebay.create_shipping_fulfillment(
        placed.channel_order_id, [(line.line_item_id, 1)], "EZ1", "DHL", NOW
    )
    await ebay.get_shipping_fulfillment(placed.channel_order_id, shipped)
    with pytest.raises(PartnerRejected):
        await ebay.get_order("00-00000-00000")

    assert {
        "getOrders",
        "getOrder",
        "createShippingFulfillment",
        "getShippingFulfillment",
    } <= contracts.seen
