"""Carrier exceptions after shipment: lost parcels (claim, reship or refund), returned to
sender (refund minus policy), undeliverable addresses (corrected, reshipped), and the
refund never exceeding what was captured (time-skipping server, stand-in partners)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from temporalio.client import WorkflowUpdateFailedError
from temporalio.testing import WorkflowEnvironment

from crossdock.models.approval import Decision, DecisionAction
from crossdock.models.order import Address, Channel
from crossdock.models.order_states import OrderState
from crossdock.models.order_steps import AddressCorrection, TrackingUpdate
from tests.conftest import skip_time
from tests.factories import NOW, order
from tests.workflows.order_harness import (
    FINANCE,
    OPERATOR,
    VIEWER,
    OrderHandle,
    start,
    wait_for_event,
    wait_for_question,
    wait_for_state,
    worker,
)
from tests.workflows.stand_ins import Partners
from workflows.order import OrderWorkflow

DAY = 24 * 3600
SILENT_PAST_LOST = timedelta(days=2, hours=8)
CLOCKS: dict[str, Any] = {
    "lost_after_seconds": 2 * DAY,
    "exception_remind_seconds": 3600,
    "exception_escalate_seconds": 4 * 3600,
    "exception_expire_seconds": DAY,
}


def scan(n: int, status: str, parcel: int = 1, description: str = "") -> TrackingUpdate:
    return TrackingUpdate(
        event_id=f"evt_{parcel}_{n}",
        tracking_code=f"EZ1{parcel:09d}",
        status=status,
        occurred_at=NOW,
        description=description or status,
    )


async def signal(handle: OrderHandle, *scans: TrackingUpdate) -> None:
    for update in scans:
        await handle.signal(OrderWorkflow.tracking_update, update)


async def lose_parcel(
    env: WorkflowEnvironment, handle: OrderHandle, shipped: OrderState = OrderState.PAYMENT_CAPTURED
) -> None:
    """Ship, one in-transit scan, then silence past `lost_after`: the order is in exception."""
    await wait_for_state(handle, shipped)
    await signal(handle, scan(1, "in_transit"))
    # Past lost_after (2 days), well before the operator's question expires (a day on).
    await skip_time(env, SILENT_PAST_LOST)
    await wait_for_state(handle, OrderState.EXCEPTION)


def decide(option: str, key: str = "exception-1") -> Decision:
    return Decision(key=key, action=DecisionAction.APPROVE, option=option, reason="ok", by=OPERATOR)


async def test_lost_parcel_is_claimed_and_reshipped_then_delivered(
    time_env: WorkflowEnvironment, task_queue: str
) -> None:
    partners = Partners()
    o = order(channel_order_id="SF40000001", deliver_by=NOW + timedelta(days=30))
    async with worker(time_env, task_queue, partners):
        handle = await start(time_env, task_queue, o, **CLOCKS)
        await lose_parcel(time_env, handle)
        await handle.execute_update(OrderWorkflow.decide, decide("reship"))
        await wait_for_state(handle, OrderState.SHIPMENT_CONFIRMED)
        # The first parcel turns up after all: its late events no longer count.
        await signal(handle, scan(2, "delivered", parcel=1))
        await signal(handle, scan(1, "in_transit", parcel=2), scan(2, "delivered", parcel=2))
        result = await handle.result()
        status = await handle.query(OrderWorkflow.status)
    assert result.state == OrderState.COMPLETED
    names = partners.names()
    assert names.count("buy_label") == 2 and names.count("capture_payment") == 1
    claim = next(call for name, call in partners.calls if name == "file_carrier_claim")
    assert claim.tracking_code == "EZ1000000001" and claim.amount == o.items_total
    confirms = [call for name, call in partners.calls if name == "confirm_shipment"]
    assert [(c.package, c.idempotency_key.rsplit("/", 1)[1]) for c in confirms] == [
        (1, "confirm"),
        (2, "confirm-2"),
    ]
    templates = [call.template for name, call in partners.calls if name == "notify_buyer"]
    assert templates == ["order_confirmed", "shipped", "parcel_lost", "delivered"]
    assert status.label is not None and status.label.tracking_code == "EZ1000000002"


async def test_lost_parcel_refunded_by_operator_never_exceeds_the_capture(
    time_env: WorkflowEnvironment, task_queue: str
) -> None:
    partners = Partners()
    o = order(channel_order_id="SF40000002", deliver_by=NOW + timedelta(days=30))
    async with worker(time_env, task_queue, partners):
        handle = await start(time_env, task_queue, o, **CLOCKS)
        await lose_parcel(time_env, handle)
        await handle.execute_update(OrderWorkflow.decide, decide("refund"))
        result = await handle.result()
    assert result.state == OrderState.REFUNDED
    assert result.refunded == result.captured
    [refund] = [call for name, call in partners.calls if name == "refund_payment"]
    assert refund.amount == result.captured
    assert refund.idempotency_key.endswith("/refund")


async def test_undecided_exception_refunds_at_expiry(
    time_env: WorkflowEnvironment, task_queue: str
) -> None:
    partners = Partners()
    o = order(channel_order_id="SF40000003", deliver_by=NOW + timedelta(days=30))
    async with worker(time_env, task_queue, partners):
        handle = await start(time_env, task_queue, o, **CLOCKS)
        await wait_for_state(handle, OrderState.PAYMENT_CAPTURED)
        await signal(handle, scan(1, "in_transit"))
        result = await handle.result()  # lost after 2 days, nobody decides for 1 more
    assert result.state == OrderState.REFUNDED
    assert result.refunded == result.captured


async def test_returned_to_sender_refunds_all_but_the_shipping(
    time_env: WorkflowEnvironment, task_queue: str
) -> None:
    partners = Partners()
    o = order(channel_order_id="SF40000004", deliver_by=NOW + timedelta(days=30))
    async with worker(time_env, task_queue, partners):
        handle = await start(time_env, task_queue, o, **CLOCKS)
        await wait_for_state(handle, OrderState.PAYMENT_CAPTURED)
        await signal(
            handle, scan(1, "in_transit"), scan(2, "return_to_sender", description="refused")
        )
        result = await handle.result()
        status = await handle.query(OrderWorkflow.status)
    assert result.state == OrderState.REFUNDED
    assert result.captured is not None and result.refunded is not None
    assert result.refunded == result.captured - o.shipping
    moves = [e.state for e in status.timeline if e.event == "moved"]
    assert moves[-3:] == ["in_transit", "returned_to_sender", "refunded"]
    assert "returned_to_sender" in [c.template for n, c in partners.calls if n == "notify_buyer"]


async def test_undeliverable_address_is_corrected_by_an_operator_and_reshipped(
    time_env: WorkflowEnvironment, task_queue: str
) -> None:
    partners = Partners()
    o = order(channel_order_id="SF40000005", deliver_by=NOW + timedelta(days=30))
    corrected = Address(
        name="Demo buyer 00001",
        line1="12 Demo Street",
        city="Lyon",
        postal_code="69002",
        country="FR",
    )
    async with worker(time_env, task_queue, partners):
        handle = await start(time_env, task_queue, o, **CLOCKS)
        await wait_for_state(handle, OrderState.PAYMENT_CAPTURED)
        with pytest.raises(WorkflowUpdateFailedError) as too_early:
            await handle.execute_update(
                OrderWorkflow.correct_address, AddressCorrection(address=corrected, by=OPERATOR)
            )
        assert "undeliverable" in str(too_early.value.cause)
        await signal(
            handle, scan(1, "in_transit"), scan(2, "failure", description="address not found")
        )
        await wait_for_state(handle, OrderState.EXCEPTION)
        with pytest.raises(WorkflowUpdateFailedError):
            await handle.execute_update(
                OrderWorkflow.correct_address, AddressCorrection(address=corrected, by=VIEWER)
            )
        await handle.execute_update(
            OrderWorkflow.correct_address, AddressCorrection(address=corrected, by=OPERATOR)
        )
        await handle.execute_update(OrderWorkflow.decide, decide("reship"))
        await wait_for_state(handle, OrderState.SHIPMENT_CONFIRMED)
        await signal(handle, scan(1, "in_transit", parcel=2), scan(2, "delivered", parcel=2))
        result = await handle.result()
    assert result.state == OrderState.COMPLETED
    labels = [call for name, call in partners.calls if name == "buy_label"]
    assert labels[0].order.ship_to == o.ship_to
    assert labels[1].order.ship_to == corrected
    assert "address_problem" in [c.template for n, c in partners.calls if n == "notify_buyer"]


async def test_marketplace_refund_is_left_to_an_operator_on_the_marketplace(
    time_env: WorkflowEnvironment, task_queue: str
) -> None:
    """The marketplace collected the money: finance refunds there and records it here;
    until then nothing is counted as refunded and the case waits in the inbox."""
    partners = Partners()
    o = order(
        channel=Channel.EBAY, channel_order_id="12-34567-40006", deliver_by=NOW + timedelta(days=30)
    )
    async with worker(time_env, task_queue, partners):
        handle = await start(time_env, task_queue, o, **CLOCKS)
        await wait_for_state(handle, OrderState.SHIPMENT_CONFIRMED)
        await signal(handle, scan(1, "in_transit"), scan(2, "return_to_sender"))
        question = await wait_for_question(handle)
        waiting = await handle.query(OrderWorkflow.status)
        await handle.execute_update(
            OrderWorkflow.decide,
            Decision(
                key=question.approval_key,
                action=DecisionAction.APPROVE,
                option="refunded_by_hand",
                reason="eBay refund 5123",
                by=FINANCE,
            ),
        )
        result = await handle.result()
    assert question.money and waiting.refunded is None
    assert waiting.state == OrderState.RETURNED_TO_SENDER
    assert "by hand" in waiting.approvals[-1].request.subject
    [reserved] = waiting.refund_reservations
    assert result.state == OrderState.REFUNDED and result.refunded == reserved.amount
    assert "refund_payment" not in partners.names()


async def test_a_channel_refusing_the_reshipment_confirmation_does_not_stop_it(
    time_env: WorkflowEnvironment, task_queue: str
) -> None:
    """Amazon counts the units shipped already: the workflow settles that itself (noted,
    not called confirmed) and follows the new parcel."""
    partners = Partners(refuse_reconfirm=True)
    o = order(
        channel=Channel.AMAZON,
        channel_order_id="302-0000000-4000007",
        deliver_by=NOW + timedelta(days=30),
    )
    async with worker(time_env, task_queue, partners):
        handle = await start(time_env, task_queue, o, **CLOCKS)
        await lose_parcel(time_env, handle, OrderState.SHIPMENT_CONFIRMED)
        await handle.execute_update(OrderWorkflow.decide, decide("reship"))
        detail = await wait_for_event(handle, "not_confirmed")
        await signal(handle, scan(1, "in_transit", parcel=2), scan(2, "delivered", parcel=2))
        result = await handle.result()
    assert result.state == OrderState.COMPLETED
    assert "package 2 not confirmed to amazon" in detail


async def test_a_refused_capture_asks_finance_and_nothing_is_refunded_that_was_not_taken(
    time_env: WorkflowEnvironment, task_queue: str
) -> None:
    partners = Partners(refuse=frozenset({"capture_payment"}))
    o = order(channel_order_id="SF40000008", deliver_by=NOW + timedelta(days=30))
    async with worker(time_env, task_queue, partners):
        handle = await start(time_env, task_queue, o, **CLOCKS)
        await wait_for_state(handle, OrderState.SHIPMENT_CONFIRMED)
        await signal(handle, scan(1, "in_transit"), scan(2, "return_to_sender"))
        question = await wait_for_question(handle)
        assert question.money and question.step == "capture"
        await handle.execute_update(
            OrderWorkflow.decide,
            Decision(
                key=question.approval_key,
                action=DecisionAction.REJECT,
                reason="authorization expired; buyer contacted",
                by=FINANCE,
            ),
        )
        result = await handle.result()
        status = await handle.query(OrderWorkflow.status)
    assert result.captured is None
    assert not status.needs_attention  # answered: nothing left for a person
    assert result.state == OrderState.REFUNDED
    assert result.refunded is not None and result.refunded.amount == 0
    assert "refund_payment" not in partners.names()
