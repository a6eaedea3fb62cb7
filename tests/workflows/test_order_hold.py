"""An operator holds an order before shipment: it stops before its next step until
resumed, can be cancelled while held, and a shipped order cannot be held
(time-skipping server, stand-in partners)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from temporalio.client import WorkflowUpdateFailedError
from temporalio.testing import WorkflowEnvironment

from crossdock.models.order_states import OrderState
from crossdock.models.order_steps import CancelRequest, HoldRequest, ResumeRequest
from tests.factories import order
from tests.workflows.order_harness import (
    OPERATOR,
    VIEWER,
    OrderHandle,
    deliver,
    start,
    wait_for_state,
    worker,
)
from tests.workflows.stand_ins import Partners
from workflows.order import OrderWorkflow

HOLD = HoldRequest(reason="buyer called: address may change", by=OPERATOR)


async def refusal(handle: OrderHandle, update: Any, arg: object) -> str:
    """The validator's words for a refused update."""
    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await handle.execute_update(update, arg)
    return str(refused.value.cause)


async def test_a_held_order_stops_before_its_next_step_until_resumed(
    time_env: WorkflowEnvironment, task_queue: str
) -> None:
    partners = Partners()
    async with worker(time_env, task_queue, partners):
        handle = await start(time_env, task_queue, order(channel_order_id="SFH0000001"))

        async def held_meanwhile() -> None:
            await handle.execute_update(OrderWorkflow.hold, HOLD)

        partners.during_label = held_meanwhile
        await wait_for_state(handle, OrderState.LABEL_BOUGHT)
        await asyncio.sleep(0.5)  # it would have confirmed by now, were it not held
        assert "confirm_shipment" not in partners.names()
        assert "already held by op-7" in await refusal(handle, OrderWorkflow.hold, HOLD)
        await handle.execute_update(OrderWorkflow.resume, ResumeRequest(by=OPERATOR))
        await deliver(handle)
        result = await handle.result()
        events = [e.event for e in (await handle.query(OrderWorkflow.status)).timeline]
    assert result.state == OrderState.COMPLETED
    assert events.index("held") < events.index("resumed")


async def test_a_held_order_can_be_cancelled_and_is_compensated(
    time_env: WorkflowEnvironment, task_queue: str
) -> None:
    partners = Partners(hold_declaration=True, holds_before_release=1)
    async with worker(time_env, task_queue, partners):
        handle = await start(time_env, task_queue, order(channel_order_id="SFH0000002"))
        await wait_for_state(handle, OrderState.CUSTOMS_HOLD)
        await handle.execute_update(OrderWorkflow.hold, HOLD)
        await handle.execute_update(
            OrderWorkflow.cancel, CancelRequest(reason="buyer changed mind", by=OPERATOR)
        )
        result = await handle.result()
    assert result.state == OrderState.CANCELLED
    assert "buy_label" not in partners.names()
    assert "void_authorization" in partners.names()


async def test_hold_and_resume_are_refused_when_they_make_no_sense(
    time_env: WorkflowEnvironment, task_queue: str
) -> None:
    async with worker(time_env, task_queue, Partners()):
        handle = await start(time_env, task_queue, order(channel_order_id="SFH0000003"))
        resume = ResumeRequest(by=OPERATOR)
        assert "order is not held" in await refusal(handle, OrderWorkflow.resume, resume)
        viewer = HOLD.model_copy(update={"by": VIEWER})
        assert "role viewer may not hold" in await refusal(handle, OrderWorkflow.hold, viewer)
        await wait_for_state(handle, OrderState.PAYMENT_CAPTURED)
        shipped = await refusal(handle, OrderWorkflow.hold, HOLD)
        assert "a shipped order cannot be held" in shipped
        await handle.terminate("test over")
