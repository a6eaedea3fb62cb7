"""What an order hands the read model as it runs: its whole status after changes, numbered
so each is newer than the last, ending with the workflow's final status."""

from __future__ import annotations

from temporalio.testing import WorkflowEnvironment

from crossdock.models.order_states import OrderState
from crossdock.models.readmodel import ProjectOrderInput
from tests.factories import order
from tests.workflows.order_harness import deliver, start, wait_for_state, worker
from tests.workflows.stand_ins import Partners
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
