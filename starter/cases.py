"""Intake of buyer messages: each starts its case workflow or joins it (signal-with-start
on `case-{channel}-{thread}`), so a message delivered twice or to a running case lands
once in the one conversation."""

from __future__ import annotations

from temporalio.client import Client
from temporalio.common import WorkflowIDConflictPolicy

from crossdock.models.case import BuyerMessage, CaseInput, CasePolicy
from workflows.case import BuyerCaseWorkflow, case_id


async def deliver_buyer_message(
    client: Client, message: BuyerMessage, task_queue: str, policy: CasePolicy | None = None
) -> str:
    """Start or join the message's case; returns the case workflow id."""
    workflow_id = case_id(message.channel, message.thread)
    await client.start_workflow(
        BuyerCaseWorkflow.run,
        CaseInput(channel=message.channel, thread=message.thread, policy=policy or CasePolicy()),
        id=workflow_id,
        task_queue=task_queue,
        id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        start_signal="buyer_wrote",
        start_signal_args=[message],
    )
    return workflow_id
