"""The Amazon SP-API adapter against the sandbox: typed orders, pagination, errors."""

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
from crossdock.partners.amazon import (
    AmazonOrderItem,
    AmazonOrdersClient,
    AmazonPackage,
    shipping_total,
)
from crossdock.partners.errors import PartnerRejected, PartnerUnavailable, RateLimited
from crossdock.sandbox.app import create_app
from crossdock.sandbox.context import SandboxConfig, SandboxContext
from crossdock.sandbox.faults import FaultProfile
from tests.factories import NOW, line_item, order

DE = "A1PA6795UKMFR9"
_numbers = itertools.count(1)


@pytest.fixture(scope="module")
def app() -> FastAPI:
    return create_app()


@pytest.fixture
async def http(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app)) as client:
        yield client


@pytest.fixture
def amazon(http: httpx.AsyncClient) -> AmazonOrdersClient:
    return AmazonOrdersClient("http://sandbox/amazon", "Atza|test", DE, http=http)


@pytest.fixture
def order_id() -> str:
    return f"171-{next(_numbers):07d}-0000001"


async def place(http: httpx.AsyncClient, placed: Order, marketplace: str = DE) -> None:
    response = await http.post(
        "http://sandbox/amazon/_sandbox/orders",
        json=placed.model_dump(mode="json"),
        params={"marketplace_id": marketplace},
    )
    assert response.status_code == 201, response.text


def amazon_order(order_id: str, **overrides: Any) -> Order:
    return order(channel=Channel.AMAZON, channel_order_id=order_id, **overrides)


async def test_order_translates_back_into_the_contract(
    amazon: AmazonOrdersClient, http: httpx.AsyncClient, order_id: str
) -> None:
    yen = [
        line_item(sku="KNIFE", unit_price=Money(amount=14000, currency="JPY"), quantity=1),
        line_item(sku="TEA", unit_price=Money(amount=3200, currency="JPY"), quantity=3),
    ]
    placed = amazon_order(
        order_id, currency="JPY", items=yen, shipping=Money(amount=1800, currency="JPY")
    )
    await place(http, placed)

    got = await amazon.get_order(order_id)
    items = await amazon.get_order_items(order_id)

    assert got.order_status == "Unshipped"
    assert got.ship_to() == placed.ship_to
    assert got.buyer() == placed.buyer
    assert got.total() == placed.order_total
    assert (got.purchase_date, got.latest_ship_date, got.latest_delivery_date) == (
        placed.placed_at,
        placed.ship_by,
        placed.deliver_by,
    )
    assert [(i.seller_sku, i.quantity_ordered, i.unit_price()) for i in items] == [
        (line.sku, line.quantity, line.unit_price) for line in placed.items
    ]
    assert shipping_total(items, got.currency) == placed.shipping
    assert all(i.order_item_id and i.title for i in items)


async def test_get_orders_pages_through_with_next_token(
    amazon: AmazonOrdersClient, http: httpx.AsyncClient
) -> None:
    market = "ACLIENTPAGES"
    client = AmazonOrdersClient("http://sandbox/amazon", "Atza|test", market, http=http)
    ids = [f"171-9{n:06d}-0000001" for n in range(5)]
    for n, order_id in enumerate(ids):
        await place(http, amazon_order(order_id, placed_at=NOW + timedelta(hours=n)), market)

    seen: list[str] = []
    page = await client.get_orders(NOW + timedelta(hours=1), max_results_per_page=2)
    seen += [o.amazon_order_id for o in page.orders]
    while page.next_token:
        page = await client.get_orders(NOW, next_token=page.next_token)
        seen += [o.amazon_order_id for o in page.orders]
    assert seen == ids[1:]


async def test_get_order_items_follows_every_page(
    amazon: AmazonOrdersClient, http: httpx.AsyncClient, order_id: str
) -> None:
    await place(http, amazon_order(order_id, items=[line_item(sku=f"S{n}") for n in range(23)]))
    items = await amazon.get_order_items(order_id)
    assert [i.seller_sku for i in items] == [f"S{n}" for n in range(23)]


async def test_confirm_shipment_is_safe_to_repeat(
    amazon: AmazonOrdersClient, http: httpx.AsyncClient, app: FastAPI, order_id: str
) -> None:
    await place(http, amazon_order(order_id))
    (item,) = await amazon.get_order_items(order_id)
    package = AmazonPackage(
        package_reference_id="1",
        carrier_code="DHL",
        tracking_number="JD0146000001",
        ship_date=NOW + timedelta(days=1),
        order_items=[(item.order_item_id, item.quantity_ordered)],
    )
    await amazon.confirm_shipment(order_id, package)
    await amazon.confirm_shipment(order_id, package)  # a retried activity
    assert (await amazon.get_order(order_id)).order_status == "Shipped"
    ctx: SandboxContext = app.state.sandbox
    assert len(ctx.ledger.entries(partner="amazon", reference=order_id)) == 1


async def test_refusals_are_rejections_with_sp_api_codes(
    amazon: AmazonOrdersClient, http: httpx.AsyncClient, order_id: str
) -> None:
    await place(http, amazon_order(order_id))
    package = AmazonPackage(
        package_reference_id="1",
        carrier_code="DHL",
        tracking_number="JD1",
        ship_date=NOW,
        order_items=[("00000000000000", 1)],
    )
    with pytest.raises(PartnerRejected) as refused:
        await amazon.confirm_shipment(order_id, package)
    assert (refused.value.status, refused.value.code) == (400, "InvalidInput")
    assert "orderItems[0].orderItemId" in refused.value.message

    with pytest.raises(PartnerRejected) as missing:
        await amazon.get_order("000-0000000-0000000")
    assert (missing.value.status, missing.value.code) == (404, "NotFound")


async def test_missing_token_is_a_rejection(http: httpx.AsyncClient) -> None:
    client = AmazonOrdersClient("http://sandbox/amazon", "", DE, http=http)
    with pytest.raises(PartnerRejected) as refused:
        await client.get_orders(NOW)
    assert (refused.value.status, refused.value.code) == (403, "Unauthorized")


@pytest.mark.parametrize(
    ("faults", "error"),
    [
        (FaultProfile.everywhere(error_rate=1.0), PartnerUnavailable),
        (FaultProfile.everywhere(rate_limit_per_second=0.01, burst=1), RateLimited),
    ],
)
async def test_outages_and_throttling_are_retryable(
    faults: FaultProfile, error: type[Exception]
) -> None:
    app = create_app(SandboxConfig(faults=faults))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app)) as http:
        client = AmazonOrdersClient("http://sandbox/amazon", "Atza|test", DE, http=http)
        with pytest.raises(error) as failed:
            for _ in range(2):  # the token bucket lets the first request through
                await client.get_orders(NOW)
    assert getattr(failed.value, "retryable", False)
    if isinstance(failed.value, RateLimited):
        assert failed.value.retry_after is not None and failed.value.retry_after >= 1


def test_unit_price_refuses_an_uneven_split() -> None:
    item = AmazonOrderItem.model_validate(
        {
            "OrderItemId": "1",
            "ASIN": "B0TEST",
            "QuantityOrdered": 3,
            "ItemPrice": {"CurrencyCode": "EUR", "Amount": "10.00"},
        }
    )
    with pytest.raises(ValueError, match="does not divide evenly"):
        item.unit_price()


def test_package_reference_must_be_a_positive_number() -> None:
    with pytest.raises(ValueError, match="package_reference_id"):
        AmazonPackage(
            package_reference_id="pkg-1",
            carrier_code="DHL",
            tracking_number="1",
            ship_date=NOW,
            order_items=[("1", 1)],
        )
