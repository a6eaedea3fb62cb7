"""Starting the durable eBay payment dispute poller (`intake-poll-ebay-disputes`)."""

from __future__ import annotations

import structlog
from temporalio.client import Client
from temporalio.common import WorkflowIDConflictPolicy

from crossdock.config import Settings
from crossdock.models.dispute import DisputePollInput
from workflows.dispute_intake import DisputePollWorkflow

log = structlog.get_logger(__name__)

DISPUTE_POLLER_ID = "intake-poll-ebay-disputes"


async def ensure_dispute_poller(client: Client, settings: Settings) -> None:
    """Start the poller unless it runs already (then it keeps what it has seen)."""
    handle = await client.start_workflow(
        DisputePollWorkflow.run,
        DisputePollInput(interval_seconds=settings.poll_interval_seconds),
        id=DISPUTE_POLLER_ID,
        task_queue=settings.task_queue,
        id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
    )
    log.info("poller_running", workflow_id=handle.id, run_id=handle.result_run_id)
