"""The heartbeat interceptor keeps a long partner call alive under a short heartbeat
timeout, which is what lets a dead worker's activity be retried in seconds."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

import pytest
from temporalio import activity, workflow
from temporalio.client import WorkflowFailureError
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, TimeoutError, TimeoutType
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Interceptor, Worker

from activities.heartbeat import HeartbeatInterceptor


@activity.defn
async def slow_partner_call() -> str:
    await asyncio.sleep(1.5)
    return "done"


@workflow.defn
class SlowCallWorkflow:
    @workflow.run
    async def run(self) -> str:
        return await workflow.execute_activity(
            slow_partner_call,
            start_to_close_timeout=timedelta(seconds=10),
            heartbeat_timeout=timedelta(seconds=0.5),
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


async def test_a_long_call_survives_a_short_heartbeat_timeout(
    time_env: WorkflowEnvironment,
) -> None:
    assert await run_slow_call(time_env, [HeartbeatInterceptor(every=0.1)]) == "done"


async def test_without_heartbeats_the_same_call_times_out(time_env: WorkflowEnvironment) -> None:
    with pytest.raises(WorkflowFailureError) as failed:
        await run_slow_call(time_env, [])
    cause = failed.value.cause
    assert isinstance(cause, ActivityError)
    assert isinstance(cause.cause, TimeoutError)
    assert cause.cause.type == TimeoutType.HEARTBEAT
