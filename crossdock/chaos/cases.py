"""The workflows' side of a run: every order, return and dispute workflow, how its
execution ended (or that it still runs, and whether it waits for a person), and what
its `status` query says it did."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from temporalio.client import (
    Client,
    WorkflowExecution,
    WorkflowExecutionStatus,
    WorkflowQueryFailedError,
)
from temporalio.service import RPCError

from workflows.dispute import DisputeWorkflow
from workflows.order import OrderWorkflow
from workflows.returns import ReturnWorkflow
from workflows.search import AWAITING_APPROVAL, CROSSDOCK_STATE, NEEDS_ATTENTION

# Case kinds by workflow type, with the query that reads each one's status.
KINDS: dict[str, tuple[str, Any]] = {
    "OrderWorkflow": ("order", OrderWorkflow.status),
    "ReturnWorkflow": ("return", ReturnWorkflow.status),
    "DisputeWorkflow": ("dispute", DisputeWorkflow.status),
}
CASES_QUERY = " OR ".join(f'WorkflowType = "{name}"' for name in KINDS)
CONTINUED = WorkflowExecutionStatus.CONTINUED_AS_NEW
# Status queries in flight at once (each may replay a history on the worker).
QUERY_CONCURRENCY = 8


@dataclass
class Case:
    workflow_id: str
    kind: str  # order | return | dispute
    execution: str  # Running, Completed, Failed, Terminated, TimedOut, Canceled
    state: str  # CrossdockState
    awaiting_approval: bool
    needs_attention: bool
    status: Any = None  # the status query's model, once read
    # An earlier run was ended by a reset: the console's heal of a history that stopped
    # replaying (crossdock/divergence.py), the only reset a chaos run makes.
    reset: bool = False

    @property
    def running(self) -> bool:
        return self.execution == "Running"

    @property
    def closed(self) -> bool:
        return self.execution == "Completed"

    @property
    def failed(self) -> bool:
        return not (self.running or self.closed)

    @property
    def parked(self) -> bool:
        """Running and waiting for a person: in the inbox, or flagged for attention."""
        return self.running and (self.awaiting_approval or self.needs_attention)


def open_cases(case: Case) -> list[str]:
    """The returns and disputes an order waits for (it closes after them)."""
    if case.kind != "order" or case.status is None:
        return []
    return [link.workflow_id for link in case.status.cases if link.open]


def waiting(case: Case, cases: dict[str, Case]) -> bool:
    """Running, and waiting for a person, or for a return or dispute that still runs."""
    if not case.running:
        return False
    if case.parked:
        return True
    linked = open_cases(case)
    return bool(linked) and all(w in cases and cases[w].running for w in linked)


def _case(execution: WorkflowExecution) -> Case:
    attributes = execution.typed_search_attributes
    status = execution.status.name if execution.status else "UNKNOWN"
    return Case(
        workflow_id=execution.id,
        kind=KINDS[execution.workflow_type][0],
        execution=_pascal(status),
        state=attributes.get(CROSSDOCK_STATE) or "",
        awaiting_approval=bool(attributes.get(AWAITING_APPROVAL)),
        needs_attention=bool(attributes.get(NEEDS_ATTENTION)),
    )


def _pascal(name: str) -> str:
    return "".join(part.capitalize() for part in name.split("_"))


async def list_cases(client: Client) -> dict[str, Case]:
    """Every case by workflow id: its newest run (a dispute continues as new)."""
    newest: dict[str, WorkflowExecution] = {}
    ended_early: set[str] = set()
    async for execution in client.list_workflows(CASES_QUERY):
        if execution.status == CONTINUED:
            continue
        earlier = newest.get(execution.id)
        if earlier is None or execution.start_time > earlier.start_time:
            newest[execution.id] = execution
        if execution.status == WorkflowExecutionStatus.TERMINATED:
            ended_early.add(execution.id)
    cases = {workflow_id: _case(e) for workflow_id, e in newest.items()}
    for workflow_id in ended_early:
        # Terminated, with a newer run: reset (a case terminated for good is newest).
        case = cases[workflow_id]
        case.reset = newest[workflow_id].status != WorkflowExecutionStatus.TERMINATED
    return cases


async def read_statuses(client: Client, cases: dict[str, Case]) -> list[str]:
    """Fill each case's `status` from its query; return the ids whose query failed."""
    gate = asyncio.Semaphore(QUERY_CONCURRENCY)
    unread: list[str] = []
    queries = {kind: query for kind, query in KINDS.values()}

    async def read(case: Case) -> None:
        async with gate:
            handle = client.get_workflow_handle(case.workflow_id)
            try:
                case.status = await handle.query(queries[case.kind])
            except (RPCError, WorkflowQueryFailedError):
                # A workflow whose task keeps failing (a nondeterminism, say) answers no
                # query: it is reported as unread, never allowed to end the run.
                unread.append(case.workflow_id)

    await asyncio.gather(*(read(case) for case in cases.values()))
    return sorted(unread)
