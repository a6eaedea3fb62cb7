"""Intake of buyer messages: each starts its case workflow or joins it (signal-with-start
on `case-{channel}-{thread}`), so a message delivered twice or to a running case lands
once in the one conversation. eBay's messages are polled by one durable
`BuyerMessagePollWorkflow` (`intake-messages-ebay`), started here."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from temporalio.client import Client
from temporalio.common import WorkflowIDConflictPolicy

from crossdock.config import Settings
from crossdock.models.case import BuyerMessage, CaseInput, CasePolicy
from crossdock.models.order import Channel
from workflows.case import BuyerCaseWorkflow, case_id
from workflows.case_intake import BuyerMessagePollWorkflow, MessagePollInput, poller_id

# Marketplaces whose buyer messages are read by polling their messaging API.
MESSAGES_POLLED = (Channel.EBAY,)
FIRST_LOOKBACK = timedelta(days=1)


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


class CaseDelivery:
    """`deliver_buyer_message` bound to a client and settings, for the activity that
    polls marketplaces' messages (injected by worker.py)."""

    def __init__(self, client: Client, settings: Settings) -> None:
        self._client = client
        self._settings = settings

    async def __call__(self, message: BuyerMessage) -> str:
        settings = self._settings
        return await deliver_buyer_message(
            self._client, message, settings.task_queue, settings.case_policy
        )


async def ensure_message_pollers(client: Client, settings: Settings) -> None:
    """Start the buyer-message pollers unless they run already (then leave them)."""
    for channel in MESSAGES_POLLED:
        await client.start_workflow(
            BuyerMessagePollWorkflow.run,
            MessagePollInput(
                channel=channel,
                since=datetime.now(UTC) - FIRST_LOOKBACK,
                poll_interval_seconds=settings.poll_interval_seconds,
            ),
            id=poller_id(channel),
            task_queue=settings.task_queue,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        )
