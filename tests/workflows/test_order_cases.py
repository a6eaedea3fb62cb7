"""Returns and disputes talk to their order: `link_case` keeps the order open while a
return is open, and `reserve_refund` never lets concurrent cases refund more than was
captured (time-skipping server, stand-in partners)."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from temporalio.client import WorkflowUpdateFailedError
from temporalio.testing import WorkflowEnvironment

from crossdock.models.order_cases import CaseKind, CaseLink, RefundOutcome, RefundRequest
from crossdock.models.order_states import OrderState
from crossdock.money import Money
from tests.conftest import skip_time
from tests.factories import order
from tests.workflows.order_harness import (
    RETURN_WINDOW,
    OrderHandle,
    deliver,
    start,
    wait_for_state,
    worker,
)
from tests.workflows.stand_ins import Partners
from workflows.order import OrderWorkflow


def ask(case: str, amount: int) -> RefundRequest:
    return RefundRequest(
        case_id=case, amount=Money(amount=amount, currency="EUR"), reason="not as described"
    )


async def reserve(handle: OrderHandle, request: RefundRequest) -> str:
    try:
        grant = await handle.execute_update(OrderWorkflow.reserve_refund, request)
    except WorkflowUpdateFailedError as refused:
        return f"refused: {refused.cause}"
    return f"granted {grant.granted}"


async def test_concurrent_returns_never_refund_more_than_was_captured(
    time_env: WorkflowEnvironment, task_queue: str
) -> None:
    async with worker(time_env, task_queue, Partners()):
        handle = await start(time_env, task_queue, order(channel_order_id="SF70000001"))
        await deliver(handle)
        await wait_for_state(handle, OrderState.DELIVERED)
        status = await handle.query(OrderWorkflow.status)
        assert status.captured is not None
        captured = status.captured.amount
        # Five returns each ask for 40% of the capture at once: two fit, three are refused.
        share = captured * 2 // 5
        answers = await asyncio.gather(
            *(reserve(handle, ask(f"return-storefront-R{n}", share)) for n in range(5))
        )
        status = await handle.query(OrderWorkflow.status)
        await handle.terminate("test over")  # its 30-day window would hold the clock
    granted = [a for a in answers if a.startswith("granted")]
    assert len(granted) == 2
    assert all("exceeds what is left to refund" in a for a in answers if a not in granted)
    assert sum(r.amount.amount for r in status.refund_reservations) == 2 * share <= captured


async def test_an_open_case_keeps_the_order_open_past_its_return_window(
    time_env: WorkflowEnvironment, task_queue: str
) -> None:
    link = CaseLink(kind=CaseKind.RETURN, workflow_id="return-storefront-R9", summary="damaged")
    async with worker(time_env, task_queue, Partners()):
        handle = await start(time_env, task_queue, order(channel_order_id="SF70000002"))
        await deliver(handle)
        await wait_for_state(handle, OrderState.DELIVERED)
        await handle.signal(OrderWorkflow.link_case, link)
        await handle.signal(OrderWorkflow.link_case, link)  # delivered twice
        grant = await handle.execute_update(
            OrderWorkflow.reserve_refund, ask(link.workflow_id, 500)
        )
        # The 30-day return window passes; the open return holds the order.
        await skip_time(time_env, RETURN_WINDOW + timedelta(days=1))
        assert (await handle.query(OrderWorkflow.status)).state == OrderState.DELIVERED
        await handle.signal(
            OrderWorkflow.settle_refund,
            RefundOutcome(reservation_id=grant.reservation_id, succeeded=True, refund_id="re_9"),
        )
        await handle.signal(OrderWorkflow.link_case, link.model_copy(update={"open": False}))
        result = await handle.result()
        status = await handle.query(OrderWorkflow.status)
    assert result.state == OrderState.COMPLETED
    assert result.refunded == Money(amount=500, currency="EUR")
    events = [entry.event for entry in status.timeline]
    assert events.count("return_opened") == 1
    assert events.index("return_closed") < len(events) - 1  # before completion


async def test_no_refund_is_reserved_before_shipment(
    time_env: WorkflowEnvironment, task_queue: str
) -> None:
    partners = Partners(hold_declaration=True, holds_before_release=10_000)
    async with worker(time_env, task_queue, partners):
        handle = await start(time_env, task_queue, order(channel_order_id="SF70000003"))
        await wait_for_state(handle, OrderState.CUSTOMS_HOLD)
        with pytest.raises(WorkflowUpdateFailedError) as refused:
            await handle.execute_update(OrderWorkflow.reserve_refund, ask("return-x", 100))
        await handle.terminate("test over")
    assert "nothing shipped" in str(refused.value.cause)
