"""cancel_on_channel against the sandbox: Amazon feed, eBay cancellation or line refund,
storefront record; retried attempts change nothing twice; refusals name what is wrong."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities.channel_cancel import ChannelCancelActivities
from crossdock.models.channel_cancel import (
    CancelOnChannelInput,
    ChannelCancellation,
    SellerCancelReason,
)
from crossdock.models.order import Channel, Order
from crossdock.partners.amazon import AmazonOrdersClient
from crossdock.partners.amazon_feeds import AmazonFeedsClient
from crossdock.partners.ebay_post_order import EbayPostOrderClient
from crossdock.partners.ebay_returns import EbayRefundsClient
from crossdock.sandbox.app import create_app
from crossdock.sandbox.context import SandboxContext
from tests.factories import line_item, order

BASE = "http://sandbox"
MARKET = "A1PA6795UKMFR9"
_numbers = itertools.count(1)


@dataclass
class Stack:
    app: FastAPI
    http: httpx.AsyncClient
    activities: ChannelCancelActivities

    def ledger(self, partner: str, kind: str) -> list[Any]:
        ctx: SandboxContext = self.app.state.sandbox
        return ctx.ledger.entries(partner=partner, kind=kind)

    async def cancel(
        self, placed: Order, *line_ids: str, reason: SellerCancelReason, key: str = "k"
    ) -> ChannelCancellation:
        request = CancelOnChannelInput(
            order=placed, reason=reason, line_ids=list(line_ids), idempotency_key=key
        )
        return await ActivityEnvironment().run(self.activities.cancel_on_channel, request)


@pytest.fixture
async def stack() -> AsyncIterator[Stack]:
    app = create_app()
    transport = httpx.ASGITransport(app=app)
    async with (
        httpx.AsyncClient(transport=transport, base_url=BASE) as http,
        httpx.AsyncClient(transport=transport, base_url=f"{BASE}/storefront") as shop,
    ):
        activities = ChannelCancelActivities(
            AmazonOrdersClient(f"{BASE}/amazon", "Atza|t", MARKET, http=http),
            AmazonFeedsClient(f"{BASE}/amazon", "Atza|t", MARKET, http=http),
            EbayPostOrderClient(f"{BASE}/ebay", "v^1.1#t", http=http),
            EbayRefundsClient(f"{BASE}/ebay", "v^1.1#t", http=http),
            shop,
        )
        yield Stack(app, http, activities)


def two_lines(channel: Channel, order_id: str) -> Order:
    return order(
        channel=channel,
        channel_order_id=order_id,
        items=[line_item(), line_item(sku="TEE-ORGANIC-M", title="T-shirt", quantity=1)],
    )


async def on_amazon(stack: Stack) -> Order:
    """An order placed on the Amazon sandbox, with Amazon's OrderItemIds as line ids."""
    placed = two_lines(Channel.AMAZON, f"306-{next(_numbers):07d}-2222222")
    response = await stack.http.post("/amazon/_sandbox/orders", json=placed.model_dump(mode="json"))
    ids = [item["OrderItemId"] for item in response.json()["OrderItems"]]
    return with_line_ids(placed, ids)


async def on_ebay(stack: Stack) -> Order:
    placed = two_lines(Channel.EBAY, f"14-{next(_numbers):05d}-77777")
    response = await stack.http.post("/ebay/_sandbox/orders", json=placed.model_dump(mode="json"))
    ids = [line["lineItemId"] for line in response.json()["lineItems"]]
    return with_line_ids(placed, ids)


async def on_storefront(stack: Stack) -> Order:
    placed = two_lines(Channel.STOREFRONT, f"SF{next(_numbers):08d}")
    placed = placed.model_copy(
        update={"items": [i.model_copy(update={"line_id": ""}) for i in placed.items]}
    )
    await stack.http.post("/storefront/checkout", json=placed.model_dump(mode="json"))
    return placed


def with_line_ids(placed: Order, ids: list[str]) -> Order:
    items = [
        item.model_copy(update={"line_id": i}) for item, i in zip(placed.items, ids, strict=True)
    ]
    return placed.model_copy(update={"items": items})


class TestAmazon:
    async def test_the_whole_order_is_canceled_by_feed(self, stack: Stack) -> None:
        placed = await on_amazon(stack)

        told = await stack.cancel(placed, reason=SellerCancelReason.OUT_OF_STOCK)
        retried = await stack.cancel(placed, reason=SellerCancelReason.OUT_OF_STOCK)

        assert told.status == "accepted" and told.reference.isdigit()  # the feedId
        assert retried == ChannelCancellation(
            reference=placed.channel_order_id, status="not_needed"
        )
        amazon = await stack.activities._amazon.get_order(placed.channel_order_id)
        assert amazon.order_status == "Canceled"
        entries = stack.ledger("amazon", "seller_cancellation")
        assert [e.details["cancel_reason"] for e in entries] == ["NoInventory", "NoInventory"]
        assert {e.details["order_item_id"] for e in entries} == {i.line_id for i in placed.items}

    async def test_one_item_is_canceled_and_a_resubmission_cancels_nothing_twice(
        self, stack: Stack
    ) -> None:
        placed = await on_amazon(stack)
        first = placed.items[0].line_id

        await stack.cancel(placed, first, reason=SellerCancelReason.ADDRESS_UNDELIVERABLE)
        again = await stack.cancel(placed, first, reason=SellerCancelReason.ADDRESS_UNDELIVERABLE)

        assert again.status == "accepted"  # Amazon warns "already canceled"; no error
        [entry] = stack.ledger("amazon", "seller_cancellation")
        assert entry.details["cancel_reason"] == "ShippingAddressUndeliverable"
        amazon = await stack.activities._amazon.get_order(placed.channel_order_id)
        assert amazon.order_status == "Unshipped"  # the other item still ships

    async def test_a_shipped_item_is_a_non_retryable_refusal(self, stack: Stack) -> None:
        placed = await on_amazon(stack)
        item = placed.items[1]
        await stack.http.post(
            f"/amazon/orders/v0/orders/{placed.channel_order_id}/shipmentConfirmation",
            headers={"x-amz-access-token": "t"},
            json={
                "marketplaceId": MARKET,
                "packageDetail": {
                    "packageReferenceId": "1",
                    "carrierCode": "DHL",
                    "trackingNumber": "TRK1",
                    "shipDate": "2026-01-01T00:00:00Z",
                    "orderItems": [{"orderItemId": item.line_id, "quantity": 1}],
                },
            },
        )

        with pytest.raises(ApplicationError) as failure:
            await stack.cancel(placed, reason=SellerCancelReason.OUT_OF_STOCK)

        assert failure.value.non_retryable and failure.value.type == "AmazonFeedRefused"
        assert f"AmazonOrderItemCode {item.line_id} has shipped" in failure.value.message
        assert stack.ledger("amazon", "seller_cancellation") == []


class TestEbay:
    async def test_the_whole_order_is_cancelled_once(self, stack: Stack) -> None:
        placed = await on_ebay(stack)

        told = await stack.cancel(placed, reason=SellerCancelReason.BUYER_ASKED)
        retried = await stack.cancel(placed, reason=SellerCancelReason.BUYER_ASKED)

        assert told.status == "accepted" and retried == told
        [entry] = stack.ledger("ebay", "seller_cancellation")
        assert (entry.reference, entry.details["reason"]) == (told.reference, "BUYER_ASKED_CANCEL")
        ebay = (
            await stack.http.get(
                f"/ebay/sell/fulfillment/v1/order/{placed.channel_order_id}",
                headers={"Authorization": "Bearer t"},
            )
        ).json()
        assert ebay["cancelStatus"]["cancelState"] == "CANCELED"

    async def test_a_waiting_buyer_request_is_approved_instead(self, stack: Stack) -> None:
        placed = await on_ebay(stack)
        asked = await stack.http.post(
            f"/ebay/_sandbox/orders/{placed.channel_order_id}/buyer-cancel",
            json={"reason": "ORDER_MISTAKE"},
        )

        told = await stack.cancel(placed, reason=SellerCancelReason.BUYER_ASKED)

        assert told.reference == asked.json()["cancelId"]
        assert len(stack.ledger("ebay", "cancellation_approved")) == 1
        assert stack.ledger("ebay", "seller_cancellation") == []

    async def test_some_lines_are_refunded_once_per_key(self, stack: Stack) -> None:
        placed = await on_ebay(stack)
        line = placed.items[1]

        told = await stack.cancel(
            placed, line.line_id, reason=SellerCancelReason.OUT_OF_STOCK, key="o/cancel-l2"
        )
        retried = await stack.cancel(
            placed, line.line_id, reason=SellerCancelReason.OUT_OF_STOCK, key="o/cancel-l2"
        )

        assert retried == told
        [entry] = stack.ledger("ebay", "refund")
        assert entry.amount == line.line_total.amount
        assert (entry.details["reason"], entry.details["comment"]) == (
            "SELLER_CANCEL",
            "o/cancel-l2",
        )
        assert entry.details["line_items"] == {line.line_id: line.line_total.amount}


class TestStorefront:
    async def test_lines_then_the_rest_are_cancelled_once_per_key(self, stack: Stack) -> None:
        placed = await on_storefront(stack)

        first = await stack.cancel(
            placed, "TEE-ORGANIC-M", reason=SellerCancelReason.OUT_OF_STOCK, key="sf/1"
        )
        replay = await stack.cancel(
            placed, "TEE-ORGANIC-M", reason=SellerCancelReason.OUT_OF_STOCK, key="sf/1"
        )
        rest = await stack.cancel(placed, reason=SellerCancelReason.OUT_OF_STOCK, key="sf/2")

        assert replay == first and rest.reference != first.reference
        entries = stack.ledger("storefront", "cancellation")
        assert [e.details["skus"] for e in entries] == [["TEE-ORGANIC-M"], ["MUG-STONEWARE"]]
        listed = (await stack.http.get("/storefront/_sandbox/orders")).json()["orders"]
        [mine] = [o for o in listed if o["order_id"] == placed.channel_order_id]
        assert mine["status"] == "cancelled"

    async def test_an_unknown_line_is_refused_by_field(self, stack: Stack) -> None:
        placed = await on_storefront(stack)
        with pytest.raises(ApplicationError) as failure:
            await stack.cancel(
                placed, "MUG-STONEWARE", "NOPE", reason=SellerCancelReason.BUYER_ASKED
            )

        assert failure.value.non_retryable
        assert failure.value.message.startswith("line_ids[1]: 'NOPE' is not a line of order")

    async def test_a_shipped_order_cannot_be_cancelled(self, stack: Stack) -> None:
        placed = await on_storefront(stack)
        await stack.http.post(
            f"/storefront/orders/{placed.channel_order_id}/fulfillments",
            json={"tracking_number": "T1", "carrier": "DHL", "shipped_at": "2026-01-01T00:00:00Z"},
        )

        with pytest.raises(ApplicationError) as failure:
            await stack.cancel(placed, reason=SellerCancelReason.OUT_OF_STOCK)

        assert failure.value.non_retryable and failure.value.type == "already_shipped"
        assert failure.value.message.startswith("order_id: ")


async def test_a_request_approved_meanwhile_by_the_poller_counts_as_told(stack: Stack) -> None:
    placed = await on_ebay(stack)
    asked = await stack.http.post(
        f"/ebay/_sandbox/orders/{placed.channel_order_id}/buyer-cancel",
        json={"reason": "ORDER_MISTAKE"},
    )
    cancel_id = asked.json()["cancelId"]
    post_order = stack.activities._post_order
    approve = post_order.approve_cancellation

    async def poller_first(found_id: str) -> None:
        # The cancellation-request poller answers between our search and our approval.
        await approve(found_id)
        await approve(found_id)  # ours: eBay refuses a second approval

    post_order.approve_cancellation = poller_first  # type: ignore[method-assign,assignment]

    told = await stack.cancel(placed, reason=SellerCancelReason.BUYER_ASKED)

    assert told == ChannelCancellation(reference=cancel_id, status="accepted")
    assert len(stack.ledger("ebay", "cancellation_approved")) == 1
