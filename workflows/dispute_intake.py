"""The durable poller of marketplace disputes: `intake-poll-ebay-disputes`.

Polls eBay payment disputes and, since patch `marketplace-claims`, eBay INR/SNAD cases
and Amazon A-to-z claims; sleeps, and continues as new after a while, carrying what it
has seen, so its history stays short however long it runs.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta

from temporalio import workflow
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from activities.dispute_intake import DisputeIntakeActivities
    from crossdock.models.dispute import DisputePollInput, PollDisputesInput, PollDisputesResult
    from workflows.options import PARTNER_HEARTBEAT, PARTNER_RETRY, UPGRADE_AT_CONTINUE
    from workflows.refusals import refusal_of

POLLS_PER_RUN = 100
# Runs recorded before claims were polled replay without the claims activity.
CLAIMS_PATCH = "marketplace-claims"
# Before this patch a marketplace refusing one poll failed the poller for good.
POLL_REFUSED = "dispute-poll-refused"


@workflow.defn
class DisputePollWorkflow:
    @workflow.run
    async def run(self, input: DisputePollInput) -> None:
        seen, claims_seen = input.seen, input.claims_seen
        for _ in range(POLLS_PER_RUN):
            seen = await _poll(DisputeIntakeActivities.poll_ebay_payment_disputes, seen)
            if workflow.patched(CLAIMS_PATCH):
                claims_seen = await _poll(
                    DisputeIntakeActivities.poll_marketplace_claims, claims_seen
                )
            await workflow.sleep(timedelta(seconds=input.interval_seconds))
        workflow.continue_as_new(
            input.model_copy(update={"seen": seen, "claims_seen": claims_seen}),
            initial_versioning_behavior=UPGRADE_AT_CONTINUE,
        )


async def _poll(
    activity: Callable[[DisputeIntakeActivities, PollDisputesInput], Awaitable[PollDisputesResult]],
    seen: dict[str, str],
) -> dict[str, str]:
    try:
        result = await workflow.execute_activity_method(
            activity,
            PollDisputesInput(seen=seen),
            start_to_close_timeout=timedelta(minutes=2),
            heartbeat_timeout=PARTNER_HEARTBEAT,
            retry_policy=PARTNER_RETRY,
        )
    except ActivityError as err:
        refusal = refusal_of(err)
        if refusal is None or not workflow.patched(POLL_REFUSED):
            raise
        # The next poll asks again with what was seen: nothing is skipped.
        workflow.logger.warning("dispute_poll_refused", extra={"refusal": str(refusal)})
        return seen
    return result.seen
