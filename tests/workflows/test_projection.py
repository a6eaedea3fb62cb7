"""What an order hands the read model as it runs: its whole status after changes, numbered
so each is newer than the last, ending with the workflow's final status."""

from __future__ import annotations

import asyncio

from temporalio import activity
from temporalio.testing import WorkflowEnvironment

from crossdock.models.approval import DecisionAction
from crossdock.models.order_states import OrderState
from crossdock.models.readmodel import ProjectionReceipt, ProjectOrderInput
from tests.factories import order
from tests.workflows.order_harness import deliver, start, wait_for_state, worker
from tests.workflows.projections import Projections
from tests.workflows.stand_ins import Partners
from tests.workflows.test_order_review import REVIEW_CLOCKS, decision, knife_to_gb
from workflows.order import OrderWorkflow


async def test_an_order_projects_each_change_in_order_and_ends_as_it_ended(
    time_env: WorkflowEnvironment, task_queue: str
) -> None:
    partners = Partners()
    o = order()
    async with worker(time_env, task_queue, partners):
        handle = await start(time_env, task_queue, o)
        await wait_for_state(handle, OrderState.PAYMENT_CAPTURED)
        await deliver(handle)
        await handle.result()
        final = await handle.query(OrderWorkflow.status)
    projected: list[ProjectOrderInput] = partners.projections.seen[o.workflow_id]
    seqs = [p.seq for p in projected]
    assert seqs == sorted(set(seqs)), "every projection is newer than the one before"
    states = [p.status.state for p in projected]
    assert states[0] == OrderState.RECEIVED
    assert states[-1] == OrderState.COMPLETED
    assert projected[-1].status == final
    # Each projection is a state the order really was in, in the order it went through
    # them; moves made while a write was under way reach the table together, in the
    # timeline the next projection carries (the rows' times are read from it).
    moved = iter([OrderState.RECEIVED] + [e.state for e in final.timeline if e.event == "moved"])
    distinct = [s for i, s in enumerate(states) if i == 0 or s != states[i - 1]]
    assert all(any(state == m for m in moved) for state in distinct)


class HeldProjections(Projections):
    """Projections whose writes wait, once `hold` is set, until `release` is."""

    def __init__(self) -> None:
        super().__init__()
        self.hold = False
        self.held = asyncio.Event()
        self.release = asyncio.Event()

    @activity.defn(name="project_order")
    async def project_order(self, input: ProjectOrderInput) -> ProjectionReceipt:
        if self.hold:
            self.held.set()
            await self.release.wait()
        return self._keep(input.workflow_id, input.seq, input)


async def test_a_decision_is_answered_before_the_read_model_write_it_causes(
    time_env: WorkflowEnvironment, task_queue: str
) -> None:
    partners = Partners(projections=HeldProjections())
    projections = partners.projections
    assert isinstance(projections, HeldProjections)
    o = knife_to_gb("SF30000090")
    async with worker(time_env, task_queue, partners):
        handle = await start(time_env, task_queue, o, **REVIEW_CLOCKS)
        await wait_for_state(handle, OrderState.IN_REVIEW)
        projections.hold = True
        # Were the write in the update's own workflow task, the answer would wait for it
        # until the worker heartbeats the task (80% of its 10 s timeout).
        receipt = await asyncio.wait_for(
            handle.execute_update(OrderWorkflow.decide, decision(DecisionAction.APPROVE, "ok")),
            timeout=5,
        )
        assert receipt.action == DecisionAction.APPROVE
        await asyncio.wait_for(projections.held.wait(), timeout=20)  # the write came next
        projections.release.set()
        await deliver(handle)
        await handle.result()
    states = [p.status.state for p in projections.seen[o.workflow_id]]
    assert OrderState.APPROVED in states or OrderState.PAYMENT_SECURED in states
    assert states[-1] == OrderState.COMPLETED
