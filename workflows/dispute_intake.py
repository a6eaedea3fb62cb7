"""The durable poller of eBay payment disputes: `intake-poll-ebay-disputes`.

Polls, sleeps, and continues as new after a while, carrying what it has seen, so its
history stays short however long it runs.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.dispute_intake import DisputeIntakeActivities
    from crossdock.models.dispute import DisputePollInput, PollDisputesInput
    from workflows.options import PARTNER_HEARTBEAT, PARTNER_RETRY

POLLS_PER_RUN = 100


@workflow.defn
class DisputePollWorkflow:
    @workflow.run
    async def run(self, input: DisputePollInput) -> None:
        seen = input.seen
        for _ in range(POLLS_PER_RUN):
            result = await workflow.execute_activity_method(
                DisputeIntakeActivities.poll_ebay_payment_disputes,
                PollDisputesInput(seen=seen),
                start_to_close_timeout=timedelta(minutes=2),
                heartbeat_timeout=PARTNER_HEARTBEAT,
                retry_policy=PARTNER_RETRY,
            )
            seen = result.seen
            await workflow.sleep(timedelta(seconds=input.interval_seconds))
        workflow.continue_as_new(input.model_copy(update={"seen": seen}))
