"""Starting the durable marketplace pollers (one workflow per marketplace)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import structlog
from temporalio.client import Client
from temporalio.common import WorkflowIDConflictPolicy

from crossdock.config import Settings
from crossdock.models.order import Channel
from workflows.intake import MarketplacePollWorkflow, PollInput

log = structlog.get_logger(__name__)

POLLED = (Channel.AMAZON, Channel.EBAY)
# On the very first start, import orders placed this long before.
FIRST_LOOKBACK = timedelta(days=1)


async def ensure_pollers(client: Client, settings: Settings) -> None:
    """Start each poller unless it is already running (then leave it and its cursor)."""
    for channel in POLLED:
        handle = await client.start_workflow(
            MarketplacePollWorkflow.run,
            PollInput(
                channel=channel,
                created_after=datetime.now(UTC) - FIRST_LOOKBACK,
                poll_interval_seconds=settings.poll_interval_seconds,
            ),
            id=f"intake-poll-{channel.value}",
            task_queue=settings.task_queue,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        )
        log.info("poller_running", workflow_id=handle.id, run_id=handle.result_run_id)
