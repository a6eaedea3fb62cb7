"""End to end: buyers return delivered storefront and eBay orders. Each return is decided,
labelled by the carrier sandbox (is_return, customs info), tracked back through the
carrier's webhooks and the real TrackingRouter, inspected, and refunded exactly once
through Stripe or eBay issueRefund: the sandbox ledgers prove it. Two returns racing on
one order refund no more than was paid between them.

A rig of its own on the session's dev server (sandbox, task queue, webhook receiver):
the session `stack` cannot host it, because `test_order_flow.py` asserts that the
session sandbox's labels belong to its orders only. A buyer's eBay return request is found
by the return-request poller and refunded once too, and so is a buyer's Amazon return
request, found in Amazon's returns report.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Request
from pydantic import SecretStr
from temporalio.client import Client, WorkflowHandle
from temporalio.service import RPCError, RPCStatusCode
from temporalio.testing import WorkflowEnvironment

from crossdock.catalog import default_catalog
from crossdock.config import Settings
from crossdock.demo import DemoOrders, place
from crossdock.identity.claims import signer_for
from crossdock.models.approval import Decision, DecisionAction, Principal, Role
from crossdock.models.order import Channel, Order
from crossdock.models.order_states import OrderState
from crossdock.models.order_steps import OrderResult
from crossdock.models.return_states import ReturnState
from crossdock.models.returns import (
    InspectedLine,
    Inspection,
    InspectionVerdict,
    ReturnLine,
    ReturnReason,
    ReturnRequest,
    ReturnResult,
    ReturnSource,
    ReturnTimers,
)
from crossdock.partners.carrier import CarrierClient
from crossdock.partners.clients import PartnerClients
from crossdock.partners.translate import from_amazon, from_ebay
from crossdock.policies.suppliers import SUPPLIERS
from crossdock.sandbox.app import create_app
from crossdock.sandbox.context import SandboxConfig
from crossdock.temporal import with_claim_binding
from starter.orders import start_order
from starter.returns import start_return
from starter.tracking import TrackingRouter
from tests.integration.conftest import Stack
from tests.servers import free_port, sandbox_urls, serve
from worker import build_worker
from workflows.order import OrderWorkflow
from workflows.return_intake import ReturnPollInput, ReturnRequestPollWorkflow
from workflows.returns import ReturnWorkflow

TASK_QUEUE = "returns"
WAREHOUSE_OPS = Principal(id="ops-21", role=Role.OPERATOR)
FINANCE = Principal(id="fin-4", role=Role.FINANCE)
TIMERS = ReturnTimers(
    decision_remind_seconds=20,
    decision_escalate_seconds=40,
    decision_expire_seconds=120,
    ship_back_seconds=60,
    refund_check_seconds=0.5,
    refund_checks=20,
)
ReturnHandle = WorkflowHandle[ReturnWorkflow, ReturnResult]


def webhook_receiver(client: Client, carrier_url: str) -> FastAPI:
    """Only intake's carrier webhook, on the real TrackingRouter (no pollers: the
    session's intake owns those)."""
    app = FastAPI()
    router = TrackingRouter(client, CarrierClient(carrier_url, "EZTK_test"))

    @app.post("/webhooks/easypost")
    async def carrier_webhook(request: Request) -> dict[str, str]:
        return {"workflow_id": await router.deliver(await request.json())}

    return app


@pytest.fixture(scope="module")
async def rig(dev_env: WorkflowEnvironment, codec_keys: SecretStr) -> AsyncIterator[Stack]:
    port, hooks = free_port(), free_port()
    sandbox = f"http://127.0.0.1:{port}"
    settings = Settings(
        codec_keys=codec_keys,
        temporal_address=dev_env.client.service_client.config.target_host,
        task_queue=TASK_QUEUE,
        sandbox_port=port,
        **sandbox_urls(sandbox),
        # Long enough for the returns to be opened while the orders wait out the window.
        return_window_seconds=120.0,
        poll_interval_seconds=0.5,
        customs_poll_seconds=0.5,
        return_timers=TIMERS,
        _env_file=None,
    )
    config = SandboxConfig(
        tracking_step_seconds=0.3,
        carrier_webhook_url=f"http://127.0.0.1:{hooks}/webhooks/easypost",
        seed=13,
    )
    partners = PartnerClients.from_settings(settings)
    with (
        serve(create_app(config), port),
        serve(webhook_receiver(dev_env.client, f"{sandbox}/easypost"), hooks),
    ):
        async with (
            build_worker(with_claim_binding(dev_env.client, settings), settings, partners),
            httpx.AsyncClient(base_url=sandbox, timeout=10) as http,
        ):
            yield Stack(
                client=with_claim_binding(dev_env.client, settings), settings=settings, sandbox=http
            )
            await close_rig_workflows(with_claim_binding(dev_env.client, settings))
    await partners.aclose()


async def close_rig_workflows(client: Client) -> None:
    query = f'TaskQueue="{TASK_QUEUE}" AND ExecutionStatus="Running"'
    async for execution in client.list_workflows(query):
        with contextlib.suppress(Exception):
            await client.get_workflow_handle(execution.id).terminate("test rig closing")


async def delivered(stack: Stack, partners: PartnerClients, placed: Order) -> Order:
    """Place the order and run it to delivery, as intake would (eBay orders are read back
    and translated like the poller does, with eBay's line item ids)."""
    await place(stack.sandbox, placed)
    order = placed
    if placed.channel is Channel.EBAY:
        listed = await partners.ebay.get_order(placed.channel_order_id)
        order = from_ebay(listed, default_catalog())
    elif placed.channel is Channel.AMAZON:
        amazon = await partners.amazon.get_order(placed.channel_order_id)
        items = await partners.amazon.get_order_items(placed.channel_order_id)
        order = from_amazon(amazon, items, default_catalog())
    assert await start_order(stack.client, order, stack.settings)
    handle = stack.client.get_workflow_handle(order.workflow_id, result_type=OrderResult)
    for _ in range(600):
        status = await handle.query(OrderWorkflow.status)
        if status.state == OrderState.DELIVERED:
            return order
        assert status.state != OrderState.CANCELLED, status.reason
        await asyncio.sleep(0.2)
    raise AssertionError(f"{order.workflow_id} never delivered: {status.state}")
    return order


# The sandbox warehouse keeps these short (crossdock/data/warehouse_stock.json): orders of
# them may wait for a restock, which is not what this test is about.
SHORT = {"HEADPHONES-BT", "KNIFE-SANTOKU", "ATLAS-WORLD"}


def in_stock(demo: DemoOrders, channel: Channel) -> Order:
    while True:
        order = demo.next(channel=channel)
        if not SHORT & {item.sku for item in order.items}:
            return order


def whole(order: Order, rma: str, reason: ReturnReason) -> ReturnRequest:
    return ReturnRequest(
        channel=order.channel,
        rma=rma,
        order_id=order.workflow_id,
        lines=[ReturnLine(sku=item.sku, quantity=item.quantity) for item in order.items],
        reason=reason,
        source=ReturnSource.MARKETPLACE,
        requested_at=datetime.now(UTC),
    )


async def see_through(stack: Stack, handle: ReturnHandle, request: ReturnRequest) -> ReturnResult:
    """Act as the operators would until the return ends: approve with a label if it
    waits for a decision, inspect the parcel once it is back."""
    for _ in range(900):
        status = await handle.query(ReturnWorkflow.status)
        pending = status.approvals[-1] if status.approvals else None
        if pending is not None and pending.pending:
            await handle.execute_update(
                ReturnWorkflow.decide,
                Decision(
                    key=pending.request.key,
                    action=DecisionAction.APPROVE,
                    option=pending.request.options[0] if pending.request.options else "",
                    by=signer_for(stack.settings).sign(FINANCE, handle.id),
                    reason="integration",
                ),
            )
        elif status.state == ReturnState.RECEIVED and status.inspection is None:
            lines = [
                InspectedLine(sku=line.sku, verdict=InspectionVerdict.ACCEPTED)
                for line in request.lines
            ]
            await handle.execute_update(
                ReturnWorkflow.inspect,
                Inspection(
                    lines=lines, by=signer_for(stack.settings).sign(WAREHOUSE_OPS, handle.id)
                ),
            )
        elif status.state in (ReturnState.REFUNDED, ReturnState.CLOSED, ReturnState.DECLINED):
            return await handle.result()
        await asyncio.sleep(0.2)
    raise AssertionError(f"{handle.id} did not finish: {status.state}")


async def ledger(stack: Stack, partner: str, kind: str) -> list[dict[str, Any]]:
    response = await stack.sandbox.get(
        "/_sandbox/ledger", params={"partner": partner, "kind": kind}
    )
    response.raise_for_status()
    entries: list[dict[str, Any]] = response.json()
    return entries


async def test_returns_of_delivered_orders_are_refunded_exactly_once(rig: Stack) -> None:
    demo = DemoOrders(seed=404, decline_rate=0.0, review_rate=0.0)
    channels = (Channel.STOREFRONT, Channel.EBAY, Channel.AMAZON)
    placed = [in_stock(demo, c) for c in channels for _ in range(2)]
    partners = PartnerClients.from_settings(rig.settings)
    try:
        orders = await asyncio.gather(*(delivered(rig, partners, o) for o in placed))
    finally:
        await partners.aclose()
    requests = [
        whole(o, f"RMA-IT-{n}", ReturnReason.NOT_AS_DESCRIBED) for n, o in enumerate(orders)
    ]
    # A second return of the first order races the first: both cannot be refunded.
    requests.append(whole(orders[0], "RMA-IT-RACE", ReturnReason.NOT_AS_DESCRIBED))
    handles = []
    for request in requests:
        handle = await start_return(rig.client, rig.settings, request, TIMERS)
        assert handle is not None
        handles.append(handle)
    # A second sighting of the same RMA starts nothing.
    assert await start_return(rig.client, rig.settings, requests[1], TIMERS) is None
    results = await asyncio.wait_for(
        asyncio.gather(*(see_through(rig, h, r) for h, r in zip(handles, requests, strict=True))),
        timeout=240,
    )

    refunded = {h.id: r.refunded for h, r in zip(handles, results, strict=True) if r.refunded}
    assert [r.state for r in results[1:6]] == [ReturnState.REFUNDED] * 5
    # Of the two returns of the first order, one is refunded; the other finds nothing left.
    raced = sorted([results[0].state, results[6].state])
    assert raced == [ReturnState.CLOSED, ReturnState.REFUNDED]
    stripe = await ledger(rig, "stripe", "refund")
    ebay = await ledger(rig, "ebay", "refund")
    # One provider refund per refunded return, keyed by the return and its step.
    storefront = [handles[0], handles[1], handles[6]]
    assert sorted(e["idempotency_key"] for e in stripe) == sorted(
        f"{h.id}/refund" for h in storefront if h.id in refunded
    )
    assert len(ebay) == 2
    # Amazon: one payment adjustment per return, keyed by its MerchantAdjustmentID.
    amazon = await ledger(rig, "amazon", "refund")
    assert sorted(e["idempotency_key"] for e in amazon) == sorted(
        f"{h.id}/refund" for h in handles[4:6]
    )
    for entry in stripe:
        assert refunded[entry["idempotency_key"].split("/")[0]].amount == entry["amount"]
    # Dropshipped lines go back to their suppliers: one RMA per inspected return and
    # supplier, keyed by both (the eBay order's matcha, the Amazon order's scarves).
    rmas = await ledger(rig, "suppliers", "rma")
    expected = [
        f"{h.id}/supplier-rma-{supplier}"
        for h, o in zip(handles[1:6], orders[1:6], strict=True)
        for supplier in sorted(
            {SUPPLIERS.skus[i.sku].supplier for i in o.items if i.sku in SUPPLIERS.skus}
        )
    ]
    assert expected and sorted(e["idempotency_key"] for e in rmas) == sorted(expected)
    # Every return label is a return (is_return) and carries its return's id.
    labels = await ledger(rig, "easypost", "label")
    returned = {e["details"].get("shipment_reference") for e in labels}
    assert {h.id for h in handles} <= returned
    for order, handle in zip(orders, handles, strict=False):
        status = await rig.client.get_workflow_handle(
            order.workflow_id, result_type=OrderResult
        ).query(OrderWorkflow.status)
        assert status.refunded is not None
        assert status.refunded.amount <= (status.captured or order.order_total).amount
        assert all(not case.open for case in status.cases), handle.id


async def test_ebay_return_request_is_found_by_the_poller_and_refunded_once(rig: Stack) -> None:
    demo = DemoOrders(seed=405, decline_rate=0.0, review_rate=0.0)
    partners = PartnerClients.from_settings(rig.settings)
    try:
        order = await delivered(rig, partners, in_stock(demo, Channel.EBAY))
    finally:
        await partners.aclose()
    poller = await rig.client.start_workflow(
        ReturnRequestPollWorkflow.run,
        ReturnPollInput(
            channel=Channel.EBAY,
            created_after=datetime.now(UTC) - timedelta(minutes=5),
            poll_interval_seconds=0.5,
        ),
        id=f"{TASK_QUEUE}-return-intake-ebay",
        task_queue=TASK_QUEUE,
    )
    try:
        line = order.items[0]
        asked = await rig.sandbox.post(
            f"/ebay/_sandbox/orders/{order.channel_order_id}/buyer-return",
            json={
                "lineItemId": line.line_id,
                "quantity": line.quantity,
                "reason": "ARRIVED_DAMAGED",
            },
        )
        asked.raise_for_status()
        workflow_id = f"return-ebay-{asked.json()['returnId']}"
        handle: ReturnHandle = rig.client.get_workflow_handle(workflow_id, result_type=ReturnResult)
        request = await started_request(handle)
        assert request.reason is ReturnReason.DAMAGED
        assert request.lines == [ReturnLine(sku=line.sku, quantity=line.quantity)]
        result = await asyncio.wait_for(see_through(rig, handle, request), timeout=120)
    finally:
        await poller.terminate("test over")
    assert result.state == ReturnState.REFUNDED
    refunds = await rig.sandbox.get(
        "/_sandbox/ledger",
        params={"partner": "ebay", "kind": "refund", "reference": order.channel_order_id},
    )
    [refund] = refunds.json()
    assert result.refunded is not None and refund["amount"] == result.refunded.amount


async def test_amazon_return_request_is_found_in_the_returns_report_and_refunded_once(
    rig: Stack,
) -> None:
    demo = DemoOrders(seed=406, decline_rate=0.0, review_rate=0.0)
    partners = PartnerClients.from_settings(rig.settings)
    try:
        order = await delivered(rig, partners, in_stock(demo, Channel.AMAZON))
    finally:
        await partners.aclose()
    poller = await rig.client.start_workflow(
        ReturnRequestPollWorkflow.run,
        ReturnPollInput(
            channel=Channel.AMAZON,
            created_after=datetime.now(UTC) - timedelta(minutes=5),
            poll_interval_seconds=0.5,
        ),
        id=f"{TASK_QUEUE}-return-intake-amazon",
        task_queue=TASK_QUEUE,
    )
    try:
        line = order.items[0]
        asked = await rig.sandbox.post(
            f"/amazon/_sandbox/orders/{order.channel_order_id}/buyer-return",
            json={"sku": line.sku, "quantity": line.quantity, "reason": "CR-DEFECTIVE"},
        )
        asked.raise_for_status()
        workflow_id = f"return-amazon-{asked.json()['Amazon RMA ID']}"
        handle: ReturnHandle = rig.client.get_workflow_handle(workflow_id, result_type=ReturnResult)
        request = await started_request(handle)
        assert request.reason is ReturnReason.DAMAGED
        assert request.lines == [ReturnLine(sku=line.sku, quantity=line.quantity)]
        result = await asyncio.wait_for(see_through(rig, handle, request), timeout=120)
        # The poller keeps reading the report (its cursor is inclusive): still one return.
        await asyncio.sleep(2)
    finally:
        await poller.terminate("test over")
    assert result.state == ReturnState.REFUNDED
    refunds = await rig.sandbox.get(
        "/_sandbox/ledger",
        params={"partner": "amazon", "kind": "refund", "reference": order.channel_order_id},
    )
    [refund] = refunds.json()
    assert refund["idempotency_key"] == f"{workflow_id}/refund"
    assert result.refunded is not None and refund["amount"] == result.refunded.amount
    returns = [
        execution.id
        async for execution in rig.client.list_workflows(
            f'TaskQueue="{TASK_QUEUE}" AND WorkflowId STARTS_WITH "return-amazon-D"'
        )
    ]
    assert returns == [workflow_id]


async def started_request(handle: ReturnHandle) -> ReturnRequest:
    """The return's request, once the poller has started it."""
    for _ in range(200):
        try:
            return (await handle.query(ReturnWorkflow.status)).request
        except RPCError as err:
            if err.status is not RPCStatusCode.NOT_FOUND:
                raise
            await asyncio.sleep(0.25)
    raise AssertionError(f"the poller never started {handle.id}")
