"""Storefront sandbox: Crossdock records the seller's cancellation of an order or some of
its lines (by SKU), once per Idempotency-Key, and never after the order shipped."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from crossdock.sandbox.app import create_app
from crossdock.sandbox.context import SandboxContext
from tests.factories import line_item, order

_numbers = itertools.count(1)


@pytest.fixture(scope="module")
def app() -> FastAPI:
    return create_app()


@pytest.fixture
async def shop(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://sandbox/storefront") as http:
        yield http


async def checkout(shop: httpx.AsyncClient) -> str:
    placed = order(
        channel_order_id=f"SF7{next(_numbers):07d}",
        items=[line_item(line_id=""), line_item(sku="TEE-ORGANIC-M", line_id="", quantity=1)],
    )
    response = await shop.post("/checkout", json=placed.model_dump(mode="json"))
    assert response.status_code == 201, response.text
    return placed.channel_order_id


async def cancel(shop: httpx.AsyncClient, order_id: str, key: str, *skus: str) -> httpx.Response:
    return await shop.post(
        f"/orders/{order_id}/cancellations",
        json={"reason": "out_of_stock", "skus": list(skus)},
        headers={"Idempotency-Key": key},
    )


async def summary(shop: httpx.AsyncClient, order_id: str) -> dict[str, Any]:
    orders = (await shop.get("/_sandbox/orders")).json()["orders"]
    return dict(next(o for o in orders if o["order_id"] == order_id))


def ledger(app: FastAPI, order_id: str) -> list[Any]:
    ctx: SandboxContext = app.state.sandbox
    return ctx.ledger.entries(partner="storefront", kind="cancellation", reference=order_id)


async def test_a_line_then_the_order_are_cancelled_once_per_key(
    app: FastAPI, shop: httpx.AsyncClient
) -> None:
    order_id = await checkout(shop)

    line = await cancel(shop, order_id, f"{order_id}/cancel-1", "TEE-ORGANIC-M")
    replay = await cancel(shop, order_id, f"{order_id}/cancel-1", "TEE-ORGANIC-M")
    assert (await summary(shop, order_id))["status"] == "partially_cancelled"
    whole = await cancel(shop, order_id, f"{order_id}/cancel-2")
    twice = await cancel(shop, order_id, f"{order_id}/cancel-3")

    assert line.status_code == 201 and replay.json() == line.json()
    assert replay.headers["Idempotent-Replayed"] == "true"
    assert (line.json()["status"], whole.json()["status"]) == ("partially_cancelled", "cancelled")
    assert twice.status_code == 201  # harmless, and no second effect
    assert [entry.details["skus"] for entry in ledger(app, order_id)] == [
        ["TEE-ORGANIC-M"],
        ["MUG-STONEWARE"],
    ]
    assert (await summary(shop, order_id))["cancelled_skus"] == ["MUG-STONEWARE", "TEE-ORGANIC-M"]
    shipped = await shop.post(
        f"/orders/{order_id}/fulfillments",
        json={"tracking_number": "T1", "carrier": "DHL", "shipped_at": "2026-01-01T00:00:00Z"},
    )
    assert (shipped.status_code, shipped.json()["error"]["code"]) == (400, "order_cancelled")


async def test_an_unknown_sku_is_refused_by_field(shop: httpx.AsyncClient) -> None:
    order_id = await checkout(shop)
    response = await cancel(shop, order_id, f"{order_id}/c", "MUG-STONEWARE", "NOPE")
    assert response.status_code == 422
    assert response.json()["error"]["field"] == "skus[1]"


async def test_a_shipped_order_cannot_be_cancelled(shop: httpx.AsyncClient) -> None:
    order_id = await checkout(shop)
    await shop.post(
        f"/orders/{order_id}/fulfillments",
        json={"tracking_number": "T2", "carrier": "DHL", "shipped_at": "2026-01-01T00:00:00Z"},
    )
    response = await cancel(shop, order_id, f"{order_id}/c")
    assert (response.status_code, response.json()["error"]["code"]) == (400, "already_shipped")


async def test_an_unknown_order_is_not_found(shop: httpx.AsyncClient) -> None:
    response = await cancel(shop, "SF-NOPE", "k")
    assert (response.status_code, response.json()["error"]["field"]) == (404, "order_id")
