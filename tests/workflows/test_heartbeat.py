"""The heartbeat interceptor keeps a long partner call alive under a short heartbeat
timeout, which is what lets a dead worker's activity be retried in seconds."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from temporalio import activity, workflow
from temporalio.client import WorkflowFailureError
from temporalio.common import RetryPolicy
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.exceptions import ActivityError, TimeoutError, TimeoutType
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Interceptor, Worker

from activities.heartbeat import HeartbeatInterceptor, beat
from crossdock.binaries import installed_binary


# The SDK sends heartbeats at most every 0.8 x the heartbeat timeout, so the server sees
# one every 1.6 s against a 2 s timeout; shorter timeouts left too little slack on a
# loaded two-core CI machine.
@activity.defn
async def slow_partner_call() -> str:
    await asyncio.sleep(4)
    return "done"


@workflow.defn
class SlowCallWorkflow:
    @workflow.run
    async def run(self) -> str:
        return await workflow.execute_activity(
            slow_partner_call,
            start_to_close_timeout=timedelta(seconds=20),
            heartbeat_timeout=timedelta(seconds=2),
            retry_policy=RetryPolicy(maximum_attempts=1),
        )


async def run_slow_call(env: WorkflowEnvironment, interceptors: list[Interceptor]) -> str:
    task_queue = f"heartbeat-{uuid.uuid4().hex[:8]}"
    async with Worker(
        env.client,
        task_queue=task_queue,
        workflows=[SlowCallWorkflow],
        activities=[slow_partner_call],
        interceptors=interceptors,
    ):
        return await env.client.execute_workflow(
            SlowCallWorkflow.run, id=task_queue, task_queue=task_queue
        )


@pytest.fixture(scope="module")
async def own_env() -> AsyncIterator[WorkflowEnvironment]:
    """A test server of these tests' own: an activity still running after its heartbeat
    timeout can leave the server's time-skipping lock held, which would stall the
    session's shared server for every later test waiting on a long timer."""
    env = await WorkflowEnvironment.start_time_skipping(
        data_converter=pydantic_data_converter,
        test_server_existing_path=installed_binary("temporal-test-server"),
    )
    try:
        yield env
    finally:
        await env.shutdown()


async def test_a_long_call_survives_a_short_heartbeat_timeout(
    own_env: WorkflowEnvironment,
) -> None:
    assert await run_slow_call(own_env, [HeartbeatInterceptor(every=0.25)]) == "done"


async def test_without_heartbeats_the_same_call_times_out(own_env: WorkflowEnvironment) -> None:
    with pytest.raises(WorkflowFailureError) as failed:
        await run_slow_call(own_env, [])
    cause = failed.value.cause
    assert isinstance(cause, ActivityError)
    assert isinstance(cause.cause, TimeoutError)
    assert cause.cause.type == TimeoutType.HEARTBEAT


# Progress reported on the first attempt, then several of the interceptor's own beats,
# then a passing failure: the retry must see the progress, not the last empty beat.
@activity.defn
async def resumable_call() -> list[str]:
    if activity.info().attempt == 1:
        beat(["order-1", "order-2"])
        await asyncio.sleep(1.0)
        raise RuntimeError("partner went away")
    details = activity.info().heartbeat_details
    return list(details[0]) if details else []


@workflow.defn
class ResumableCallWorkflow:
    @workflow.run
    async def run(self) -> list[str]:
        return await workflow.execute_activity(
            resumable_call,
            start_to_close_timeout=timedelta(seconds=20),
            heartbeat_timeout=timedelta(seconds=5),
            retry_policy=RetryPolicy(initial_interval=timedelta(milliseconds=100)),
        )


async def test_a_retry_resumes_from_the_progress_an_attempt_reported(
    own_env: WorkflowEnvironment,
) -> None:
    task_queue = f"heartbeat-{uuid.uuid4().hex[:8]}"
    async with Worker(
        own_env.client,
        task_queue=task_queue,
        workflows=[ResumableCallWorkflow],
        activities=[resumable_call],
        interceptors=[HeartbeatInterceptor(every=0.1)],
    ):
        resumed = await own_env.client.execute_workflow(
            ResumableCallWorkflow.run, id=task_queue, task_queue=task_queue
        )
    assert resumed == ["order-1", "order-2"]
