"""Running OrderWorkflow against stand-in partners on the time-skipping server."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from temporalio.client import WorkflowHandle
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from crossdock.models.approval import Principal, Role
from crossdock.models.order import Order
from crossdock.models.order_states import OrderState
from crossdock.models.order_steps import OrderInput, OrderPolicy, OrderResult, TrackingUpdate
from crossdock.models.refusals import PartnerQuestion
from crossdock.workflow_sandbox import RUNNER
from tests.factories import NOW, WAREHOUSE
from tests.workflows.stand_ins import Partners
from workflows.order import OrderWorkflow

OrderHandle = WorkflowHandle[OrderWorkflow, OrderResult]
OPERATOR = Principal(id="op-7", role=Role.OPERATOR)
FINANCE = Principal(id="fin-2", role=Role.FINANCE)
VIEWER = Principal(id="view-1", role=Role.VIEWER)

RETURN_WINDOW = timedelta(days=30)


def worker(env: WorkflowEnvironment, task_queue: str, partners: Partners) -> Worker:
    return Worker(
        env.client,
        task_queue=task_queue,
        workflows=[OrderWorkflow],
        activities=partners.activities(),
        workflow_runner=RUNNER,
    )


async def start(
    env: WorkflowEnvironment, task_queue: str, o: Order, **policy_fields: Any
) -> OrderHandle:
    """Start `o`'s workflow, its dates moved to the test server's clock.

    The session's time-skipping server runs ahead of real time (earlier tests skipped
    their 30-day return windows), so dates written relative to `NOW` are rebased.
    """
    policy = OrderPolicy(
        return_window_seconds=RETURN_WINDOW.total_seconds(), ship_from=WAREHOUSE, **policy_fields
    )
    return await launch(env, task_queue, OrderInput(order=o, policy=policy))


async def start_replacement(
    env: WorkflowEnvironment, task_queue: str, o: Order, replacement_of: str
) -> OrderHandle:
    """Start `o` as the replacement of the order `replacement_of` (default policy)."""
    policy = OrderPolicy(return_window_seconds=RETURN_WINDOW.total_seconds(), ship_from=WAREHOUSE)
    return await launch(
        env, task_queue, OrderInput(order=o, policy=policy, replacement_of=replacement_of)
    )


async def launch(env: WorkflowEnvironment, task_queue: str, input: OrderInput) -> OrderHandle:
    o = input.order
    shift = await env.get_current_time() - o.placed_at
    o = o.model_copy(
        update={
            "placed_at": o.placed_at + shift,
            "ship_by": o.ship_by + shift,
            "deliver_by": o.deliver_by + shift,
        }
    )
    return await env.client.start_workflow(
        OrderWorkflow.run,
        input.model_copy(update={"order": o}),
        id=o.workflow_id,
        task_queue=task_queue,
    )


def event(n: int, status: str) -> TrackingUpdate:
    return TrackingUpdate(
        event_id=f"evt_{n}",
        tracking_code="EZ1000000001",
        status=status,
        occurred_at=NOW,
        description=status,
    )


async def wait_for_state(handle: OrderHandle, state: OrderState) -> None:
    for _ in range(1200):  # a minute: the shared machine can be slow
        status = await handle.query(OrderWorkflow.status)
        if status.state == state:
            return
        await asyncio.sleep(0.05)
    recent = "; ".join(f"{e.event} {e.detail}" for e in status.timeline[-6:])
    raise AssertionError(f"order never reached {state}; it is {status.state} ({recent})")


async def deliver(handle: OrderHandle) -> None:
    for n, status in enumerate(["pre_transit", "in_transit", "out_for_delivery", "delivered"]):
        await handle.signal(OrderWorkflow.tracking_update, event(n, status))


async def wait_for_question(handle: OrderHandle, seconds: float = 30) -> PartnerQuestion:
    """The partner refusal the order put to a person, once its approval is open."""
    for _ in range(int(seconds / 0.05)):
        status = await handle.query(OrderWorkflow.status)
        current = status.approvals[-1] if status.approvals else None
        question = status.question
        if question is not None and current is not None and current.pending:
            if current.request.key == question.approval_key:
                return question
        await asyncio.sleep(0.05)
    recent = "; ".join(f"{e.event} {e.detail}" for e in status.timeline[-6:])
    raise AssertionError(f"no question was asked; the order is {status.state} ({recent})")


async def wait_for_event(handle: OrderHandle, event: str, seconds: float = 30) -> str:
    """The detail of the first timeline entry named `event`, once there is one."""
    for _ in range(int(seconds / 0.05)):
        status = await handle.query(OrderWorkflow.status)
        found = [e.detail for e in status.timeline if e.event == event]
        if found:
            return found[0]
        await asyncio.sleep(0.05)
    recent = "; ".join(f"{e.event} {e.detail}" for e in status.timeline[-6:])
    raise AssertionError(f"no {event!r} in the timeline; the order is {status.state} ({recent})")
