"""The provider's word, in whatever order it comes: a closing event that arrives while the
submission is still running is not undone by the submission's later "under review"
answer (docs/chaos.md: a dispute waited in `submitted` for a decision it had already
received), and a dispute waiting for a verdict that never comes is read again from its
provider. On the time-skipping server, with stand-in activities."""

from __future__ import annotations

import asyncio
import os
from datetime import timedelta
from pathlib import Path

from temporalio.client import WorkflowExecutionStatus
from temporalio.testing import WorkflowEnvironment

from crossdock.models.dispute import DisputePolicy, DisputeProvider, ProviderStatus
from crossdock.models.dispute_states import DisputeState
from crossdock.models.dispute_status import DisputeStatus
from tests.conftest import skip_time
from tests.workflows.dispute_harness import (
    DisputeHandle,
    DisputePartners,
    Provider,
    start,
    wait_for,
    worker,
)
from tests.workflows.test_dispute import contest
from workflows.dispute import DisputeWorkflow

DAY = timedelta(days=1)
# Set to a directory to save the histories of these runs (tests/histories/README.md).
RECORD = os.environ.get("CROSSDOCK_RECORD_HISTORIES", "")


async def record(handle: DisputeHandle, name: str) -> None:
    if RECORD:
        history = await handle.fetch_history()
        Path(RECORD, f"{name}.json").write_text(history.to_json())  # noqa: ASYNC240


async def submitting(partners: DisputePartners) -> None:
    """Until the submission activity has started (and is held by `submit_gate`)."""
    for _ in range(300):
        if partners.named("submit"):
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the evidence was never submitted")


async def provider_says(handle: DisputeHandle, status: ProviderStatus) -> DisputeStatus:
    """Until the workflow has taken in the provider's event saying `status`."""
    for _ in range(300):
        seen = await handle.query(DisputeWorkflow.status)
        if seen.snapshot.status == status:
            return seen
        await asyncio.sleep(0.05)
    raise AssertionError(f"the workflow never saw the provider say {status}")


async def contested_while_closed(
    env: WorkflowEnvironment,
    task_queue: str,
    partners: DisputePartners,
    claim: Provider,
    closing: ProviderStatus,
    provider: DisputeProvider,
) -> DisputeHandle:
    """Contest; the provider's closing event arrives while the submission runs, and the
    submission then answers "under review" (its answer was made before the decision)."""
    partners.submit_gate = asyncio.Event()
    handle = await start(
        env, task_queue, partners, claim.event(ProviderStatus.NEEDS_RESPONSE), provider=provider
    )
    await wait_for(handle, DisputeState.AWAITING_DECISION)
    await handle.execute_update(DisputeWorkflow.decide, contest())
    await submitting(partners)
    await handle.signal(DisputeWorkflow.provider_event, claim.event(closing))
    await provider_says(handle, closing)
    partners.submit_gate.set()
    return handle


async def test_an_atoz_claim_decided_during_the_submission_ends_won(
    time_env: WorkflowEnvironment, task_queue: str
) -> None:
    partners = DisputePartners(order_id=f"order-amazon-424-{task_queue[-7:]}-5723923")
    now = await time_env.get_current_time()
    claim = Provider(now, dispute_id=f"AZ-{task_queue[-8:]}", charge="")
    async with worker(time_env, task_queue, partners):
        handle = await contested_while_closed(
            time_env, task_queue, partners, claim, ProviderStatus.WON, DisputeProvider.AMAZON
        )
        status = await wait_for(handle, DisputeState.WON)
        await skip_time(time_env, DisputePolicy().reopen_window_seconds + 1)
        ended = await handle.describe()
        await record(handle, "dispute-amazon-closed-during-submission-won")
    assert ended.status == WorkflowExecutionStatus.COMPLETED
    assert status.snapshot.status == ProviderStatus.WON
    assert status.answers[0].status == ProviderStatus.UNDER_REVIEW  # kept, not applied
    assert any(e.event == "provider_answer_older" for e in status.timeline)
    assert not partners.named("reserve") and len(partners.named("submit")) == 1


async def test_a_stripe_dispute_lost_during_the_submission_is_lost_and_booked(
    time_env: WorkflowEnvironment, task_queue: str
) -> None:
    partners = DisputePartners(order_id=f"order-storefront-{task_queue}")
    now = await time_env.get_current_time()
    stripe = Provider(now, dispute_id=f"dp_{task_queue}")
    async with worker(time_env, task_queue, partners):
        handle = await contested_while_closed(
            time_env, task_queue, partners, stripe, ProviderStatus.LOST, DisputeProvider.STRIPE
        )
        result = await handle.result()
    assert (result.state, result.submissions) == (DisputeState.LOST, 1)
    [booked] = partners.named("reserve")
    assert booked.step == "chargeback-1" and booked.amount == stripe.snapshot.amount


async def test_a_verdict_that_never_arrives_is_read_from_the_provider(
    time_env: WorkflowEnvironment, task_queue: str
) -> None:
    partners = DisputePartners(order_id=f"order-storefront-{task_queue}")
    now = await time_env.get_current_time()
    stripe = Provider(now, dispute_id=f"dp_{task_queue}")
    policy = DisputePolicy(recheck_after_seconds=DAY.total_seconds())
    async with worker(time_env, task_queue, partners):
        handle = await start(
            time_env, task_queue, partners, stripe.event(ProviderStatus.NEEDS_RESPONSE), policy
        )
        await wait_for(handle, DisputeState.AWAITING_DECISION)
        await handle.execute_update(DisputeWorkflow.decide, contest())
        await wait_for(handle, DisputeState.SUBMITTED)
        # The issuer decides; its webhook is never delivered. The first read finds it
        # still under review, a later one lost.
        partners.provider_view = stripe.snapshot.model_copy(
            update={"status": ProviderStatus.UNDER_REVIEW, "submission_count": 1}
        )
        await skip_time(time_env, DAY + timedelta(minutes=1))
        waiting = await wait_for(handle, DisputeState.SUBMITTED)
        partners.provider_view = stripe.snapshot.model_copy(
            update={"status": ProviderStatus.LOST, "submission_count": 1}
        )
        result = await handle.result()
        await record(handle, "dispute-stripe-verdict-never-delivered-read-lost")
    assert result.state == DisputeState.LOST
    reads = partners.named("read")
    assert len(reads) == 2 and reads[0].dispute_id == stripe.snapshot.id
    assert any(e.event == "provider_read" for e in waiting.timeline)
    assert len(partners.named("reserve")) == 1


async def test_a_failed_read_is_noted_and_tried_again_later(
    time_env: WorkflowEnvironment, task_queue: str
) -> None:
    partners = DisputePartners(order_id=f"order-storefront-{task_queue}")
    now = await time_env.get_current_time()
    stripe = Provider(now, dispute_id=f"dp_{task_queue}")
    policy = DisputePolicy(recheck_after_seconds=DAY.total_seconds())
    async with worker(time_env, task_queue, partners):
        handle = await start(
            time_env, task_queue, partners, stripe.event(ProviderStatus.NEEDS_RESPONSE), policy
        )
        await wait_for(handle, DisputeState.AWAITING_DECISION)
        await handle.execute_update(DisputeWorkflow.decide, contest())
        await wait_for(handle, DisputeState.SUBMITTED)
        await skip_time(time_env, 2 * DAY + timedelta(minutes=1))  # no provider_view: fails
        status = await wait_for(handle, DisputeState.SUBMITTED)
        await handle.signal(DisputeWorkflow.provider_event, stripe.event(ProviderStatus.WON))
        won = await wait_for(handle, DisputeState.WON)
    assert len(partners.named("read")) == 2
    assert [e.event for e in status.timeline].count("provider_read_failed") == 2
    assert status.needs_attention and "reading the dispute refused" in status.reason
    assert won.snapshot.status == ProviderStatus.WON and not won.needs_attention


async def test_a_refusal_from_a_provider_that_closed_meanwhile_asks_nobody(
    time_env: WorkflowEnvironment, task_queue: str
) -> None:
    """The provider closes the dispute while the submission runs, then refuses it (past
    due, closed): the verdict is applied, no person is asked to retry or concede."""
    partners = DisputePartners(order_id=f"order-storefront-{task_queue}", refuse_submission=1)
    now = await time_env.get_current_time()
    stripe = Provider(now, dispute_id=f"dp_{task_queue}")
    async with worker(time_env, task_queue, partners):
        handle = await contested_while_closed(
            time_env, task_queue, partners, stripe, ProviderStatus.LOST, DisputeProvider.STRIPE
        )
        result = await handle.result()
        status = await handle.query(DisputeWorkflow.status)
    assert result.state == DisputeState.LOST and result.submissions == 0
    assert [a.request.key for a in status.approvals] == ["decide-1"]
    assert any(e.event == "refused_after_close" for e in status.timeline)
    assert len(partners.named("reserve")) == 1
