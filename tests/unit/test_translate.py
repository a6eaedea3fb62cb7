"""Marketplace orders become our contract, completed from the catalog, or are refused."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from crossdock.catalog import UnknownSku, default_catalog
from crossdock.models.order import Channel
from crossdock.partners.amazon import AmazonOrdersClient
from crossdock.partners.ebay import EbayFulfillmentClient
from crossdock.partners.translate import from_amazon, from_ebay
from crossdock.sandbox.app import create_app
from tests.factories import line_item, order


def marketplace_order(channel: Channel, **item: Any) -> Any:
    sku = item.pop("sku", "MUG-STONEWARE")
    return order(
        channel=channel,
        channel_order_id="111-2222222-3333333" if channel is Channel.AMAZON else "12-34567-89012",
        items=[line_item(sku=sku, hs_code="999999", **item)],
    )


@pytest.fixture
async def sandbox() -> Any:
    transport = httpx.ASGITransport(app=create_app())
    async with httpx.AsyncClient(transport=transport, base_url="http://sandbox") as http:
        yield http


async def test_amazon_order_round_trips_through_the_wire_with_catalog_customs_data(
    sandbox: httpx.AsyncClient,
) -> None:
    placed = marketplace_order(Channel.AMAZON, quantity=3)
    (
        await sandbox.post("/amazon/_sandbox/orders", json=placed.model_dump(mode="json"))
    ).raise_for_status()
    amazon = AmazonOrdersClient("http://sandbox/amazon", "token", "A1PA6795UKMFR9", http=sandbox)
    listed = await amazon.get_order(placed.channel_order_id)
    translated = from_amazon(
        listed, await amazon.get_order_items(listed.amazon_order_id), default_catalog()
    )
    product = default_catalog()["MUG-STONEWARE"]
    assert translated.workflow_id == placed.workflow_id
    assert translated.order_total == placed.order_total
    assert translated.ship_to == placed.ship_to
    [item] = translated.items
    assert (item.quantity, item.unit_price) == (3, placed.items[0].unit_price)
    # Amazon does not send customs data: it comes from the catalog, not the marketplace.
    assert (item.hs_code, item.weight_grams) == (product.hs_code, product.weight_grams)
    assert item.line_id  # the OrderItemId needed to confirm shipment


async def test_ebay_order_translates_and_unknown_skus_are_refused_by_name(
    sandbox: httpx.AsyncClient,
) -> None:
    placed = marketplace_order(Channel.EBAY, sku="NOT-IN-CATALOG")
    (
        await sandbox.post("/ebay/_sandbox/orders", json=placed.model_dump(mode="json"))
    ).raise_for_status()
    ebay = EbayFulfillmentClient("http://sandbox/ebay", "token", http=sandbox)
    listed = await ebay.get_order(placed.channel_order_id)
    with pytest.raises(UnknownSku, match="'NOT-IN-CATALOG' is not in the catalog"):
        from_ebay(listed, default_catalog())


async def test_ebay_billing_country_is_the_buyers_registration_country(
    sandbox: httpx.AsyncClient,
) -> None:
    placed = marketplace_order(Channel.EBAY).model_copy(update={"billing_country": "US"})
    (
        await sandbox.post("/ebay/_sandbox/orders", json=placed.model_dump(mode="json"))
    ).raise_for_status()
    ebay = EbayFulfillmentClient("http://sandbox/ebay", "token", http=sandbox)
    listed = await ebay.get_order(placed.channel_order_id)
    translated = from_ebay(listed, default_catalog())
    assert (translated.billing_country, translated.ship_to.country) == ("US", "FR")


async def test_amazon_orders_carry_no_billing_country(sandbox: httpx.AsyncClient) -> None:
    placed = marketplace_order(Channel.AMAZON).model_copy(update={"billing_country": "US"})
    (
        await sandbox.post("/amazon/_sandbox/orders", json=placed.model_dump(mode="json"))
    ).raise_for_status()
    amazon = AmazonOrdersClient("http://sandbox/amazon", "token", "A1PA6795UKMFR9", http=sandbox)
    listed = await amazon.get_order(placed.channel_order_id)
    items = await amazon.get_order_items(listed.amazon_order_id)
    assert from_amazon(listed, items, default_catalog()).billing_country is None
