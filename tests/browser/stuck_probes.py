"""Stand-ins for cases that get stuck, registered under the real workflow types' names
on a test worker of their own: an order whose workflow code raises on every workflow task
(as an illegal transition would), a return whose activity fails on every attempt until
its fix is deployed (the tenth failure asks for the next attempt in an hour), and a
healthy order that just waits."""

from __future__ import annotations

from datetime import timedelta

from temporalio import activity, workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ApplicationError

ILLEGAL = "illegal transition: validated -> shipment_confirmed"
UNAVAILABLE = "payments: 503 Service Unavailable"


@workflow.defn(name="OrderWorkflow")
class BrokenOrderWorkflow:
    @workflow.run
    async def run(self) -> None:
        # Not an ApplicationError: the workflow task fails and is retried, forever.
        raise RuntimeError(ILLEGAL)


# Flipped by a test once "the fix is deployed": the refund then succeeds.
FIXED = {"refund": False}
GIVE_UP_AFTER = 10


@activity.defn(name="stuck_probe_refund")
async def refund_until_fixed() -> None:
    if FIXED["refund"]:
        return
    if activity.info().attempt < GIVE_UP_AFTER:
        raise RuntimeError(UNAVAILABLE)
    # Past the console's threshold: the next attempt only in an hour, unless retried now.
    raise ApplicationError(UNAVAILABLE, next_retry_delay=timedelta(hours=1))


@workflow.defn(name="ReturnWorkflow")
class RetryingReturnWorkflow:
    @workflow.run
    async def run(self) -> None:
        await workflow.execute_activity(
            refund_until_fixed,
            start_to_close_timeout=timedelta(seconds=5),
            # Fast retries, so the attempt count passes the console's threshold in seconds.
            retry_policy=RetryPolicy(
                initial_interval=timedelta(milliseconds=50), backoff_coefficient=1.0
            ),
        )


@workflow.defn(name="OrderWorkflow")
class WaitingOrderWorkflow:
    @workflow.run
    async def run(self) -> None:
        await workflow.wait_condition(lambda: False)
