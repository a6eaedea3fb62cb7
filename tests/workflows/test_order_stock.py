"""Stock: what is in stock ships (a partial shipment when some lines wait), backordered
lines ship later as their own package or are cancelled and refunded at the backorder
deadline, and an order with nothing in stock waits, still cancellable, then gives up
(time-skipping server, stand-in partners)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from temporalio.testing import WorkflowEnvironment

from crossdock.models.order import Channel, Order
from crossdock.models.order_states import OrderState
from tests.factories import NOW, line_item, order
from tests.workflows.order_harness import deliver, start, wait_for_state, worker
from tests.workflows.stand_ins import Partners
from tests.workflows.test_order_parcel import scan, signal
from workflows.order import OrderWorkflow

HOUR = 3600
STOCK_CLOCKS: dict[str, Any] = {"stock_poll_seconds": HOUR, "backorder_wait_seconds": 6 * HOUR}
KNIVES = line_item(sku="KNIFE-SANTOKU", title="Santoku knife", hs_code="821191", line_id="2")


def two_lines(number: str) -> Order:
    return order(
        channel_order_id=number,
        items=[line_item(line_id="1"), KNIVES],
        deliver_by=NOW + timedelta(days=30),
    )


def calls(partners: Partners, name: str) -> list[Any]:
    return [call for called, call in partners.calls if called == name]


async def test_a_partial_shipment_sends_the_backordered_line_when_stock_arrives(
    time_env: WorkflowEnvironment, task_queue: str
) -> None:
    partners = Partners(short_lines=frozenset({1}), restock_after_checks=2)
    async with worker(time_env, task_queue, partners):
        handle = await start(time_env, task_queue, two_lines("SF90000001"), **STOCK_CLOCKS)
        await wait_for_state(handle, OrderState.BACKORDERED)
        await signal(handle, scan(1, "in_transit", parcel=1), scan(2, "delivered", parcel=1))
        await signal(handle, scan(1, "in_transit", parcel=2), scan(2, "delivered", parcel=2))
        result = await handle.result()
        status = await handle.query(OrderWorkflow.status)
    assert result.state == OrderState.COMPLETED and result.refunded is None
    confirms = calls(partners, "confirm_shipment")
    assert [(c.package, [i.line_id for i in c.order.items]) for c in confirms] == [
        (1, ["1"]),
        (2, ["2"]),
    ]
    assert [(f.package, f.line_refs) for f in calls(partners, "fulfil_stock")] == [
        (1, ["L1"]),
        (2, ["L2"]),
    ]
    assert partners.names().count("check_reservation") == 2
    assert partners.names().count("capture_payment") == 1
    moves = [e.state for e in status.timeline if e.event == "moved"]
    assert moves[moves.index("backordered") + 1] == "shipment_confirmed"


async def test_a_backordered_line_never_in_stock_is_released_and_refunded(
    time_env: WorkflowEnvironment, task_queue: str
) -> None:
    partners = Partners(short_lines=frozenset({1}))
    o = two_lines("SF90000002")
    async with worker(time_env, task_queue, partners):
        handle = await start(time_env, task_queue, o, **STOCK_CLOCKS)
        await wait_for_state(handle, OrderState.BACKORDERED)
        await signal(handle, scan(1, "in_transit", parcel=1), scan(2, "delivered", parcel=1))
        result = await handle.result()
    assert result.state == OrderState.COMPLETED
    assert result.refunded == KNIVES.line_total
    (refund,) = calls(partners, "refund_payment")
    assert refund.amount == KNIVES.line_total
    releases = calls(partners, "release_stock")
    assert [r.line_refs for r in releases] == [["L2"]]
    assert partners.names().count("check_reservation") == 6  # hourly for 6 hours
    assert partners.names().count("buy_label") == 1


async def test_an_order_with_nothing_in_stock_waits_then_ships_whole(
    time_env: WorkflowEnvironment, task_queue: str
) -> None:
    partners = Partners(short_lines=frozenset({0}), restock_after_checks=1)
    async with worker(time_env, task_queue, partners):
        handle = await start(
            time_env, task_queue, order(channel_order_id="SF90000003"), **STOCK_CLOCKS
        )
        await deliver(handle)
        result = await handle.result()
        status = await handle.query(OrderWorkflow.status)
    assert result.state == OrderState.COMPLETED
    moves = [e.state for e in status.timeline if e.event == "moved"]
    assert moves[:4] == ["validated", "payment_secured", "awaiting_stock", "customs_declared"]
    assert partners.names().index("check_reservation") < partners.names().index("file_declaration")


async def test_an_order_never_in_stock_is_cancelled_and_nothing_stays_booked(
    time_env: WorkflowEnvironment, task_queue: str
) -> None:
    partners = Partners(short_lines=frozenset({0}))
    async with worker(time_env, task_queue, partners):
        handle = await start(
            time_env, task_queue, order(channel_order_id="SF90000004"), **STOCK_CLOCKS
        )
        result = await handle.result()
    assert result.state == OrderState.CANCELLED
    assert result.reason.startswith("out of stock: L1 MUG-STONEWARE: 2 of 2 backordered")
    assert partners.names()[-3:] == ["release_stock", "void_authorization", "cancel_on_channel"]
    assert partners.partner_calls()[-1][1].reason == "out_of_stock"
    assert partners.messages()[-1].terms == {"reason": "cancel.out_of_stock"}
    assert "file_declaration" not in partners.names()


async def test_a_marketplace_refunds_the_cancelled_lines_itself_once_told(
    time_env: WorkflowEnvironment, task_queue: str
) -> None:
    partners = Partners(short_lines=frozenset({1}))
    o = two_lines("302-0000000-9000005").model_copy(update={"channel": Channel.AMAZON})
    async with worker(time_env, task_queue, partners):
        handle = await start(time_env, task_queue, o, **STOCK_CLOCKS)
        await wait_for_state(handle, OrderState.BACKORDERED)
        await signal(handle, scan(1, "in_transit", parcel=1), scan(2, "delivered", parcel=1))
        result = await handle.result()
        status = await handle.query(OrderWorkflow.status)
    (told,) = calls(partners, "cancel_on_channel")
    assert (told.reason, told.line_ids) == ("out_of_stock", ["2"])
    assert result.refunded == KNIVES.line_total
    assert "refund_payment" not in partners.names()
    assert not status.needs_attention
