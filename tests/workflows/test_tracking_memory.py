"""A flood of distinct carrier events leaves an order's memory of seen events bounded,
and the order still hears the next real event (time-skipping server, stand-in partners).

Probe (issue 18): 200 forged events grew one workflow's state without bound."""

from __future__ import annotations

from datetime import timedelta

from temporalio.testing import WorkflowEnvironment

from crossdock.models.order_states import OrderState
from tests.factories import NOW, order
from tests.workflows.order_harness import start, wait_for_state, worker
from tests.workflows.stand_ins import Partners
from tests.workflows.test_order_packages import MUGS, POLICY, TEES
from tests.workflows.test_order_parcel import scan, signal
from workflows.order import OrderWorkflow
from workflows.tracking_memory import SEEN_EVENTS

FLOOD = 200


async def test_a_flood_of_events_is_remembered_boundedly_and_the_next_one_heard(
    time_env: WorkflowEnvironment, task_queue: str
) -> None:
    o = order(channel_order_id="SF18000001", deliver_by=NOW + timedelta(days=30))
    async with worker(time_env, task_queue, Partners()):
        handle = await start(time_env, task_queue, o)
        await wait_for_state(handle, OrderState.PAYMENT_CAPTURED)
        await signal(handle, *(scan(n, "in_transit") for n in range(FLOOD)))
        await wait_for_state(handle, OrderState.IN_TRANSIT)
        status = await handle.query(OrderWorkflow.status)
        assert len(status.tracking_events_seen) == SEEN_EVENTS
        assert status.tracking_events_seen[-1] == f"evt_1_{FLOOD - 1}"
        await signal(handle, scan(FLOOD, "delivered"))
        await wait_for_state(handle, OrderState.DELIVERED)


async def test_each_parcel_remembers_boundedly(
    time_env: WorkflowEnvironment, task_queue: str
) -> None:
    heavy = order(channel_order_id="SF18000002", items=[MUGS, TEES])
    heavy = heavy.model_copy(update={"deliver_by": NOW + timedelta(days=30)})
    async with worker(time_env, task_queue, Partners()):
        handle = await start(time_env, task_queue, heavy, **POLICY)
        await wait_for_state(handle, OrderState.PAYMENT_CAPTURED)
        await signal(handle, *(scan(n, "in_transit", parcel=1) for n in range(FLOOD)))
        await signal(handle, scan(0, "in_transit", parcel=2))
        await wait_for_state(handle, OrderState.IN_TRANSIT)
        status = await handle.query(OrderWorkflow.status)
        assert [len(p.events_seen) for p in status.parcels] == [SEEN_EVENTS, 1]
        await signal(handle, scan(FLOOD, "delivered", parcel=1), scan(1, "delivered", parcel=2))
        result = await handle.result()
    assert result.state == OrderState.COMPLETED
