"""Handing a provider's dispute event to its workflow, from any intake (webhook or poller).

Signal-with-start `dispute-{provider}-{id}`: the first event starts the workflow, later
ones signal it; `REJECT_DUPLICATE` keeps a late event from restarting a closed case.
"""

from __future__ import annotations

import structlog
from temporalio.client import Client
from temporalio.common import (
    SearchAttributePair,
    TypedSearchAttributes,
    WorkflowIDReusePolicy,
)
from temporalio.exceptions import WorkflowAlreadyStartedError

from crossdock.models.dispute import (
    DisputeEvent,
    DisputePolicy,
    DisputeProvider,
)
from crossdock.models.dispute_states import DisputeState
from crossdock.models.dispute_status import DisputeInput
from workflows.dispute import DisputeWorkflow
from workflows.search import CROSSDOCK_STATE, MARKETPLACE

log = structlog.get_logger(__name__)


def dispute_workflow_id(provider: DisputeProvider, dispute_id: str) -> str:
    return f"dispute-{provider}-{dispute_id}"


async def deliver_dispute_event(
    client: Client,
    provider: DisputeProvider,
    event: DisputeEvent,
    task_queue: str,
    policy: DisputePolicy,
) -> tuple[str, str]:
    """Signal-with-start the dispute's workflow; (workflow id, "delivered" | "closed")."""
    workflow_id = dispute_workflow_id(provider, event.dispute.id)
    try:
        await client.start_workflow(
            DisputeWorkflow.run,
            DisputeInput(provider=provider, first_event=event, policy=policy),
            id=workflow_id,
            task_queue=task_queue,
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            start_signal="provider_event",
            start_signal_args=[event],
            search_attributes=TypedSearchAttributes(
                [
                    SearchAttributePair(CROSSDOCK_STATE, DisputeState.OPENED.value),
                    SearchAttributePair(MARKETPLACE, provider.marketplace),
                ]
            ),
        )
    except WorkflowAlreadyStartedError:
        log.info("dispute_event_for_closed_case", workflow_id=workflow_id)
        return workflow_id, "closed"
    log.info("dispute_event_delivered", workflow_id=workflow_id, event_id=event.event_id)
    return workflow_id, "delivered"


class DisputeDelivery:
    """`deliver_dispute_event` bound to a client, task queue and policy, for the pollers'
    activities (injected by worker.py, so activities need not import this module)."""

    def __init__(self, client: Client, task_queue: str, policy: DisputePolicy) -> None:
        self._client = client
        self._task_queue = task_queue
        self._policy = policy

    async def __call__(self, provider: DisputeProvider, event: DisputeEvent) -> tuple[str, str]:
        return await deliver_dispute_event(
            self._client, provider, event, self._task_queue, self._policy
        )
