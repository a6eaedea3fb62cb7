"""eBay Post-Order sandbox: buyers' cancellation requests, Search Cancellations, approve and
reject, and how they show on the Fulfillment API's order."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from crossdock.models.order import Channel
from crossdock.sandbox.app import create_app
from crossdock.sandbox.context import SandboxContext
from tests.factories import NOW, order

IAF = {"Authorization": "IAF v^1.1#test"}
BEARER = {"Authorization": "Bearer v^1.1#test"}
CANCELLATION = "/ebay/post-order/v2/cancellation"
FULFILLMENT = "/ebay/sell/fulfillment/v1"
_numbers = itertools.count(1)


@pytest.fixture(scope="module")
def app() -> FastAPI:
    return create_app()


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://sandbox") as http:
        yield http


def ledger(app: FastAPI, kind: str, reference: str) -> list[Any]:
    ctx: SandboxContext = app.state.sandbox
    return ctx.ledger.entries(partner="ebay", kind=kind, reference=reference)


async def place(client: httpx.AsyncClient, **overrides: Any) -> str:
    placed = order(
        channel=Channel.EBAY, channel_order_id=f"14-{next(_numbers):05d}-22222", **overrides
    )
    response = await client.post("/ebay/_sandbox/orders", json=placed.model_dump(mode="json"))
    assert response.status_code == 201, response.text
    return placed.channel_order_id


async def ask(
    client: httpx.AsyncClient, order_id: str, reason: str = "ORDER_MISTAKE", **extra: Any
) -> httpx.Response:
    return await client.post(
        f"/ebay/_sandbox/orders/{order_id}/buyer-cancel", json={"reason": reason, **extra}
    )


async def asked(client: httpx.AsyncClient, order_id: str, **extra: Any) -> dict[str, Any]:
    response = await ask(client, order_id, **extra)
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def ship(client: httpx.AsyncClient, order_id: str, shipped: str) -> None:
    got = (await client.get(f"{FULFILLMENT}/order/{order_id}", headers=BEARER)).json()
    lines = [{"lineItemId": line["lineItemId"]} for line in got["lineItems"]]
    response = await client.post(
        f"{FULFILLMENT}/order/{order_id}/shipping_fulfillment",
        json={
            "lineItems": lines,
            "shippedDate": shipped,
            "shippingCarrierCode": "DHL",
            "trackingNumber": f"TRK{order_id.replace('-', '')}",
        },
        headers=BEARER,
    )
    assert response.status_code == 201, response.text


async def search(client: httpx.AsyncClient, **params: Any) -> dict[str, Any]:
    response = await client.get(f"{CANCELLATION}/search", params=params, headers=IAF)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def error_message(response: httpx.Response) -> str:
    # Post-Order's own container, not the Sell APIs' {"errors": [...]}
    error = response.json()["errorMessage"]["error"][0]
    return f"{error['message']} {error.get('parameter', '')}"


class TestBuyerRequest:
    async def test_request_in_post_order_names(self, client: httpx.AsyncClient) -> None:
        order_id = await place(client)
        body = await asked(client, order_id, reason="FOUND_CHEAPER_PRICE")
        assert body["cancelId"].isdigit()
        assert body["legacyOrderId"] == order_id
        assert (body["cancelState"], body["cancelStatus"]) == (
            "APPROVAL_PENDING",
            "CANCEL_REQUESTED",
        )
        assert (body["cancelReason"], body["requestorType"]) == ("FOUND_CHEAPER_PRICE", "BUYER")
        assert body["cancelRequestDate"]["value"].endswith("Z")
        assert "sellerResponseDueDate" in body and "cancelCloseDate" not in body

    async def test_asking_again_returns_the_open_request(self, client: httpx.AsyncClient) -> None:
        order_id = await place(client)
        first = await asked(client, order_id)
        again = await ask(client, order_id)
        assert again.status_code == 200
        assert again.json()["cancelId"] == first["cancelId"]

    async def test_order_shows_the_request_in_get_order_only(
        self, client: httpx.AsyncClient
    ) -> None:
        order_id = await place(client)
        cancel_id = (await asked(client, order_id))["cancelId"]
        got = (await client.get(f"{FULFILLMENT}/order/{order_id}", headers=BEARER)).json()
        assert got["cancelStatus"]["cancelState"] == "IN_PROGRESS"
        assert got["cancelStatus"]["cancelRequests"][0]["cancelRequestId"] == cancel_id
        listed = await client.get(
            f"{FULFILLMENT}/order", params={"orderIds": order_id}, headers=BEARER
        )
        assert listed.json()["orders"][0]["cancelStatus"]["cancelRequests"] == []

    @pytest.mark.parametrize(
        ("extra", "named"),
        [
            ({"reason": "OUT_OF_STOCK"}, "cancelReason"),
            ({"requestDate": "2026-11-01T00:00:00Z"}, "requestDate"),  # before the purchase
        ],
    )
    async def test_bad_requests_are_named(
        self, client: httpx.AsyncClient, extra: dict[str, Any], named: str
    ) -> None:
        order_id = await place(client)
        response = await ask(client, order_id, **extra)
        assert response.status_code == 400
        assert named in error_message(response)

    async def test_shipped_orders_take_requests_made_before_the_shipment_only(
        self, client: httpx.AsyncClient
    ) -> None:
        order_id = await place(client)
        await ship(client, order_id, "2026-11-02T12:00:00.000Z")
        refused = await ask(client, order_id)
        assert refused.status_code == 400
        assert "return" in error_message(refused)
        # The buyer asked at 11:00; the seller's shipment reached eBay after that.
        late = await asked(client, order_id, requestDate="2026-11-02T11:00:00.000Z")
        assert late["cancelRequestDate"]["value"] == "2026-11-02T11:00:00.000Z"


class TestSearch:
    async def test_window_sort_and_numbered_pages(self, client: httpx.AsyncClient) -> None:
        # Orders of their own, a month back, so other tests' requests stay out of the window.
        start = NOW - timedelta(days=30)
        ids = [await place(client, placed_at=start + timedelta(hours=n)) for n in range(3)]
        for n, order_id in reversed(list(enumerate(ids))):  # requested out of order
            when = start + timedelta(hours=n, minutes=10)
            await asked(client, order_id, requestDate=when.isoformat())
        window = {
            "creation_date_range_from": start.isoformat(),
            "creation_date_range_to": (start + timedelta(hours=5)).isoformat(),
        }
        first = await search(client, **window, limit=2)
        second = await search(client, **window, limit=2, offset=2)
        found = [c["legacyOrderId"] for c in first["cancellations"] + second["cancellations"]]
        assert found == ids
        assert first["paginationOutput"] == {
            "limit": 2,
            "offset": 1,
            "totalEntries": 3,
            "totalPages": 2,
        }
        newest_first = await search(client, **window, sort="-CANCEL_REQUEST_DATE")
        assert [c["legacyOrderId"] for c in newest_first["cancellations"]] == ids[::-1]

    async def test_by_cancel_id_and_by_order(self, client: httpx.AsyncClient) -> None:
        order_id = await place(client)
        cancel_id = (await asked(client, order_id))["cancelId"]
        by_id = await search(client, cancel_id=cancel_id, legacy_order_id="ignored")
        assert [c["cancelId"] for c in by_id["cancellations"]] == [cancel_id]
        by_order = await search(client, legacy_order_id=order_id)
        assert [c["cancelId"] for c in by_order["cancellations"]] == [cancel_id]
        none = await search(client, cancel_id="5999999999")
        assert none == {"cancellations": [], "total": 0}

    @pytest.mark.parametrize(
        ("params", "named"),
        [
            ({"creation_date_range_from": "yesterday"}, "creation_date_range_from"),
            ({"creation_date_range_from": "2020-01-01T00:00:00Z"}, "18 months"),
            (
                {
                    "creation_date_range_from": "2026-11-02T00:00:00Z",
                    "creation_date_range_to": "2026-11-01T00:00:00Z",
                },
                "creation_date_range_to",
            ),
            ({"limit": "500"}, "limit"),
            ({"offset": "0"}, "offset"),
            ({"sort": "PRICE"}, "sort"),
        ],
    )
    async def test_bad_parameters_are_named(
        self, client: httpx.AsyncClient, params: dict[str, str], named: str
    ) -> None:
        response = await client.get(f"{CANCELLATION}/search", params=params, headers=IAF)
        assert response.status_code == 400
        assert named in error_message(response)

    async def test_needs_an_iaf_or_token_authorization(self, client: httpx.AsyncClient) -> None:
        for headers in ({}, BEARER):
            response = await client.get(f"{CANCELLATION}/search", headers=headers)
            assert response.status_code == 401
        token = await client.get(f"{CANCELLATION}/search", headers={"Authorization": "TOKEN t"})
        assert token.status_code == 200


class TestSellerAnswer:
    async def test_approval_cancels_and_refunds_the_order(
        self, client: httpx.AsyncClient, app: FastAPI
    ) -> None:
        order_id = await place(client)
        cancel_id = (await asked(client, order_id))["cancelId"]
        approved = await client.post(f"{CANCELLATION}/{cancel_id}/approve", headers=IAF)
        assert (approved.status_code, approved.content) == (200, b"")
        found = (await search(client, cancel_id=cancel_id))["cancellations"][0]
        assert (found["cancelState"], found["cancelStatus"]) == (
            "CLOSED",
            "CANCEL_CLOSED_WITH_REFUND",
        )
        got = (await client.get(f"{FULFILLMENT}/order/{order_id}", headers=BEARER)).json()
        assert (got["cancelStatus"]["cancelState"], got["orderPaymentStatus"]) == (
            "CANCELED",
            "FULLY_REFUNDED",
        )
        assert got["cancelStatus"]["cancelRequests"][0]["cancelRequestState"] == "COMPLETED"
        assert [e.details["order"] for e in ledger(app, "cancellation_approved", cancel_id)] == [
            order_id
        ]

    async def test_a_closed_request_takes_no_second_answer(
        self, client: httpx.AsyncClient, app: FastAPI
    ) -> None:
        order_id = await place(client)
        cancel_id = (await asked(client, order_id))["cancelId"]
        await client.post(f"{CANCELLATION}/{cancel_id}/approve", headers=IAF)
        for verb, body in (("approve", None), ("reject", {})):
            again = await client.post(f"{CANCELLATION}/{cancel_id}/{verb}", json=body, headers=IAF)
            assert again.status_code == 400
            assert "CLOSED" in error_message(again)
        assert len(ledger(app, "cancellation_approved", cancel_id)) == 1

    async def test_rejection_records_the_shipment(
        self, client: httpx.AsyncClient, app: FastAPI
    ) -> None:
        order_id = await place(client)
        cancel_id = (await asked(client, order_id))["cancelId"]
        await ship(client, order_id, "2026-11-02T12:00:00.000Z")
        cannot = await client.post(f"{CANCELLATION}/{cancel_id}/approve", headers=IAF)
        assert cannot.status_code == 400
        assert "reject" in error_message(cannot)
        body = {"shipmentDate": {"value": "2026-11-02T12:00:00.000Z"}, "trackingNumber": "TRK1"}
        rejected = await client.post(f"{CANCELLATION}/{cancel_id}/reject", json=body, headers=IAF)
        assert rejected.status_code == 200
        found = (await search(client, cancel_id=cancel_id))["cancellations"][0]
        assert found["cancelStatus"] == "CANCEL_REJECTED"
        assert found["shipmentDate"]["value"] == "2026-11-02T12:00:00.000Z"
        got = (await client.get(f"{FULFILLMENT}/order/{order_id}", headers=BEARER)).json()
        assert got["cancelStatus"]["cancelState"] == "NONE_REQUESTED"
        assert got["cancelStatus"]["cancelRequests"][0]["cancelRequestState"] == "REJECTED"
        [entry] = ledger(app, "cancellation_rejected", cancel_id)
        assert entry.details["tracking_number"] == "TRK1"

    async def test_reject_needs_a_body_and_unknown_ids_are_404(
        self, client: httpx.AsyncClient
    ) -> None:
        order_id = await place(client)
        cancel_id = (await asked(client, order_id))["cancelId"]
        no_body = await client.post(f"{CANCELLATION}/{cancel_id}/reject", headers=IAF)
        assert no_body.status_code == 400
        unknown = await client.post(f"{CANCELLATION}/5999999999/approve", headers=IAF)
        assert unknown.status_code == 404
        assert "5999999999" in error_message(unknown)
