"""What a provider refuses never leaves a dispute flagged and forgotten: it becomes a
question in the inbox, in the provider's words, answered through `decide`."""

from __future__ import annotations

import asyncio

import pytest
from temporalio.client import WorkflowUpdateFailedError
from temporalio.testing import WorkflowEnvironment

from crossdock.models.approval import Decision, DecisionAction, Principal, Role
from crossdock.models.dispute import ProviderStatus
from crossdock.models.dispute_states import DisputeState
from crossdock.models.dispute_status import DisputeStatus
from tests.workflows.dispute_harness import (
    DisputeHandle,
    DisputePartners,
    Provider,
    start,
    wait_for,
    worker,
)
from workflows.dispute import DisputeWorkflow

OPERATOR = Principal(id="ops-7", role=Role.OPERATOR)
COLLEAGUE = Principal(id="ops-8", role=Role.OPERATOR)
PAST_DUE = "stripe said “This dispute is past due and can no longer be updated” (HTTP 400)"


def decide(key: str, option: str = "", by: Principal = OPERATOR, **terms: object) -> Decision:
    fields = {"key": key, "action": DecisionAction.APPROVE, "by": by, "option": option}
    return Decision.model_validate(fields | {"reason": "ok"} | terms)


async def asked(handle: DisputeHandle, key: str) -> DisputeStatus:
    for _ in range(200):
        status = await handle.query(DisputeWorkflow.status)
        if status.approvals and status.approvals[-1].request.key == key:
            return status
        await asyncio.sleep(0.05)
    raise AssertionError(f"{key} was never asked; last: {status.approvals[-1].request.key}")


async def opened(
    env: WorkflowEnvironment, task_queue: str, partners: DisputePartners
) -> tuple[DisputeHandle, Provider]:
    stripe = Provider(await env.get_current_time(), dispute_id=f"dp_{task_queue}")
    handle = await start(env, task_queue, partners, stripe.event(ProviderStatus.NEEDS_RESPONSE))
    await wait_for(handle, DisputeState.AWAITING_DECISION)
    return handle, stripe


async def test_a_refused_submission_is_asked_about_and_retried_under_a_new_key(
    time_env: WorkflowEnvironment, task_queue: str
) -> None:
    partners = DisputePartners(order_id=f"order-storefront-{task_queue}", refuse_submission=1)
    async with worker(time_env, task_queue, partners):
        handle, _ = await opened(time_env, task_queue, partners)
        await handle.execute_update(DisputeWorkflow.decide, decide("decide-1"))
        status = await asked(handle, "submit-refused-1")
        question = status.approvals[-1].request
        assert PAST_DUE in question.subject and status.needs_attention
        assert set(question.options) == {"retry", "done_by_hand", "concede"}
        with pytest.raises(WorkflowUpdateFailedError) as refused:
            await handle.execute_update(
                DisputeWorkflow.decide, decide(question.key, "done_by_hand", reason="")
            )
        assert "done_by_hand needs a reason" in str(refused.value.cause)
        await handle.execute_update(DisputeWorkflow.decide, decide(question.key, "retry"))
        await wait_for(handle, DisputeState.SUBMITTED)
    keys = [s.idempotency_key for s in partners.named("submit")]
    assert keys == [f"{handle.id}/submit-1", f"{handle.id}/submit-2-1"]


async def test_a_refused_acceptance_recorded_by_hand_books_the_loss(
    time_env: WorkflowEnvironment, task_queue: str
) -> None:
    partners = DisputePartners(order_id=f"order-storefront-{task_queue}", refuse_close=1)
    async with worker(time_env, task_queue, partners):
        handle, _ = await opened(time_env, task_queue, partners)
        concede = Decision(
            key="decide-1", action=DecisionAction.REJECT, by=OPERATOR, reason="buyer is right"
        )
        await handle.execute_update(DisputeWorkflow.decide, concede)
        status = await asked(handle, "accept-refused-1")
        question = status.approvals[-1].request
        assert PAST_DUE in question.subject
        answer = decide(question.key, "done_by_hand", by=COLLEAGUE, reason="accepted in Stripe")
        await handle.execute_update(DisputeWorkflow.decide, answer)
        result = await handle.result()
        status = await handle.query(DisputeWorkflow.status)
    assert result.state == DisputeState.ACCEPTED
    assert [r.amount for r in partners.named("reserve")] == [status.snapshot.amount]
    assert not status.needs_attention
