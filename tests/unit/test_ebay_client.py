"""The eBay Fulfillment adapter against the sandbox: typed orders, paging, fulfillments."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from crossdock.models.order import Channel, Order
from crossdock.money import Money
from crossdock.partners.ebay import EbayFulfillmentClient, EbayLineItem, read_ebay_error
from crossdock.partners.errors import PartnerRejected, PartnerUnavailable
from crossdock.sandbox.app import create_app
from crossdock.sandbox.context import SandboxConfig, SandboxContext
from crossdock.sandbox.faults import FaultProfile
from tests.factories import NOW, line_item, order

_numbers = itertools.count(1)


@pytest.fixture(scope="module")
def app() -> FastAPI:
    return create_app()


@pytest.fixture
async def http(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app)) as client:
        yield client


@pytest.fixture
def ebay(http: httpx.AsyncClient) -> EbayFulfillmentClient:
    return EbayFulfillmentClient("http://sandbox/ebay", "v^1.1#test", http=http)


@pytest.fixture
def order_id() -> str:
    return f"27-{next(_numbers):05d}-11111"


def ebay_order(order_id: str, **overrides: Any) -> Order:
    return order(channel=Channel.EBAY, channel_order_id=order_id, **overrides)


async def place(http: httpx.AsyncClient, placed: Order) -> None:
    body = placed.model_dump(mode="json")
    response = await http.post("http://sandbox/ebay/_sandbox/orders", json=body)
    assert response.status_code == 201, response.text


async def test_order_translates_back_into_the_contract(
    ebay: EbayFulfillmentClient, http: httpx.AsyncClient, order_id: str
) -> None:
    pounds = [
        line_item(sku="SCARF", unit_price=Money(amount=3900, currency="GBP"), quantity=2),
        line_item(sku="ATLAS", unit_price=Money(amount=3100, currency="GBP"), quantity=1),
    ]
    placed = ebay_order(
        order_id, currency="GBP", items=pounds, shipping=Money(amount=890, currency="GBP")
    )
    await place(http, placed)

    got = await ebay.get_order(order_id)

    assert (got.order_payment_status, got.order_fulfillment_status) == ("PAID", "NOT_STARTED")
    assert got.ship_to() == placed.ship_to
    assert got.buyer_contact() == placed.buyer
    assert (got.shipping(), got.total()) == (placed.shipping, placed.order_total)
    assert (got.creation_date, got.ship_by(), got.deliver_by()) == (
        placed.placed_at,
        placed.ship_by,
        placed.deliver_by,
    )
    assert [(i.sku, i.quantity, i.unit_price()) for i in got.line_items] == [
        (line.sku, line.quantity, line.unit_price) for line in placed.items
    ]


async def test_get_orders_pages_by_offset(
    ebay: EbayFulfillmentClient, http: httpx.AsyncClient
) -> None:
    start = NOW + timedelta(days=300)  # a window of this test's own
    ids = [f"28-{n:05d}-00000" for n in range(5)]
    for n, order_id in enumerate(ids):
        await place(http, ebay_order(order_id, placed_at=start + timedelta(minutes=n)))

    seen: list[str] = []
    page = await ebay.get_orders(start + timedelta(minutes=1), limit=2)
    assert page.total == 4
    seen += [o.order_id for o in page.orders]
    while page.next_offset is not None:
        page = await ebay.get_orders(start + timedelta(minutes=1), page.next_offset, limit=2)
        seen += [o.order_id for o in page.orders]
    assert seen == ids[1:]


async def test_fulfillment_id_comes_from_location_and_repeats_safely(
    ebay: EbayFulfillmentClient, http: httpx.AsyncClient, app: FastAPI, order_id: str
) -> None:
    await place(http, ebay_order(order_id))
    (line,) = (await ebay.get_order(order_id)).line_items
    args = ([(line.line_item_id, line.quantity)], "EZ4000000004", "DHL", NOW + timedelta(days=1))
    first = await ebay.create_shipping_fulfillment(order_id, *args)
    again = await ebay.create_shipping_fulfillment(order_id, *args)
    assert first == again == "EZ4000000004"
    fulfillment = await ebay.get_shipping_fulfillment(order_id, first)
    assert (fulfillment.shipment_tracking_number, fulfillment.shipping_carrier_code) == (
        "EZ4000000004",
        "DHL",
    )
    assert (await ebay.get_order(order_id)).order_fulfillment_status == "FULFILLED"
    ctx: SandboxContext = app.state.sandbox
    assert len(ctx.ledger.entries(partner="ebay", reference=order_id)) == 1


async def test_refusals_carry_the_ebay_error_id(
    ebay: EbayFulfillmentClient, http: httpx.AsyncClient, order_id: str
) -> None:
    await place(http, ebay_order(order_id))
    with pytest.raises(PartnerRejected) as refused:
        await ebay.create_shipping_fulfillment(order_id, [("404", 1)], "EZ1", "DHL", NOW)
    assert (refused.value.status, refused.value.code) == (400, "32200")
    assert "404" in refused.value.message

    with pytest.raises(PartnerRejected) as unknown:
        await ebay.get_order("00-00000-00000")
    assert (unknown.value.status, unknown.value.code) == (404, "32100")


async def test_bad_token_is_a_rejection(http: httpx.AsyncClient) -> None:
    client = EbayFulfillmentClient("http://sandbox/ebay", "", http=http)
    with pytest.raises(PartnerRejected) as refused:
        await client.get_orders(NOW)
    assert (refused.value.status, refused.value.code) == (401, "1001")


async def test_outage_is_retryable() -> None:
    app = create_app(SandboxConfig(faults=FaultProfile.everywhere(error_rate=1.0)))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app)) as http:
        client = EbayFulfillmentClient("http://sandbox/ebay", "v^1.1#test", http=http)
        with pytest.raises(PartnerUnavailable):
            await client.get_order("27-00001-11111")


def test_unit_price_refuses_an_uneven_split() -> None:
    line = EbayLineItem.model_validate(
        {"lineItemId": "1", "quantity": 3, "lineItemCost": {"value": "10.00", "currency": "USD"}}
    )
    with pytest.raises(ValueError, match="does not divide evenly"):
        line.unit_price()


def test_post_order_errors_are_read_from_their_own_container() -> None:
    post_order = {
        "errorMessage": {
            "error": [{"errorId": 1701, "message": "The case ID is invalid", "severity": "Error"}]
        }
    }

    assert read_ebay_error(post_order) == ("1701", "The case ID is invalid")
    assert read_ebay_error({"errors": [{"errorId": 32100, "message": "Invalid order ID"}]}) == (
        "32100",
        "Invalid order ID",
    )
    assert read_ebay_error({"errorMessage": "not a container"}) == (None, None)
