"""Amazon sandbox, Feeds API: the order acknowledgement feed cancels items or orders, in
Amazon's shapes (feed document, presigned upload, feed, XML processing report)."""

from __future__ import annotations

import itertools
import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from crossdock.models.order import Channel
from crossdock.partners.amazon_feeds import order_acknowledgement, read_processing_report
from crossdock.sandbox.app import create_app
from crossdock.sandbox.context import SandboxContext
from tests.factories import line_item, order

AUTH = {"x-amz-access-token": "Atza|test"}
FEEDS = "/amazon/feeds/2021-06-30"
XML = "text/xml; charset=UTF-8"
_numbers = itertools.count(1)


@pytest.fixture(scope="module")
def app() -> FastAPI:
    return create_app()


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://sandbox") as http:
        yield http


async def place(client: httpx.AsyncClient) -> tuple[str, list[str]]:
    """An order of two items on Amazon: (AmazonOrderId, OrderItemIds)."""
    placed = order(
        channel=Channel.AMAZON,
        channel_order_id=f"307-{next(_numbers):07d}-3333333",
        items=[line_item(), line_item(sku="TEE-ORGANIC-M", title="T-shirt", quantity=1)],
    )
    response = await client.post("/amazon/_sandbox/orders", json=placed.model_dump(mode="json"))
    return placed.channel_order_id, [i["OrderItemId"] for i in response.json()["OrderItems"]]


async def submit(client: httpx.AsyncClient, content: bytes) -> dict[str, Any]:
    """The three calls of a feed submission, then getFeed."""
    document = await client.post(f"{FEEDS}/documents", json={"contentType": XML}, headers=AUTH)
    assert document.status_code == 201, document.text
    url = document.json()["url"]
    uploaded = await client.put(url, content=content, headers={"Content-Type": XML})
    assert uploaded.status_code == 200, uploaded.text
    body = {
        "feedType": "POST_ORDER_ACKNOWLEDGEMENT_DATA",
        "marketplaceIds": ["A1PA6795UKMFR9"],
        "inputFeedDocumentId": document.json()["feedDocumentId"],
    }
    created = await client.post(f"{FEEDS}/feeds", json=body, headers=AUTH)
    assert created.status_code == 202, created.text
    feed = await client.get(f"{FEEDS}/feeds/{created.json()['feedId']}", headers=AUTH)
    return dict(feed.json())


async def report(client: httpx.AsyncClient, feed: dict[str, Any]) -> bytes:
    document = await client.get(f"{FEEDS}/documents/{feed['resultFeedDocumentId']}", headers=AUTH)
    return (await client.get(document.json()["url"])).content


async def status(client: httpx.AsyncClient, order_id: str) -> str:
    response = await client.get(f"/amazon/orders/v0/orders/{order_id}", headers=AUTH)
    return str(response.json()["payload"]["OrderStatus"])


def cancellations(app: FastAPI, order_id: str) -> list[Any]:
    ctx: SandboxContext = app.state.sandbox
    return ctx.ledger.entries(partner="amazon", kind="seller_cancellation", reference=order_id)


class TestOrderAcknowledgement:
    async def test_every_item_failed_cancels_the_order(
        self, app: FastAPI, client: httpx.AsyncClient
    ) -> None:
        order_id, items = await place(client)
        feed = await submit(
            client, order_acknowledgement(order_id, dict.fromkeys(items, "NoInventory"))
        )

        assert feed["processingStatus"] == "DONE"
        assert feed["feedType"] == "POST_ORDER_ACKNOWLEDGEMENT_DATA"
        content = await report(client, feed)
        summary = ET.fromstring(content).find("Message/ProcessingReport/ProcessingSummary")
        assert summary is not None
        assert (summary.findtext("MessagesProcessed"), summary.findtext("MessagesWithError")) == (
            "1",
            "0",
        )
        assert read_processing_report(content) == []
        assert await status(client, order_id) == "Canceled"
        assert len(cancellations(app, order_id)) == 2

    async def test_one_item_failed_leaves_the_rest_to_ship(
        self, app: FastAPI, client: httpx.AsyncClient
    ) -> None:
        order_id, items = await place(client)
        ack = order_acknowledgement(order_id, {items[0]: "BuyerCanceled"})

        await submit(client, ack)
        resubmitted = await report(client, await submit(client, ack))

        assert await status(client, order_id) == "Unshipped"
        [warning] = read_processing_report(resubmitted)
        assert (warning.result_code, warning.message_code) == ("Warning", "18005")
        [entry] = cancellations(app, order_id)
        assert entry.details == {
            "feed_id": entry.details["feed_id"],
            "order_item_id": items[0],
            "cancel_reason": "BuyerCanceled",
        }
        orders = await client.get(f"/amazon/orders/v0/orders/{order_id}", headers=AUTH)
        assert orders.json()["payload"]["NumberOfItemsUnshipped"] == 1  # 2 mugs canceled
        shipped = await client.post(
            f"/amazon/orders/v0/orders/{order_id}/shipmentConfirmation",
            headers=AUTH,
            json={
                "marketplaceId": "A1PA6795UKMFR9",
                "packageDetail": {
                    "packageReferenceId": "1",
                    "carrierCode": "DHL",
                    "trackingNumber": "TRK9",
                    "shipDate": "2026-01-01T00:00:00Z",
                    "orderItems": [{"orderItemId": items[0], "quantity": 2}],
                },
            },
        )
        assert shipped.status_code == 400
        assert "was canceled by the seller" in shipped.json()["errors"][0]["message"]

    @pytest.mark.parametrize(
        ("reasons", "code", "named"),
        [
            ({"ITEM": "OutOfStock"}, "18003", "Item[0]/CancelReason 'OutOfStock'"),
            ({"00000000000000": "NoInventory"}, "18002", "Item[0]/AmazonOrderItemCode"),
        ],
    )
    async def test_bad_messages_are_errors_that_change_nothing(
        self,
        app: FastAPI,
        client: httpx.AsyncClient,
        reasons: dict[str, str],
        code: str,
        named: str,
    ) -> None:
        order_id, items = await place(client)
        reasons = {(items[0] if k == "ITEM" else k): v for k, v in reasons.items()}

        feed = await submit(client, order_acknowledgement(order_id, reasons))

        [error] = read_processing_report(await report(client, feed))
        assert (error.result_code, error.message_code) == ("Error", code)
        assert error.description.startswith(named)
        assert cancellations(app, order_id) == []

    async def test_an_unknown_order_is_an_error(self, client: httpx.AsyncClient) -> None:
        feed = await submit(
            client, order_acknowledgement("999-0000000-0000000", {"1": "NoInventory"})
        )
        [error] = read_processing_report(await report(client, feed))
        assert error.message_code == "18001"


class TestFeedCalls:
    async def test_a_feed_needs_its_document_uploaded(self, client: httpx.AsyncClient) -> None:
        document = await client.post(f"{FEEDS}/documents", json={"contentType": XML}, headers=AUTH)
        body = {
            "feedType": "POST_ORDER_ACKNOWLEDGEMENT_DATA",
            "marketplaceIds": ["A1PA6795UKMFR9"],
            "inputFeedDocumentId": document.json()["feedDocumentId"],
        }
        response = await client.post(f"{FEEDS}/feeds", json=body, headers=AUTH)
        assert response.status_code == 400
        assert "upload the feed" in response.json()["errors"][0]["message"]

    async def test_other_feed_types_and_missing_tokens_are_refused(
        self, client: httpx.AsyncClient
    ) -> None:
        body = {
            "feedType": "JSON_LISTINGS_FEED",
            "marketplaceIds": ["X"],
            "inputFeedDocumentId": "d",
        }
        other = await client.post(f"{FEEDS}/feeds", json=body, headers=AUTH)
        anonymous = await client.post(f"{FEEDS}/documents", json={"contentType": XML})
        assert other.status_code == 400
        assert "feedType 'JSON_LISTINGS_FEED'" in other.json()["errors"][0]["message"]
        assert anonymous.status_code == 403

    async def test_an_upload_must_match_the_declared_content_type(
        self, client: httpx.AsyncClient
    ) -> None:
        document = await client.post(f"{FEEDS}/documents", json={"contentType": XML}, headers=AUTH)
        response = await client.put(
            document.json()["url"], content=b"{}", headers={"Content-Type": "application/json"}
        )
        assert response.status_code == 400
