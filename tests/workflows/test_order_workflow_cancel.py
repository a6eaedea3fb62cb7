"""A Temporal workflow cancellation (`temporal workflow cancel`) is honoured like an
operator's cancel: the partner call in flight finishes, what was booked is undone newest
first, and the workflow ends Canceled. After shipment nothing is undone."""

from __future__ import annotations

import asyncio

import pytest
from temporalio.client import WorkflowExecutionStatus, WorkflowFailureError
from temporalio.exceptions import CancelledError
from temporalio.testing import WorkflowEnvironment

from crossdock.models.order_states import OrderState
from tests.factories import order
from tests.workflows.order_harness import OrderHandle, start, wait_for_state, worker
from tests.workflows.stand_ins import Partners
from workflows.order import OrderWorkflow


async def ends_cancelled(handle: OrderHandle) -> None:
    with pytest.raises(WorkflowFailureError) as failure:
        await handle.result()
    assert isinstance(failure.value.cause, CancelledError)
    assert (await handle.describe()).status is WorkflowExecutionStatus.CANCELED


async def test_cancelled_during_a_customs_hold_undoes_what_was_booked(
    time_env: WorkflowEnvironment, task_queue: str
) -> None:
    partners = Partners(hold_declaration=True, holds_before_release=10_000)
    async with worker(time_env, task_queue, partners):
        handle = await start(time_env, task_queue, order(channel_order_id="SF60000001"))
        await wait_for_state(handle, OrderState.CUSTOMS_HOLD)
        await handle.cancel()
        await ends_cancelled(handle)
        status = await handle.query(OrderWorkflow.status)
    assert status.state == OrderState.CANCELLED
    assert partners.names()[-4:] == [
        "cancel_declaration",
        "release_stock",
        "void_authorization",
        "cancel_on_channel",
    ]
    assert "buy_label" not in partners.names()


async def test_cancelled_while_the_label_is_bought_voids_that_label(
    time_env: WorkflowEnvironment, task_queue: str
) -> None:
    partners = Partners()
    async with worker(time_env, task_queue, partners):
        handle = await start(time_env, task_queue, order(channel_order_id="SF60000002"))

        async def cancelled_meanwhile() -> None:
            await handle.cancel()
            await wait_for_cancel_noted(handle)

        partners.during_label = cancelled_meanwhile
        await ends_cancelled(handle)
        status = await handle.query(OrderWorkflow.status)
    # The label bought while the cancellation arrived is known, so it is voided.
    assert partners.names()[-6:] == [
        "buy_label",
        "void_label",
        "cancel_declaration",
        "release_stock",
        "void_authorization",
        "cancel_on_channel",
    ]
    assert "confirm_shipment" not in partners.names()
    assert status.state == OrderState.CANCELLED
    assert "cancelled in Temporal" in status.reason


async def test_cancelled_after_shipment_undoes_nothing(
    time_env: WorkflowEnvironment, task_queue: str
) -> None:
    partners = Partners()
    async with worker(time_env, task_queue, partners):
        handle = await start(time_env, task_queue, order(channel_order_id="SF60000003"))
        await wait_for_state(handle, OrderState.PAYMENT_CAPTURED)
        await handle.cancel()
        await ends_cancelled(handle)
        status = await handle.query(OrderWorkflow.status)
    assert status.state == OrderState.PAYMENT_CAPTURED
    assert not {"void_label", "void_authorization", "refund_payment"} & set(partners.names())
    assert any(entry.event == "workflow_cancelled" for entry in status.timeline)


async def wait_for_cancel_noted(handle: OrderHandle) -> None:
    """Until the workflow has seen the cancellation (the label call is still running)."""
    for _ in range(200):
        status = await handle.query(OrderWorkflow.status)
        if any(entry.event == "workflow_cancel_requested" for entry in status.timeline):
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the workflow never noted the cancellation")
