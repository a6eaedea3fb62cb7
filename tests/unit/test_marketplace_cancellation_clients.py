"""The marketplace adapters for buyers' cancellation requests, against the sandbox:
Amazon's getOrders by last update and BuyerRequestedCancel, eBay's Post-Order
cancellations (search, approve, reject)."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from crossdock.models.order import Channel
from crossdock.partners.amazon import AmazonOrdersClient
from crossdock.partners.ebay_post_order import EbayCancellation, EbayPostOrderClient
from crossdock.partners.errors import PartnerRejected
from crossdock.sandbox.app import create_app
from crossdock.sandbox.context import SandboxContext
from tests.factories import NOW, order

_numbers = itertools.count(1)
MARKET = "ACLIENTCANCEL"


@pytest.fixture(scope="module")
def app() -> FastAPI:
    return create_app()


@pytest.fixture
async def http(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app)) as client:
        yield client


@pytest.fixture
def amazon(http: httpx.AsyncClient) -> AmazonOrdersClient:
    return AmazonOrdersClient("http://sandbox/amazon", "Atza|test", MARKET, http=http)


@pytest.fixture
def post_order(http: httpx.AsyncClient) -> EbayPostOrderClient:
    return EbayPostOrderClient("http://sandbox/ebay", "v^1.1#test", http=http)


async def admin(http: httpx.AsyncClient, path: str, body: Any, **params: str) -> Any:
    response = await http.post(f"http://sandbox{path}", json=body, params=params)
    assert response.is_success, response.text
    return response.json()


async def amazon_order(http: httpx.AsyncClient) -> str:
    placed = order(channel=Channel.AMAZON, channel_order_id=f"306-{next(_numbers):07d}-2222222")
    await admin(
        http, "/amazon/_sandbox/orders", placed.model_dump(mode="json"), marketplace_id=MARKET
    )
    return placed.channel_order_id


async def ebay_request(http: httpx.AsyncClient, **placed: Any) -> tuple[str, str]:
    """An eBay order and its buyer's cancellation request: (order id, cancel id)."""
    made = order(channel=Channel.EBAY, channel_order_id=f"15-{next(_numbers):05d}-33333", **placed)
    await admin(http, "/ebay/_sandbox/orders", made.model_dump(mode="json"))
    body = {"reason": "WONT_ARRIVE_IN_TIME"}
    if "placed_at" in placed:
        body["requestDate"] = (made.placed_at + timedelta(minutes=5)).isoformat()
    found = await admin(http, f"/ebay/_sandbox/orders/{made.channel_order_id}/buyer-cancel", body)
    return made.channel_order_id, found["cancelId"]


class TestAmazon:
    async def test_updated_orders_and_the_buyers_request_on_the_items(
        self, http: httpx.AsyncClient, amazon: AmazonOrdersClient
    ) -> None:
        asked, quiet = await amazon_order(http), await amazon_order(http)
        reason = "Found cheaper somewhere else."
        await admin(http, f"/amazon/_sandbox/orders/{asked}/buyer-cancel", {"reason": reason})
        page = await amazon.get_updated_orders(NOW, order_statuses=("Unshipped",))
        assert {o.amazon_order_id for o in page.orders} == {asked, quiet}
        assert page.last_updated_before is not None and page.created_before is None
        [item] = await amazon.get_order_items(asked)
        assert (item.cancel_requested, item.buyer_cancel_reason) == (True, reason)
        [other] = await amazon.get_order_items(quiet)
        assert (other.cancel_requested, other.buyer_cancel_reason) == (False, "")

    async def test_updated_orders_follow_next_token(
        self, http: httpx.AsyncClient, amazon: AmazonOrdersClient
    ) -> None:
        ids = {await amazon_order(http) for _ in range(3)}
        since = datetime.now(UTC) - timedelta(minutes=1)
        page = await amazon.get_updated_orders(since, max_results_per_page=2)
        seen = [o.amazon_order_id for o in page.orders]
        while page.next_token:
            page = await amazon.get_updated_orders(since, page.next_token)
            seen += [o.amazon_order_id for o in page.orders]
        assert ids <= set(seen) and len(seen) == len(set(seen))


class TestEbayPostOrder:
    async def test_search_reads_requests_with_post_order_dates(
        self, http: httpx.AsyncClient, post_order: EbayPostOrderClient
    ) -> None:
        placed = NOW - timedelta(days=20)
        order_id, cancel_id = await ebay_request(http, placed_at=placed)
        found = await post_order.search_cancellations(placed)
        mine = [c for c in found if c.cancel_id == cancel_id]
        assert mine == [
            EbayCancellation(
                cancel_id=cancel_id,
                legacy_order_id=order_id,
                cancel_state="APPROVAL_PENDING",
                cancel_status="CANCEL_REQUESTED",
                cancel_reason="WONT_ARRIVE_IN_TIME",
                requestor_type="BUYER",
                marketplace_id="EBAY_DE",
                cancel_request_date=placed + timedelta(minutes=5),
                seller_response_due_date=placed + timedelta(days=3, minutes=5),
            )
        ]
        assert mine[0].order_id == order_id and mine[0].awaits_seller

    async def test_search_follows_every_page(
        self, http: httpx.AsyncClient, post_order: EbayPostOrderClient, monkeypatch: Any
    ) -> None:
        monkeypatch.setattr("crossdock.partners.ebay_post_order.PAGE_SIZE", 2)
        since = NOW - timedelta(days=40)
        ids = [(await ebay_request(http, placed_at=since))[1] for _ in range(5)]
        found = await post_order.search_cancellations(since)
        assert [c.cancel_id for c in found if c.cancel_id in ids] == ids

    async def test_approve_then_read_back(
        self, http: httpx.AsyncClient, post_order: EbayPostOrderClient, app: FastAPI
    ) -> None:
        _, cancel_id = await ebay_request(http)
        await post_order.approve_cancellation(cancel_id)
        found = await post_order.get_cancellation(cancel_id)
        assert found is not None and not found.awaits_seller
        assert found.cancel_status == "CANCEL_CLOSED_WITH_REFUND"
        with pytest.raises(PartnerRejected) as refused:
            await post_order.approve_cancellation(cancel_id)
        assert refused.value.status == 400 and "CLOSED" in refused.value.message
        ctx: SandboxContext = app.state.sandbox
        assert len(ctx.ledger.entries(kind="cancellation_approved", reference=cancel_id)) == 1

    async def test_reject_sends_the_shipment(
        self, http: httpx.AsyncClient, post_order: EbayPostOrderClient, app: FastAPI
    ) -> None:
        _, cancel_id = await ebay_request(http)
        shipped = datetime(2026, 11, 3, 8, 15, tzinfo=UTC)
        await post_order.reject_cancellation(
            cancel_id, shipped_at=shipped, tracking_number="EZ1000000001"
        )
        found = await post_order.get_cancellation(cancel_id)
        assert found is not None
        assert (found.cancel_status, found.shipment_date) == ("CANCEL_REJECTED", shipped)
        ctx: SandboxContext = app.state.sandbox
        [entry] = ctx.ledger.entries(kind="cancellation_rejected", reference=cancel_id)
        assert entry.details["tracking_number"] == "EZ1000000001"

    async def test_reject_without_shipment_sends_an_empty_body(
        self, http: httpx.AsyncClient, post_order: EbayPostOrderClient
    ) -> None:
        _, cancel_id = await ebay_request(http)
        await post_order.reject_cancellation(cancel_id)
        found = await post_order.get_cancellation(cancel_id)
        assert found is not None and found.cancel_status == "CANCEL_REJECTED"

    async def test_unknown_request_is_none_or_rejected(
        self, post_order: EbayPostOrderClient
    ) -> None:
        assert await post_order.get_cancellation("5999999999") is None
        with pytest.raises(PartnerRejected) as refused:
            await post_order.approve_cancellation("5999999999")
        assert refused.value.status == 404
