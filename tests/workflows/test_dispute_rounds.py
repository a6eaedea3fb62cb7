"""A dispute's later rounds on the real dev server: an inquiry escalating into a
chargeback, then a won chargeback coming back as pre-arbitration, each a new run
(continue-as-new) of the same workflow with the same timeline.

Not on the time-skipping server: its queries hang once a run continues-as-new while a
timer is pending (the reopen window after a win), which the dev server handles. These
rounds need no long timers, so real time serves.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from crossdock.binaries import installed_binary
from crossdock.models.dispute import ProviderStatus
from crossdock.models.dispute_states import DisputeState
from tests.workflows.dispute_harness import DisputePartners, start, wait_for, worker
from tests.workflows.test_dispute import concede, contest, provider
from tests.workflows.test_dispute_race import provider_says, submitting
from workflows.dispute import DisputeWorkflow
from workflows.search import ALL as SEARCH_ATTRIBUTES

DAY = timedelta(days=1)


@pytest.fixture(scope="module")
async def dev_env() -> AsyncIterator[WorkflowEnvironment]:
    env = await WorkflowEnvironment.start_local(
        data_converter=pydantic_data_converter,
        dev_server_existing_path=installed_binary("temporal"),
        search_attributes=SEARCH_ATTRIBUTES,
    )
    try:
        yield env
    finally:
        await env.shutdown()


async def test_inquiry_escalates_and_a_win_comes_back_in_the_same_case(
    dev_env: WorkflowEnvironment, task_queue: str
) -> None:
    partners = DisputePartners(order_id=f"order-storefront-{task_queue}")
    stripe = await provider(dev_env, task_queue, status=ProviderStatus.WARNING_NEEDS_RESPONSE)
    async with worker(dev_env, task_queue, partners):
        handle = await start(
            dev_env, task_queue, partners, stripe.event(ProviderStatus.WARNING_NEEDS_RESPONSE)
        )
        await wait_for(handle, DisputeState.AWAITING_DECISION)
        await handle.execute_update(DisputeWorkflow.decide, contest())
        await wait_for(handle, DisputeState.SUBMITTED)
        send = handle.signal
        await send(
            DisputeWorkflow.provider_event, stripe.event(ProviderStatus.WARNING_UNDER_REVIEW)
        )
        # The issuer escalates the inquiry into a chargeback: round 2, in a new run.
        new_due = stripe.now + 10 * DAY
        await send(
            DisputeWorkflow.provider_event,
            stripe.event(ProviderStatus.NEEDS_RESPONSE, due_by=new_due),
        )
        await wait_for(handle, DisputeState.AWAITING_DECISION, rounds=2)
        await handle.execute_update(DisputeWorkflow.decide, contest(key="decide-2"))
        await wait_for(handle, DisputeState.SUBMITTED, rounds=2)
        await send(DisputeWorkflow.provider_event, stripe.event(ProviderStatus.WON))
        await wait_for(handle, DisputeState.WON, rounds=2)
        # Pre-arbitration: the won dispute is asked again.
        await send(
            DisputeWorkflow.provider_event,
            stripe.event(ProviderStatus.NEEDS_RESPONSE, due_by=new_due + 20 * DAY),
        )
        await wait_for(handle, DisputeState.AWAITING_DECISION, rounds=3)
        await handle.execute_update(DisputeWorkflow.decide, concede(key="decide-3"))
        result = await handle.result()
        status = await handle.query(DisputeWorkflow.status)
    assert (result.state, result.rounds, result.submissions) == ("accepted", 3, 2)
    keys = [call.idempotency_key.rsplit("/", 1)[1] for call in partners.named("submit")]
    assert keys == ["submit-1", "submit-2"]
    # The timeline survived both continue-as-news.
    assert status.timeline[0].event == "opened"
    assert [a.request.key for a in status.approvals] == ["decide-1", "decide-2", "decide-3"]


async def test_an_inquiry_escalating_during_the_submission_starts_the_next_round(
    dev_env: WorkflowEnvironment, task_queue: str
) -> None:
    """The chargeback's event arrives while the inquiry's answer is submitted; the
    submission then answers for the inquiry ("warning_under_review"), which belongs to
    the round before and does not replace the chargeback."""
    partners = DisputePartners(
        order_id=f"order-storefront-{task_queue}",
        submit_gate=asyncio.Event(),
        submit_status=ProviderStatus.WARNING_UNDER_REVIEW,
    )
    stripe = await provider(dev_env, task_queue, status=ProviderStatus.WARNING_NEEDS_RESPONSE)
    async with worker(dev_env, task_queue, partners):
        handle = await start(
            dev_env, task_queue, partners, stripe.event(ProviderStatus.WARNING_NEEDS_RESPONSE)
        )
        await wait_for(handle, DisputeState.AWAITING_DECISION)
        await handle.execute_update(DisputeWorkflow.decide, contest())
        await submitting(partners)
        escalated = stripe.event(ProviderStatus.NEEDS_RESPONSE, due_by=stripe.now + 10 * DAY)
        await handle.signal(DisputeWorkflow.provider_event, escalated)
        await provider_says(handle, ProviderStatus.NEEDS_RESPONSE)
        assert partners.submit_gate is not None
        partners.submit_gate.set()
        status = await wait_for(handle, DisputeState.AWAITING_DECISION, rounds=2)
    assert status.snapshot.status == ProviderStatus.NEEDS_RESPONSE
    assert [a.status for a in status.answers] == [ProviderStatus.WARNING_UNDER_REVIEW]
