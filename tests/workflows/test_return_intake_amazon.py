"""Amazon return requests become returns: the intake activity reads the sandbox's returns
report through the real client and starts `return-amazon-{rma}` against a real, delivered
OrderWorkflow (time-skipping server); a request read again starts nothing."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
import pytest
from temporalio.testing import WorkflowEnvironment

from activities.return_intake import (
    AmazonReturnRequest,
    ImportReturnRequestsInput,
    ReturnIntakeActivities,
    translate_amazon,
)
from crossdock.config import Settings
from crossdock.models.order import Channel, Order
from crossdock.models.returns import ReturnLine, ReturnReason, ReturnResult, ReturnSource
from crossdock.partners.amazon_reports import AmazonReportsClient, AmazonReturnRow
from crossdock.partners.ebay_returns import EbayReturnRequestsClient
from crossdock.sandbox.app import create_app
from starter.returns import ReturnStarter
from tests.factories import NOW, line_item, order
from tests.workflows.return_harness import ReturnHandle, ReturnPartners, delivered_order, worker
from tests.workflows.stand_ins import Partners
from workflows.returns import ReturnWorkflow

DE = "A1PA6795UKMFR9"
AUTH = {"x-amz-access-token": "Atza|test"}


def amazon_order(order_id: str) -> Order:
    return order(
        channel=Channel.AMAZON,
        channel_order_id=order_id,
        items=[line_item(), line_item(sku="BOWL-CERAMIC", quantity=1)],
    )


def row(rma: str, sku: str, quantity: int = 1, **fields: str) -> AmazonReturnRow:
    values = {"status": "Pending Authorization", "reason": "CR-DEFECTIVE"} | fields
    return AmazonReturnRow(
        order_id="302-1111111-2222222",
        rma=rma,
        requested_at=NOW,
        asin="B0TEST",
        sku=sku,
        quantity=quantity,
        **values,
    )


def test_rows_of_one_rma_are_one_request_and_ended_ones_none() -> None:
    rows = [
        row("DAAARRMA", "MUG-STONEWARE", 5),
        row("DCLOSEDRRMA", "MUG-STONEWARE", status="Closed"),
        row("DAAARRMA", "BOWL-CERAMIC"),
    ]
    [found] = AmazonReturnRequest.grouped(rows)
    request = translate_amazon(found, amazon_order("302-1111111-2222222"))
    assert request is not None
    assert request.workflow_id == "return-amazon-DAAARRMA"
    assert request.reason is ReturnReason.DAMAGED
    # Lines found by SKU, never more than was sold.
    assert request.lines == [
        ReturnLine(sku="MUG-STONEWARE", quantity=2),
        ReturnLine(sku="BOWL-CERAMIC", quantity=1),
    ]
    other = AmazonReturnRequest.grouped([row("DBBBRRMA", "NOT-SOLD-HERE")])
    assert translate_amazon(other[0], amazon_order("302-1111111-2222222")) is None


@pytest.mark.parametrize(
    ("code", "ours"),
    [
        ("CR-DAMAGED_BY_CARRIER", ReturnReason.DAMAGED),
        ("AMZ-PG-BAD-DESC", ReturnReason.NOT_AS_DESCRIBED),
        ("CR-SWITCHEROO", ReturnReason.WRONG_ITEM),
        ("CR-MISSED_ESTIMATED_DELIVERY", ReturnReason.NOT_RECEIVED),
        ("CR-UNWANTED_ITEM", ReturnReason.CHANGED_MIND),
        ("SOMETHING-NEW", ReturnReason.CHANGED_MIND),
    ],
)
def test_amazon_reasons_in_ours(code: str, ours: ReturnReason) -> None:
    [found] = AmazonReturnRequest.grouped([row("DRRMA", "MUG-STONEWARE", reason=code)])
    request = translate_amazon(found, amazon_order("302-1111111-2222222"))
    assert request is not None and request.reason is ours


@pytest.fixture
async def sandbox() -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=create_app())
    async with httpx.AsyncClient(transport=transport, base_url="http://sandbox") as http:
        yield http


async def ship_on_amazon(http: httpx.AsyncClient, placed: Order) -> None:
    created = await http.post("/amazon/_sandbox/orders", json=placed.model_dump(mode="json"))
    assert created.status_code == 201, created.text
    items = [
        {"orderItemId": i["OrderItemId"], "quantity": i["QuantityOrdered"]}
        for i in created.json()["OrderItems"]
    ]
    confirmed = await http.post(
        f"/amazon/orders/v0/orders/{placed.channel_order_id}/shipmentConfirmation",
        headers=AUTH,
        json={
            "marketplaceId": DE,
            "packageDetail": {
                "packageReferenceId": "1",
                "carrierCode": "UPS",
                "trackingNumber": "1Z999",
                "shipDate": "2026-11-03T10:00:00Z",
                "orderItems": items,
            },
        },
    )
    assert confirmed.status_code == 204, confirmed.text


async def test_a_requested_return_starts_once_and_unknown_orders_are_skipped(
    time_env: WorkflowEnvironment, task_queue: str, sandbox: httpx.AsyncClient
) -> None:
    partners, returns = Partners(), ReturnPartners()
    o = amazon_order("302-7777777-0000001")
    stranger = amazon_order("302-7777777-0000002")  # sold on Amazon, not run by Crossdock
    settings = Settings(task_queue=task_queue, _env_file=None)
    intake = ReturnIntakeActivities(
        time_env.client,
        ReturnStarter(time_env.client, settings),
        EbayReturnRequestsClient("http://127.0.0.1:9", "unused"),
        AmazonReportsClient("http://sandbox/amazon", "Atza|test", DE, sandbox, wait_seconds=0),
    )
    for placed in (o, stranger):
        await ship_on_amazon(sandbox, placed)
    async with worker(time_env, task_queue, partners, returns):
        await delivered_order(time_env, task_queue, o, returns)
        since = (await time_env.get_current_time()).replace(year=2000)  # every request
        asked = await sandbox.post(
            f"/amazon/_sandbox/orders/{o.channel_order_id}/buyer-return",
            json={"sku": "BOWL-CERAMIC", "quantity": 1, "reason": "CR-WRONG_ITEM"},
        )
        rma = asked.json()["Amazon RMA ID"]
        await sandbox.post(
            f"/amazon/_sandbox/orders/{stranger.channel_order_id}/buyer-return",
            json={"sku": "MUG-STONEWARE", "reason": "CR-DEFECTIVE"},
        )
        found = await intake.import_return_requests(
            ImportReturnRequestsInput(channel=Channel.AMAZON, created_after=since)
        )
        handle: ReturnHandle = time_env.client.get_workflow_handle(
            f"return-amazon-{rma}", result_type=ReturnResult
        )
        returns.started.append(handle)
        status = await handle.query(ReturnWorkflow.status)
        again = await intake.import_return_requests(
            ImportReturnRequestsInput(channel=Channel.AMAZON, created_after=found.cursor)
        )
    assert found.started == [rma]
    assert len(found.skipped) == 1  # the stranger's order
    assert found.cursor > since and found.cursor.tzinfo is not None
    assert status.request.source is ReturnSource.MARKETPLACE
    assert status.request.reason is ReturnReason.WRONG_ITEM
    assert status.request.lines == [ReturnLine(sku="BOWL-CERAMIC", quantity=1)]
    # Read again from the cursor (inclusive): the same RMA starts nothing.
    assert again.started == [] and rma in again.skipped
    assert again.cursor == found.cursor


async def test_other_channels_are_refused_by_name(
    time_env: WorkflowEnvironment, task_queue: str
) -> None:
    unused = "http://127.0.0.1:9"
    intake = ReturnIntakeActivities(
        time_env.client,
        ReturnStarter(time_env.client, Settings(task_queue=task_queue, _env_file=None)),
        EbayReturnRequestsClient(unused, "unused"),
        AmazonReportsClient(unused, "unused", DE),
    )
    with pytest.raises(ValueError, match="not storefront"):
        await intake.import_return_requests(
            ImportReturnRequestsInput(
                channel=Channel.STOREFRONT, created_after=NOW - timedelta(days=1)
            )
        )
