"""A marketplace refusing one poll (a revoked token, a cursor it will not take) never
fails the return or dispute poller: the next poll asks again from where it was."""

from __future__ import annotations

from datetime import timedelta

from temporalio import activity
from temporalio.client import WorkflowExecutionStatus
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from activities.errors import PartnerRefused
from activities.return_intake import ImportedReturnRequests, ImportReturnRequestsInput
from crossdock.models.dispute import DisputePollInput, PollDisputesInput, PollDisputesResult
from crossdock.models.order import Channel
from crossdock.models.refusals import Refusal, RefusalKind
from crossdock.workflow_sandbox import RUNNER
from tests.conftest import skip_time
from tests.factories import NOW
from workflows.dispute_intake import DisputePollWorkflow
from workflows.return_intake import ReturnPollInput, ReturnRequestPollWorkflow

REVOKED = Refusal(
    kind=RefusalKind.REFUSED, message="Access token revoked", partner="ebay", status=401
)


async def test_a_refused_return_poll_is_asked_again_from_the_same_cursor(
    time_env: WorkflowEnvironment, task_queue: str
) -> None:
    asked: list[ImportReturnRequestsInput] = []

    @activity.defn(name="import_return_requests")
    async def import_return_requests(input: ImportReturnRequestsInput) -> ImportedReturnRequests:
        asked.append(input)
        if len(asked) == 1:
            raise PartnerRefused(REVOKED)
        return ImportedReturnRequests(cursor=input.created_after + timedelta(minutes=1))

    async with Worker(
        time_env.client,
        task_queue=task_queue,
        workflows=[ReturnRequestPollWorkflow],
        activities=[import_return_requests],
        workflow_runner=RUNNER,
    ):
        handle = await time_env.client.start_workflow(
            ReturnRequestPollWorkflow.run,
            ReturnPollInput(channel=Channel.EBAY, created_after=NOW, poll_interval_seconds=60),
            id=f"return-intake-{task_queue}",
            task_queue=task_queue,
        )
        await skip_time(time_env, timedelta(seconds=150))
        described = await handle.describe()
        await handle.terminate("test over")
    assert described.status is WorkflowExecutionStatus.RUNNING
    assert [a.created_after for a in asked[:3]] == [NOW, NOW, NOW + timedelta(minutes=1)]


async def test_a_refused_dispute_poll_is_asked_again_with_what_was_seen(
    time_env: WorkflowEnvironment, task_queue: str
) -> None:
    asked: list[PollDisputesInput] = []

    @activity.defn(name="poll_ebay_payment_disputes")
    async def poll_ebay_payment_disputes(input: PollDisputesInput) -> PollDisputesResult:
        asked.append(input)
        if len(asked) == 1:
            raise PartnerRefused(REVOKED)
        return PollDisputesResult(seen={**input.seen, f"d{len(asked)}": "open:1"}, signalled=1)

    @activity.defn(name="poll_marketplace_claims")
    async def poll_marketplace_claims(input: PollDisputesInput) -> PollDisputesResult:
        return PollDisputesResult(seen=input.seen, signalled=0)

    async with Worker(
        time_env.client,
        task_queue=task_queue,
        workflows=[DisputePollWorkflow],
        activities=[poll_ebay_payment_disputes, poll_marketplace_claims],
        workflow_runner=RUNNER,
    ):
        handle = await time_env.client.start_workflow(
            DisputePollWorkflow.run,
            DisputePollInput(interval_seconds=60, seen={"d0": "open:1"}),
            id=f"intake-poll-{task_queue}",
            task_queue=task_queue,
        )
        await skip_time(time_env, timedelta(seconds=150))
        described = await handle.describe()
        await handle.terminate("test over")
    assert described.status is WorkflowExecutionStatus.RUNNING
    assert [sorted(a.seen) for a in asked[:3]] == [["d0"], ["d0"], ["d0", "d2"]]
