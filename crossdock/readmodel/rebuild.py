"""Rebuilding the read model from the workflows themselves (`crossdock readmodel rebuild`).

Each lifecycle workflow, open or closed, is asked for its status (a query: Temporal
replays a closed workflow's history on a worker to answer it); an order's own contract
comes from its history's first event. The rows are written as the live projection would
write them, with the highest sequence number of the status's timeline length, so a live
write of the same moment changes nothing and a later one still goes forwards.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from temporalio.client import Client

from crossdock.buyers import buyer_key
from crossdock.models.case import CaseStatus
from crossdock.models.dispute_status import DisputeStatus
from crossdock.models.order_status import OrderStatus
from crossdock.models.order_steps import OrderInput
from crossdock.models.readmodel import SEQ_STEP, projection_seq
from crossdock.models.return_status import ReturnStatus
from crossdock.readmodel import rows
from crossdock.readmodel.store import ReadModelStore
from crossdock.store import Base

# Workflow type → what its `status` query answers.
KINDS: dict[str, type[OrderStatus | ReturnStatus | DisputeStatus | CaseStatus]] = {
    "OrderWorkflow": OrderStatus,
    "ReturnWorkflow": ReturnStatus,
    "DisputeWorkflow": DisputeStatus,
    "BuyerCaseWorkflow": CaseStatus,
}


@dataclass
class RebuildReport:
    written: dict[str, int] = field(default_factory=dict)
    unreadable: list[str] = field(default_factory=list)


async def _order_input(client: Client, workflow_id: str) -> OrderInput:
    handle = client.get_workflow_handle(workflow_id)
    async for event in handle.fetch_history_events(page_size=1):
        started = event.workflow_execution_started_event_attributes
        decoded = await client.data_converter.decode(started.input.payloads, [OrderInput])
        found = decoded[0]
        if isinstance(found, OrderInput):
            return found
    raise ValueError(f"{workflow_id}: no order in its first history event")


async def rebuild(
    client: Client,
    store: ReadModelStore,
    secret: bytes,
    *,
    clear: bool = True,
    narrow: str = "",
    progress: Callable[[str], None] | None = None,
) -> RebuildReport:
    """Rewrite every rm_* row from the workflows (emptying the tables first if `clear`);
    `narrow` is a visibility clause ANDed to the workflow types (`TaskQueue = "q"`)."""
    if clear:
        store.clear()
    report = RebuildReport()
    kinds = "(" + " OR ".join(f'WorkflowType = "{name}"' for name in KINDS) + ")"
    if narrow:
        kinds = f"{kinds} AND ({narrow})"
    seen: set[str] = set()
    async for execution in client.list_workflows(kinds):
        # Runs of one workflow (continue-as-new): the latest run's status has them all.
        if execution.id in seen:
            continue
        seen.add(execution.id)
        try:
            projected = await _rows(client, execution.workflow_type, execution.id, secret)
        except Exception as err:  # one unreadable workflow must not stop the rest
            report.unreadable.append(f"{execution.id}: {err}")
            continue
        store.write(projected)
        report.written[execution.workflow_type] = report.written.get(execution.workflow_type, 0) + 1
        if progress is not None:
            progress(execution.id)
    return report


async def _rows(client: Client, workflow_type: str, workflow_id: str, secret: bytes) -> list[Base]:
    handle = client.get_workflow_handle(workflow_id)
    status = await handle.query("status", result_type=KINDS[workflow_type])
    seq = projection_seq(len(status.timeline), SEQ_STEP - 1)
    if isinstance(status, OrderStatus):
        order = (await _order_input(client, workflow_id)).order
        key = buyer_key(secret, order.channel, order.buyer)
        return rows.order_rows(workflow_id, seq, order, status, key)
    if isinstance(status, ReturnStatus):
        return rows.return_rows(workflow_id, seq, status)
    if isinstance(status, DisputeStatus):
        return rows.dispute_rows(workflow_id, seq, status)
    return rows.case_rows(workflow_id, seq, status)
