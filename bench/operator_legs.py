"""Where an operator's decision spends its time: the same `decide` update sent straight
from the bench's own client (no HTTP, token, scope check or audit write), and, from each
decided order's history, the workflow task that carried the update: how long it waited
for the worker (scheduled → started) and how long the worker took (started → completed)."""

from __future__ import annotations

import time
from dataclasses import dataclass

from temporalio.api.enums.v1 import EventType
from temporalio.client import Client

from bench.stack import BenchStack
from crossdock.identity.claims import signer_for
from crossdock.models.approval import Decision, DecisionAction, Principal, Role
from workflows.order import OrderWorkflow

SCHEDULED = EventType.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED
STARTED = EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED
COMPLETED = EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED
ACCEPTED = EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED


@dataclass(frozen=True)
class TaskLegs:
    """Milliseconds of the workflow task that accepted the decision."""

    queued: float  # scheduled → started: waiting for a worker's poll
    worked: float  # started → completed: the worker's replay, validator, handler
    scheduled_at: float  # epoch seconds (the server's clock, this machine's)
    completed_at: float

    def around(self, sent_at: float, answered_at: float) -> tuple[float, float]:
        """Milliseconds from the caller's send to the task's scheduling (HTTP, console,
        the server taking the update) and from the task's completion to the answer."""
        return (self.scheduled_at - sent_at) * 1000, (answered_at - self.completed_at) * 1000


async def direct_decide(stack: BenchStack, workflow_id: str) -> tuple[float, str]:
    """The console's update, signed as the console signs it, sent by the bench's client;
    seconds to the answer and the state it reports."""
    by = signer_for(stack.settings).sign(Principal(id="bench-ops", role=Role.OPERATOR), workflow_id)
    decision = Decision(
        by=by, key="review", action=DecisionAction.APPROVE, reason="buyer checked by phone"
    )
    handle = stack.client.get_workflow_handle(workflow_id)
    began = time.perf_counter()
    receipt = await handle.execute_update(OrderWorkflow.decide, decision)
    return time.perf_counter() - began, str(receipt.state)


async def task_legs(client: Client, workflow_id: str) -> TaskLegs | None:
    """The legs of the workflow task whose completion accepted the decision update."""
    events = [e async for e in client.get_workflow_handle(workflow_id).fetch_history_events()]
    for i, event in enumerate(events):
        if event.event_type != ACCEPTED:
            continue
        times: dict[int, float] = {}
        for before in reversed(events[:i]):
            if before.event_type in (SCHEDULED, STARTED, COMPLETED):
                times.setdefault(before.event_type, before.event_time.ToMicroseconds() / 1000)
            if before.event_type == SCHEDULED:
                break
        if len(times) < 3:
            return None
        return TaskLegs(
            times[STARTED] - times[SCHEDULED],
            times[COMPLETED] - times[STARTED],
            times[SCHEDULED] / 1000,
            times[COMPLETED] / 1000,
        )
    return None
