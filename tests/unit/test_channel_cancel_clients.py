"""The Amazon Feeds and eBay Post-Order (seller cancellation) adapters against the sandbox:
wire shapes, repeats, and refusals that name what was wrong."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI

from crossdock.models.order import Channel
from crossdock.partners.amazon_feeds import (
    ACKNOWLEDGEMENT,
    AmazonFeedsClient,
    order_acknowledgement,
)
from crossdock.partners.ebay_post_order import EbayPostOrderClient
from crossdock.partners.errors import PartnerRejected
from crossdock.sandbox.app import create_app
from tests.factories import order

MARKET = "A1PA6795UKMFR9"


@pytest.fixture
def app() -> FastAPI:
    return create_app()


@pytest.fixture
async def http(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app)) as client:
        yield client


def test_the_acknowledgement_names_each_item_and_its_reason() -> None:
    content = order_acknowledgement("302-1-2", {"111": "NoInventory", "222": "BuyerCanceled"})

    root = ET.fromstring(content)
    assert root.tag == "AmazonEnvelope"
    assert root.findtext("MessageType") == "OrderAcknowledgement"
    ack = root.find("Message/OrderAcknowledgement")
    assert ack is not None
    assert (ack.findtext("AmazonOrderID"), ack.findtext("StatusCode")) == ("302-1-2", "Failure")
    assert [
        (item.findtext("AmazonOrderItemCode"), item.findtext("CancelReason"))
        for item in ack.findall("Item")
    ] == [("111", "NoInventory"), ("222", "BuyerCanceled")]
    with pytest.raises(ValueError, match="names its items"):
        order_acknowledgement("302-1-2", {})


async def test_a_feed_is_submitted_and_its_report_read(http: httpx.AsyncClient) -> None:
    placed = order(channel=Channel.AMAZON, channel_order_id="308-0000001-4444444")
    created = await http.post(
        "http://sandbox/amazon/_sandbox/orders", json=placed.model_dump(mode="json")
    )
    item = created.json()["OrderItems"][0]["OrderItemId"]
    feeds = AmazonFeedsClient("http://sandbox/amazon", "Atza|t", MARKET, http=http)

    good = await feeds.get_feed(
        await feeds.submit(
            ACKNOWLEDGEMENT, order_acknowledgement(placed.channel_order_id, {item: "NoInventory"})
        )
    )
    bad = await feeds.get_feed(
        await feeds.submit(
            ACKNOWLEDGEMENT, order_acknowledgement(placed.channel_order_id, {item: "Sold out"})
        )
    )

    assert (good.processing_status, good.feed_type) == ("DONE", ACKNOWLEDGEMENT)
    assert await feeds.processing_report(good) == []
    [error] = await feeds.processing_report(bad)
    assert error.result_code == "Error"
    assert error.description.startswith("Item[0]/CancelReason 'Sold out' must be one of")


async def test_feeds_refuse_a_missing_token(http: httpx.AsyncClient) -> None:
    feeds = AmazonFeedsClient("http://sandbox/amazon", "", MARKET, http=http)
    with pytest.raises(PartnerRejected) as refused:
        await feeds.get_feed("1")
    assert (refused.value.status, refused.value.code) == (403, "Unauthorized")


async def test_a_seller_cancellation_is_found_again_and_not_repeated(
    http: httpx.AsyncClient,
) -> None:
    placed = order(channel=Channel.EBAY, channel_order_id="16-00001-99999")
    await http.post("http://sandbox/ebay/_sandbox/orders", json=placed.model_dump(mode="json"))
    post_order = EbayPostOrderClient("http://sandbox/ebay", "v^1.1#t", http=http)

    cancel_id = await post_order.create_cancellation(
        placed.channel_order_id, "OUT_OF_STOCK_OR_CANNOT_FULFILL", paid_at=placed.placed_at
    )
    [found] = await post_order.order_cancellations(placed.channel_order_id)
    with pytest.raises(PartnerRejected) as again:
        await post_order.create_cancellation(
            placed.channel_order_id, "OUT_OF_STOCK_OR_CANNOT_FULFILL"
        )

    assert (found.cancel_id, found.requestor_type) == (cancel_id, "SELLER")
    assert not found.awaits_seller
    assert "is already canceled" in again.value.message


async def test_a_buyers_reason_is_refused_naming_the_field(http: httpx.AsyncClient) -> None:
    placed = order(channel=Channel.EBAY, channel_order_id="16-00002-99999")
    await http.post("http://sandbox/ebay/_sandbox/orders", json=placed.model_dump(mode="json"))
    post_order = EbayPostOrderClient("http://sandbox/ebay", "v^1.1#t", http=http)

    with pytest.raises(PartnerRejected) as refused:
        await post_order.create_cancellation(placed.channel_order_id, "ORDER_MISTAKE")

    assert refused.value.status == 400
    assert "cancelReason 'ORDER_MISTAKE' is not a seller's reason" in refused.value.message
