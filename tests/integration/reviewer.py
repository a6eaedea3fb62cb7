"""An operator for end-to-end tests: approves every order waiting in review, through the
same `decide` update the console uses, signed as the console signs, so held orders go on
to complete."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from temporalio.client import Client, WorkflowUpdateFailedError

from crossdock.identity import ClaimSigner
from crossdock.models.approval import Decision, DecisionAction, Principal, Role
from crossdock.models.order_states import OrderState
from crossdock.models.order_steps import OrderResult
from workflows.order import OrderWorkflow

REVIEWER = Principal(id="test-reviewer", role=Role.OPERATOR)
IN_REVIEW = f'WorkflowType="OrderWorkflow" AND CrossdockState="{OrderState.IN_REVIEW}"'


async def approve_reviews(
    client: Client, signer: ClaimSigner, approved: list[str], every: float = 0.3
) -> None:
    """Approve reviews as they appear, until cancelled; record whom it approved."""
    while True:
        async for execution in client.list_workflows(IN_REVIEW):
            if execution.id in approved:
                continue
            handle = client.get_workflow_handle(execution.id, result_type=OrderResult)
            decision = Decision(
                key="review",
                action=DecisionAction.APPROVE,
                reason="checked",
                by=signer.sign(REVIEWER, execution.id),
            )
            with contextlib.suppress(WorkflowUpdateFailedError):  # decided a moment ago
                await handle.execute_update(OrderWorkflow.decide, decision)
            approved.append(execution.id)
        await asyncio.sleep(every)


@contextlib.asynccontextmanager
async def reviewer(client: Client, signer: ClaimSigner) -> AsyncIterator[list[str]]:
    """Run `approve_reviews` in the background; yield the ids it approved."""
    approved: list[str] = []
    task = asyncio.create_task(approve_reviews(client, signer, approved))
    try:
        yield approved
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
