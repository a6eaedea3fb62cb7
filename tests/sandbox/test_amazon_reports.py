"""Amazon buyers' return requests and the returns report (Reports API 2021-06-30) in the
sandbox, read through the real `AmazonReportsClient`."""

from __future__ import annotations

import asyncio
import gzip
import itertools
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from crossdock.models.order import Channel
from crossdock.partners.amazon_reports import AmazonReportsClient, read_returns_report
from crossdock.partners.errors import PartnerUnavailable
from crossdock.sandbox.app import create_app
from crossdock.sandbox.context import SandboxContext
from tests.factories import line_item, order

AUTH = {"x-amz-access-token": "Atza|test"}
DE = "A1PA6795UKMFR9"
REPORTS = "/amazon/reports/2021-06-30"
_numbers = itertools.count(1)


@pytest.fixture(scope="module")
def app() -> FastAPI:
    return create_app()


@pytest.fixture
async def http(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://sandbox") as client:
        yield client


@pytest.fixture
def reports(http: httpx.AsyncClient) -> AmazonReportsClient:
    return AmazonReportsClient("http://sandbox/amazon", "Atza|test", DE, http, wait_seconds=0)


async def shipped_order(http: httpx.AsyncClient, ship: int = 2) -> str:
    """A two-item order (2 mugs, 1 bowl) with `ship` mugs and the bowl shipped."""
    order_id = f"305-{next(_numbers):07d}-1111111"
    placed = order(
        channel=Channel.AMAZON,
        channel_order_id=order_id,
        items=[line_item(), line_item(sku="BOWL-CERAMIC", quantity=1)],
    )
    created = await http.post("/amazon/_sandbox/orders", json=placed.model_dump(mode="json"))
    assert created.status_code == 201, created.text
    mug, bowl = (item["OrderItemId"] for item in created.json()["OrderItems"])
    confirmed = await http.post(
        f"/amazon/orders/v0/orders/{order_id}/shipmentConfirmation",
        headers=AUTH,
        json={
            "marketplaceId": DE,
            "packageDetail": {
                "packageReferenceId": "1",
                "carrierCode": "UPS",
                "trackingNumber": "1Z999",
                "shipDate": "2026-11-03T10:00:00Z",
                "orderItems": [
                    {"orderItemId": mug, "quantity": ship},
                    {"orderItemId": bowl, "quantity": 1},
                ],
            },
        },
    )
    assert confirmed.status_code == 204, confirmed.text
    return order_id


async def ask(
    http: httpx.AsyncClient, order_id: str, sku: str = "MUG-STONEWARE", **body: Any
) -> httpx.Response:
    payload = {"sku": sku, "quantity": 1, "reason": "CR-DEFECTIVE"} | body
    return await http.post(f"/amazon/_sandbox/orders/{order_id}/buyer-return", json=payload)


class TestBuyerReturn:
    async def test_a_request_is_an_rma_and_a_ledger_entry(
        self, http: httpx.AsyncClient, app: FastAPI
    ) -> None:
        order_id = await shipped_order(http)
        asked = await ask(http, order_id, quantity=2)
        assert asked.status_code == 201, asked.text
        row = asked.json()
        assert row["Order ID"] == order_id
        assert row["Return request status"] == "Pending Authorization"
        assert row["Amazon RMA ID"].endswith("RRMA")
        assert (row["Merchant SKU"], row["Return quantity"]) == ("MUG-STONEWARE", "2")
        ctx: SandboxContext = app.state.sandbox
        [entry] = ctx.ledger.entries(partner="amazon", kind="return_requested", reference=order_id)
        assert entry.details["return_id"] == row["Amazon RMA ID"]

    async def test_only_shipped_units_not_asked_back_before(self, http: httpx.AsyncClient) -> None:
        order_id = await shipped_order(http, ship=1)
        too_many = await ask(http, order_id, quantity=2)
        assert too_many.status_code == 400
        assert "1 shipped" in too_many.json()["errors"][0]["message"]
        assert (await ask(http, order_id)).status_code == 201
        again = await ask(http, order_id)
        assert again.status_code == 400
        assert "1 asked back already" in again.json()["errors"][0]["message"]

    async def test_unknown_sku_reason_or_order_is_refused_by_name(
        self, http: httpx.AsyncClient
    ) -> None:
        order_id = await shipped_order(http)
        sku = await ask(http, order_id, sku="NOPE")
        assert sku.status_code == 400 and "'NOPE'" in sku.json()["errors"][0]["message"]
        reason = await ask(http, order_id, reason="BECAUSE")
        assert reason.status_code == 400 and "'BECAUSE'" in reason.json()["errors"][0]["message"]
        assert (await ask(http, "999-0000000-0000000")).status_code == 404


class TestReturnsReport:
    async def test_report_waits_for_done_then_lists_the_window(
        self, http: httpx.AsyncClient
    ) -> None:
        order_id = await shipped_order(http)
        start = datetime.now(UTC) - timedelta(seconds=1)
        await ask(http, order_id, sku="BOWL-CERAMIC", reason="CR-UNWANTED_ITEM")
        created = await http.post(
            f"{REPORTS}/reports",
            headers=AUTH,
            json={
                "reportType": "GET_FLAT_FILE_RETURNS_DATA_BY_RETURN_DATE",
                "marketplaceIds": [DE],
                "dataStartTime": start.strftime("%Y-%m-%dT%H:%M:%SZ"),
            },
        )
        assert created.status_code == 202, created.text
        report_id = created.json()["reportId"]
        seen = []
        for _ in range(2):
            report = (await http.get(f"{REPORTS}/reports/{report_id}", headers=AUTH)).json()
            seen.append(report["processingStatus"])
        assert seen == ["IN_PROGRESS", "DONE"]
        document = (
            await http.get(f"{REPORTS}/documents/{report['reportDocumentId']}", headers=AUTH)
        ).json()
        assert document["compressionAlgorithm"] == "GZIP"
        content = (await http.get(document["url"])).content
        header, *lines = gzip.decompress(content).decode().splitlines()
        assert header.split("\t")[:5] == [
            "Order ID",
            "Order date",
            "Return request date",
            "Return request status",
            "Amazon RMA ID",
        ]
        ours = [line for line in lines if line.startswith(order_id)]
        assert len(ours) == 1 and "\tCR-UNWANTED_ITEM\t" in ours[0]

    async def test_client_reads_rows_since_a_moment(
        self, http: httpx.AsyncClient, reports: AmazonReportsClient
    ) -> None:
        order_id = await shipped_order(http)
        await ask(http, order_id, reason="AMZ-PG-BAD-DESC")
        rows = await reports.return_requests(datetime.now(UTC) - timedelta(minutes=1))
        [row] = [r for r in rows if r.order_id == order_id]
        assert (row.sku, row.quantity, row.reason) == ("MUG-STONEWARE", 1, "AMZ-PG-BAD-DESC")
        assert row.status == "Pending Authorization"
        # A window after every request has no data: Amazon cancels such a report.
        await asyncio.sleep(1.1)  # the report's dates are whole seconds
        assert await reports.return_requests(datetime.now(UTC)) == []

    async def test_a_report_not_done_in_time_is_unavailable(self, http: httpx.AsyncClient) -> None:
        impatient = AmazonReportsClient("http://sandbox/amazon", "t", DE, http, waits=1)
        with pytest.raises(PartnerUnavailable, match="not DONE after 1 checks"):
            await impatient.return_requests(datetime.now(UTC) - timedelta(days=1))

    async def test_other_report_types_and_no_token_are_refused(
        self, http: httpx.AsyncClient
    ) -> None:
        spec = {"reportType": "GET_MERCHANT_LISTINGS_ALL_DATA", "marketplaceIds": [DE]}
        refused = await http.post(f"{REPORTS}/reports", headers=AUTH, json=spec)
        assert refused.status_code == 400
        assert "GET_MERCHANT_LISTINGS_ALL_DATA" in refused.json()["errors"][0]["message"]
        spec["reportType"] = "GET_FLAT_FILE_RETURNS_DATA_BY_RETURN_DATE"
        assert (await http.post(f"{REPORTS}/reports", json=spec)).status_code == 403


def test_report_rows_read_plain_or_gzip_and_bad_rows_are_named() -> None:
    text = (
        "Order ID\tReturn request date\tReturn request status\tAmazon RMA ID\tMerchant SKU"
        "\tReturn quantity\tReturn Reason\n"
        "302-1\t2026-11-02T09:30:00Z\tClosed\tDABCRRMA\tMUG\t2\tCR-DEFECTIVE\n"
    )
    [plain] = read_returns_report(text.encode())
    [zipped] = read_returns_report(gzip.compress(text.encode()))
    assert plain == zipped
    assert plain.requested_at == datetime(2026, 11, 2, 9, 30, tzinfo=UTC)
    assert (plain.rma, plain.quantity, plain.status) == ("DABCRRMA", 2, "Closed")
    broken = text.replace("\t2\t", "\ttwo\t")
    with pytest.raises(ValueError, match="returns report row"):
        read_returns_report(broken.encode())
