"""The sandbox's return and refund shapes, through Crossdock's own clients: Amazon's
payment adjustment feed (one refund per MerchantAdjustmentID, never more than is left)
and eBay's Post-Order return search."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from fastapi import FastAPI

from crossdock.models.order import Channel
from crossdock.money import Money
from crossdock.partners.amazon_feeds import DONE, AmazonFeedsClient
from crossdock.partners.amazon_returns import PAYMENT_ADJUSTMENT, AdjustedItem, payment_adjustment
from crossdock.partners.ebay_returns import EbayReturnRequestsClient
from crossdock.sandbox.app import create_app
from crossdock.sandbox.context import SandboxContext
from tests.factories import line_item, order

_numbers = itertools.count(1)


@pytest.fixture(scope="module")
def app() -> FastAPI:
    return create_app()


@pytest.fixture
async def http(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://sandbox") as client:
        yield client


def eur(amount: int) -> Money:
    return Money(amount=amount, currency="EUR")


async def amazon_order(http: httpx.AsyncClient) -> tuple[str, list[str]]:
    placed = order(
        channel=Channel.AMAZON,
        channel_order_id=f"305-{next(_numbers):07d}-4444444",
        items=[line_item(), line_item(sku="BOWL", quantity=1)],
    )
    response = await http.post("/amazon/_sandbox/orders", json=placed.model_dump(mode="json"))
    return placed.channel_order_id, [i["OrderItemId"] for i in response.json()["OrderItems"]]


async def adjust(
    feeds: AmazonFeedsClient, order_id: str, key: str, items: list[AdjustedItem]
) -> list[str]:
    feed_id = await feeds.submit(PAYMENT_ADJUSTMENT, payment_adjustment(order_id, key, items))
    feed = await feeds.get_feed(feed_id)
    assert feed.processing_status == DONE
    return [f"{r.result_code} {r.message_code}" for r in await feeds.processing_report(feed)]


async def test_an_amazon_adjustment_refunds_once_per_merchant_adjustment_id(
    app: FastAPI, http: httpx.AsyncClient
) -> None:
    feeds = AmazonFeedsClient("http://sandbox/amazon", "Atza|t", "A1PA6795UKMFR9", http=http)
    order_id, (mug, _) = await amazon_order(http)
    refund = [AdjustedItem(order_item_id=mug, principal=eur(1800), shipping=eur(990))]
    assert await adjust(feeds, order_id, "return-amazon-R1/refund", refund) == []
    # Resubmitted (a retried activity): a warning, nothing refunded twice.
    assert await adjust(feeds, order_id, "return-amazon-R1/refund", refund) == ["Warning 18047"]
    # More than is left on the item: refused, nothing refunded.
    too_much = [AdjustedItem(order_item_id=mug, principal=eur(1801))]
    assert await adjust(feeds, order_id, "return-amazon-R2/refund", too_much) == ["Error 18046"]
    ctx: SandboxContext = app.state.sandbox
    [entry] = ctx.ledger.entries(partner="amazon", kind="refund", reference=order_id)
    assert (entry.idempotency_key, entry.amount) == ("return-amazon-R1/refund", 2790)


async def test_ebay_buyers_return_requests_are_searched_by_creation_date(
    http: httpx.AsyncClient,
) -> None:
    placed = order(channel=Channel.EBAY, channel_order_id=f"17-{next(_numbers):05d}-33333")
    created = await http.post("/ebay/_sandbox/orders", json=placed.model_dump(mode="json"))
    line = created.json()["lineItems"][0]["lineItemId"]
    asked = await http.post(
        f"/ebay/_sandbox/orders/{placed.channel_order_id}/buyer-return",
        json={
            "lineItemId": line,
            "quantity": 1,
            "reason": "ARRIVED_DAMAGED",
            "comments": "cracked",
        },
    )
    assert asked.status_code == 201, asked.text
    wrong = await http.post(
        f"/ebay/_sandbox/orders/{placed.channel_order_id}/buyer-return",
        json={"lineItemId": line, "quantity": 1, "reason": "BORED"},
    )
    assert wrong.status_code == 400 and "BORED" in wrong.text
    client = EbayReturnRequestsClient("http://sandbox/ebay", "v^1.1#t", http=http)
    found = await client.search(datetime.now(UTC) - timedelta(minutes=1))
    mine = [r for r in found if r.order_id == placed.channel_order_id]
    assert [(r.transaction_id, r.quantity, r.reason, r.comments) for r in mine] == [
        (line, 1, "ARRIVED_DAMAGED", "cracked")
    ]
    assert await client.search(datetime.now(UTC) + timedelta(minutes=1)) == []
