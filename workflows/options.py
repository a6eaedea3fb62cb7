"""How workflows call partner activities: Temporal owns the retries (architecture §4)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any, TypeVar

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.workflow import ActivityHandle

P = TypeVar("P")
R = TypeVar("R")

PARTNER_TIMEOUT = timedelta(seconds=30)
# With Worker Deployments every workflow is PINNED to the build it started on
# (crossdock/versioning.py); the pollers, which never end, move to the current build
# when they continue as new. Unversioned workers ignore it.
UPGRADE_AT_CONTINUE = workflow.ContinueAsNewVersioningBehavior.AUTO_UPGRADE
# Workers heartbeat running activities every 2 s (activities/heartbeat.py): one silent
# for this long is presumed dead and its activity is retried on another worker.
PARTNER_HEARTBEAT = timedelta(seconds=8)
# Retry transient failures for a long while with capped backoff and no attempt limit:
# business rejections are non-retryable ApplicationErrors and stop retrying at once, and
# 429s carry the partner's Retry-After as next_retry_delay. Compensations use the same
# policy, because an undo must eventually happen.
PARTNER_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(minutes=2),
)


def call_partner(activity: Callable[[Any, P], Awaitable[R]], arg: P) -> ActivityHandle[R]:
    """Start one partner activity method with the partner timeout and retry policy; await
    the handle for its result. Starting is synchronous, so the activity's command takes
    its place in history in program order even when the handle is awaited by another
    task (`asyncio.shield`)."""
    return workflow.start_activity_method(
        activity,
        arg,
        start_to_close_timeout=PARTNER_TIMEOUT,
        heartbeat_timeout=PARTNER_HEARTBEAT,
        retry_policy=PARTNER_RETRY,
    )


async def condition_within(condition: Callable[[], bool], seconds: float) -> bool:
    """Wait up to `seconds` (workflow time) for `condition`; say whether it holds."""
    if condition():
        return True
    if seconds <= 0:
        return False
    try:
        await workflow.wait_condition(condition, timeout=seconds)
    except TimeoutError:
        return condition()
    return True
