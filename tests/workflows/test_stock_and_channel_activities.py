"""The warehouse and channel-cancellation activities as the order workflow will call them:
by name, through a real worker and Temporal's pydantic converter, against the sandbox on
a real port. Retries repeat nothing (the ledger says so); refusals reach the workflow as
non-retryable failures."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from pydantic import BaseModel
from temporalio import workflow
from temporalio.client import WorkflowFailureError
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError, RetryState
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from activities.channel_cancel import ChannelCancelActivities
from activities.registry import activity_methods
from activities.warehouse import WarehouseActivities
from crossdock.config import Settings
from crossdock.partners.clients import PartnerClients
from crossdock.sandbox.app import create_app
from crossdock.sandbox.context import SandboxConfig
from tests.servers import serve

with workflow.unsafe.imports_passed_through():
    from crossdock.models.channel_cancel import (
        CancelOnChannelInput,
        ChannelCancellation,
        SellerCancelReason,
    )
    from crossdock.models.order import Order
    from crossdock.models.stock import (
        FulfilStockInput,
        ReleaseStockInput,
        ReserveStockInput,
        StockReservation,
        stock_lines,
    )
    from tests.factories import line_item, order

ORDER_ID = "order-storefront-SF90000001"


class ProbeResult(BaseModel):
    reserved: StockReservation
    shipped: StockReservation
    told: ChannelCancellation
    released: StockReservation


@workflow.defn(sandboxed=False)
class StockProbeWorkflow:
    """Reserve, ship the first line, cancel the rest on the channel, release it."""

    @workflow.run
    async def run(self, placed: Order) -> ProbeResult:
        options: dict[str, Any] = {
            "start_to_close_timeout": timedelta(seconds=10),
            "retry_policy": RetryPolicy(maximum_attempts=3),
        }
        key = workflow.info().workflow_id
        reserved = await workflow.execute_activity(
            "reserve_stock",
            ReserveStockInput(
                reference=key, lines=stock_lines(placed), idempotency_key=f"{key}/reserve-stock"
            ),
            result_type=StockReservation,
            **options,
        )
        shipped = await workflow.execute_activity(
            "fulfil_stock",
            FulfilStockInput(
                reservation_id=reserved.reservation_id,
                line_refs=["L1"],
                package=1,
                idempotency_key=f"{key}/fulfil-stock-1",
            ),
            result_type=StockReservation,
            **options,
        )
        told = await workflow.execute_activity(
            "cancel_on_channel",
            CancelOnChannelInput(
                order=placed,
                reason=SellerCancelReason.OUT_OF_STOCK,
                line_ids=[placed.items[1].sku],
                idempotency_key=f"{key}/cancel-on-channel",
            ),
            result_type=ChannelCancellation,
            **options,
        )
        released = await workflow.execute_activity(
            "release_stock",
            ReleaseStockInput(
                reservation_id=reserved.reservation_id, idempotency_key=f"{key}/release-stock"
            ),
            result_type=StockReservation,
            **options,
        )
        return ProbeResult(reserved=reserved, shipped=shipped, told=told, released=released)


@workflow.defn(sandboxed=False)
class ShipBackorderProbeWorkflow:
    """Try to ship a backordered line: the warehouse refuses, once."""

    @workflow.run
    async def run(self, placed: Order) -> None:
        key = workflow.info().workflow_id
        options: dict[str, Any] = {
            "start_to_close_timeout": timedelta(seconds=10),
            "retry_policy": RetryPolicy(maximum_attempts=5),
        }
        reserved = await workflow.execute_activity(
            "reserve_stock",
            ReserveStockInput(
                reference=key, lines=stock_lines(placed), idempotency_key=f"{key}/reserve"
            ),
            result_type=StockReservation,
            **options,
        )
        await workflow.execute_activity(
            "fulfil_stock",
            FulfilStockInput(
                reservation_id=reserved.reservation_id,
                line_refs=reserved.backordered_refs(),
                package=1,
                idempotency_key=f"{key}/fulfil-1",
            ),
            **options,
        )


@pytest.fixture(scope="module")
def sandbox_url() -> Iterator[str]:
    with serve(create_app(SandboxConfig(warehouse_restock_seconds=0))) as url:
        yield url


def settings_for(url: str) -> Settings:
    return Settings(
        warehouse_base_url=f"{url}/warehouse",
        storefront_base_url=f"{url}/storefront",
        amazon_base_url=f"{url}/amazon",
        ebay_base_url=f"{url}/ebay",
    )


async def run_probe(
    env: WorkflowEnvironment, url: str, task_queue: str, probe: type[Any], placed: Order
) -> Any:
    settings = settings_for(url)
    partners = PartnerClients.from_settings(settings)
    activities = [
        WarehouseActivities(partners.warehouse),
        ChannelCancelActivities.from_partners(partners, settings),
    ]
    try:
        async with Worker(
            env.client,
            task_queue=task_queue,
            workflows=[probe],
            activities=[m for instance in activities for m in activity_methods(instance)],
        ):
            return await env.client.execute_workflow(
                probe.run, placed, id=f"{ORDER_ID}-{task_queue}", task_queue=task_queue
            )
    finally:
        await partners.aclose()


async def ledger(url: str, partner: str, kind: str) -> list[dict[str, Any]]:
    async with httpx.AsyncClient() as http:
        response = await http.get(
            f"{url}/_sandbox/ledger", params={"partner": partner, "kind": kind}
        )
        return list(response.json())


async def test_reserve_ship_cancel_release_through_a_worker(
    time_env: WorkflowEnvironment, sandbox_url: str, task_queue: str
) -> None:
    placed = order(
        channel_order_id=f"SF{task_queue[-8:]}",
        items=[line_item(line_id=""), line_item(sku="KNIFE-SANTOKU", line_id="", quantity=1)],
    )
    async with httpx.AsyncClient() as http:
        await http.post(f"{sandbox_url}/storefront/checkout", json=placed.model_dump(mode="json"))

    result = await run_probe(time_env, sandbox_url, task_queue, StockProbeWorkflow, placed)
    reserved, shipped, told, released = (
        result.reserved,
        result.shipped,
        result.told,
        result.released,
    )

    assert (reserved.status, reserved.backordered_refs()) == ("partial", ["L2"])  # no knives
    assert [line.fulfilled for line in shipped.lines] == [2, 0]
    assert told.status == "accepted" and told.reference.startswith("can_")
    assert released.status == "released"
    assert [(line.fulfilled, line.released) for line in released.lines] == [(2, 0), (0, 1)]
    mine = f"{ORDER_ID}-{task_queue}"
    assert [e["reference"] for e in await ledger(sandbox_url, "warehouse", "release")].count(
        mine
    ) == 1
    cancelled = await ledger(sandbox_url, "storefront", "cancellation")
    assert [
        e["details"]["skus"] for e in cancelled if e["reference"] == placed.channel_order_id
    ] == [["KNIFE-SANTOKU"]]


async def test_shipping_a_backordered_line_fails_without_retries(
    time_env: WorkflowEnvironment, sandbox_url: str, task_queue: str
) -> None:
    placed = order(items=[line_item(sku="KNIFE-SANTOKU", quantity=1)])

    with pytest.raises(WorkflowFailureError) as failed:
        await run_probe(time_env, sandbox_url, task_queue, ShipBackorderProbeWorkflow, placed)

    activity_error = failed.value.cause
    assert isinstance(activity_error, ActivityError)
    assert activity_error.retry_state is RetryState.NON_RETRYABLE_FAILURE
    cause = activity_error.cause
    assert isinstance(cause, ApplicationError)
    assert (cause.type, cause.non_retryable) == ("invalid_state", True)
    assert "line L1 cannot ship" in cause.message
