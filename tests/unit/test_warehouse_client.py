"""The warehouse adapter and activities against the sandbox: contracts, replays, errors."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities.warehouse import WarehouseActivities
from crossdock.models.stock import (
    CheckReservationInput,
    FulfilStockInput,
    ReleaseStockInput,
    ReserveStockInput,
    StockLine,
    stock_lines,
)
from crossdock.partners.errors import PartnerRejected, PartnerUnavailable
from crossdock.partners.warehouse import WarehouseClient
from crossdock.sandbox.app import create_app
from crossdock.sandbox.context import SandboxConfig, SandboxContext
from crossdock.sandbox.faults import FaultProfile
from tests.factories import line_item, order

WORKFLOW_ID = "order-storefront-SF100001"


@pytest.fixture
def app() -> FastAPI:
    return create_app(SandboxConfig(warehouse_restock_seconds=0))


@pytest.fixture
async def warehouse(app: FastAPI) -> AsyncIterator[WarehouseClient]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app)) as http:
        yield WarehouseClient("http://sandbox/warehouse", http=http)


@pytest.fixture
def activities(warehouse: WarehouseClient) -> WarehouseActivities:
    return WarehouseActivities(warehouse)


def entries(app: FastAPI, kind: str) -> int:
    ctx: SandboxContext = app.state.sandbox
    return len(ctx.ledger.entries(partner="warehouse", kind=kind))


def reserve_input(*lines: StockLine) -> ReserveStockInput:
    placed = order(
        items=[
            line_item(sku="MUG-STONEWARE", quantity=2),
            line_item(sku="KNIFE-SANTOKU", quantity=1),
        ]
    )
    return ReserveStockInput(
        reference=WORKFLOW_ID,
        lines=list(lines) or stock_lines(placed),
        idempotency_key=f"{WORKFLOW_ID}/reserve-stock",
    )


async def test_a_retried_reservation_reserves_once(
    app: FastAPI, activities: WarehouseActivities
) -> None:
    env = ActivityEnvironment()
    first = await env.run(activities.reserve_stock, reserve_input())
    retried = await env.run(activities.reserve_stock, reserve_input())

    assert retried == first
    assert first.status == "partial"  # the data file stocks no knives
    assert first.backordered_refs() == ["L2"]
    assert [(line.sku, line.reserved) for line in first.lines] == [
        ("MUG-STONEWARE", 2),
        ("KNIFE-SANTOKU", 0),
    ]
    assert entries(app, "reservation") == 1


async def test_check_fulfil_release_round_trip(
    app: FastAPI, warehouse: WarehouseClient, activities: WarehouseActivities
) -> None:
    env = ActivityEnvironment()
    reserved = await env.run(activities.reserve_stock, reserve_input())
    rid = reserved.reservation_id
    await warehouse.http.post(
        "http://sandbox/warehouse/_sandbox/stock", json={"sku": "KNIFE-SANTOKU", "available": 1}
    )

    checked = await env.run(activities.check_reservation, CheckReservationInput(reservation_id=rid))
    assert (checked.status, checked.backordered_refs()) == ("reserved", [])

    shipped = await env.run(
        activities.fulfil_stock,
        FulfilStockInput(
            reservation_id=rid, line_refs=["L1"], package=1, idempotency_key=f"{rid}/fulfil-1"
        ),
    )
    released = await env.run(
        activities.release_stock,
        ReleaseStockInput(reservation_id=rid, idempotency_key=f"{WORKFLOW_ID}/release-stock"),
    )

    assert [line.fulfilled for line in shipped.lines] == [2, 0]
    assert released.status == "released"
    assert [(line.fulfilled, line.released) for line in released.lines] == [(2, 0), (0, 1)]
    assert (await warehouse.stock("KNIFE-SANTOKU")).available == 1
    assert (entries(app, "fulfilment"), entries(app, "release")) == (1, 1)


async def test_a_line_that_cannot_ship_is_a_non_retryable_refusal(
    activities: WarehouseActivities,
) -> None:
    env = ActivityEnvironment()
    reserved = await env.run(activities.reserve_stock, reserve_input())

    with pytest.raises(ApplicationError) as failure:
        await env.run(
            activities.fulfil_stock,
            FulfilStockInput(
                reservation_id=reserved.reservation_id,
                line_refs=["L2"],
                package=1,
                idempotency_key="k-fulfil",
            ),
        )

    assert failure.value.non_retryable
    assert failure.value.type == "invalid_state"
    assert failure.value.message.startswith("line_refs[0]: line L2 cannot ship")


async def test_an_unknown_sku_is_refused_naming_the_line(warehouse: WarehouseClient) -> None:
    lines = [StockLine(line_ref="L1", sku="NO-SUCH-SKU", quantity=1)]
    with pytest.raises(PartnerRejected) as refused:
        await warehouse.reserve(WORKFLOW_ID, lines, "k-unknown")

    assert refused.value.status == 422
    assert (
        refused.value.message == "lines[0].sku: SKU 'NO-SUCH-SKU' is not stocked in this warehouse"
    )


async def test_an_outage_is_retryable() -> None:
    down = create_app(SandboxConfig(faults=FaultProfile.everywhere(error_rate=1.0)))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=down)) as http:
        activities = WarehouseActivities(WarehouseClient("http://sandbox/warehouse", http=http))
        with pytest.raises(ApplicationError) as failure:
            await ActivityEnvironment().run(activities.reserve_stock, reserve_input())

    assert not failure.value.non_retryable
    assert isinstance(failure.value.__cause__, PartnerUnavailable)
