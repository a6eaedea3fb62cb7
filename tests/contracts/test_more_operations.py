"""The other modelled operations: eBay refunds and payment disputes (Fulfillment v1),
Amazon feeds and reports (2021-06-30), through the contract checks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx

from crossdock.models.order import Address, Channel
from crossdock.money import Money
from crossdock.partners.amazon import AmazonOrdersClient
from crossdock.partners.amazon_feeds import (
    ACKNOWLEDGEMENT,
    AmazonFeedsClient,
    order_acknowledgement,
)
from crossdock.partners.amazon_reports import AmazonReportsClient
from crossdock.partners.ebay import EbayFulfillmentClient
from crossdock.partners.ebay_payment_disputes import EbayPaymentDisputesClient
from crossdock.partners.ebay_returns import EbayRefundsClient
from tests.contracts.contracts import Contracts
from tests.factories import order

DE = "A1PA6795UKMFR9"
WAREHOUSE = Address(name="Warehouse", line1="Am Sandtorkai 1", city="Hamburg", country="DE")


async def test_ebay_refunds_and_payment_disputes_fit_the_fulfillment_contract(
    checked_http: httpx.AsyncClient, raw_http: httpx.AsyncClient, contracts: Contracts
) -> None:
    placed = order(channel=Channel.EBAY, channel_order_id="27-00009-99999")
    await raw_http.post("/ebay/_sandbox/orders", json=placed.model_dump(mode="json"))
    opened = await raw_http.post(
        "/ebay/_sandbox/payment_disputes",
        json={"order_id": placed.channel_order_id, "reason": "ITEM_NOT_RECEIVED"},
    )
    disputes = EbayPaymentDisputesClient(
        "http://sandbox/ebay", "v^1.1#test", WAREHOUSE, http=checked_http
    )
    refunds = EbayRefundsClient("http://sandbox/ebay", "v^1.1#test", http=checked_http)
    orders = EbayFulfillmentClient("http://sandbox/ebay", "v^1.1#test", http=checked_http)

    await disputes.summaries()
    dispute_id = opened.json()["paymentDisputeId"]
    await disputes.get_dispute(dispute_id)
    await disputes.contest(dispute_id, "Delivered; tracking attached.")
    (line,) = (await orders.get_order(placed.channel_order_id)).line_items
    refund = await refunds.issue_refund(
        placed.channel_order_id,
        Money(amount=500, currency=placed.currency),
        "BUYER_CANCEL",
        "partial refund",
        line_amounts=[(line.line_item_id, Money(amount=500, currency=placed.currency))],
    )
    assert refund.refund_id is not None
    await refunds.refund_status(placed.channel_order_id, refund.refund_id)

    assert {
        "getPaymentDisputeSummaries",
        "getPaymentDispute",
        "contestPaymentDispute",
        "issueRefund",
    } <= contracts.seen


async def test_amazon_feeds_and_reports_fit_their_models(
    checked_http: httpx.AsyncClient, raw_http: httpx.AsyncClient, contracts: Contracts
) -> None:
    placed = order(channel=Channel.AMAZON, channel_order_id="171-0000011-0000011")
    await raw_http.post(
        "/amazon/_sandbox/orders",
        json=placed.model_dump(mode="json"),
        params={"marketplace_id": DE},
    )
    amazon = AmazonOrdersClient("http://sandbox/amazon", "Atza|test", DE, http=checked_http)
    (item,) = await amazon.get_order_items(placed.channel_order_id)
    feeds = AmazonFeedsClient("http://sandbox/amazon", "Atza|test", DE, checked_http)
    reports = AmazonReportsClient(
        "http://sandbox/amazon", "Atza|test", DE, checked_http, wait_seconds=0
    )

    content = order_acknowledgement(placed.channel_order_id, {item.order_item_id: "NoInventory"})
    feed_id = await feeds.submit(ACKNOWLEDGEMENT, content)
    feed = await feeds.get_feed(feed_id)
    if feed.result_feed_document_id:
        await feeds.processing_report(feed)
    await reports.return_requests(datetime.now(UTC) - timedelta(days=1))

    assert {"createFeedDocument", "createFeed", "getFeed", "createReport", "getReport"} <= (
        contracts.seen
    )
