"""ReturnRequestPollWorkflow: finds buyers' marketplace return requests and starts their
returns (`return-intake-{channel}`), the cursor in workflow state, continue-as-new before
the history grows long."""

from __future__ import annotations

from datetime import datetime, timedelta

from pydantic import BaseModel, Field
from temporalio import workflow
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from activities.return_intake import ImportReturnRequestsInput, ReturnIntakeActivities
    from crossdock.models.order import Channel
    from workflows.options import UPGRADE_AT_CONTINUE, call_partner
    from workflows.refusals import refusal_of

# Polls per run: each adds about a dozen events, so a run stays far below Temporal's limits.
POLLS_PER_RUN = 200
# Before this patch a marketplace refusing one poll (a revoked token, a bad cursor)
# failed the poller, and no return was found again until someone restarted it.
POLL_REFUSED = "return-poll-refused"


class ReturnPollInput(BaseModel):
    channel: Channel
    created_after: datetime
    poll_interval_seconds: float = Field(gt=0)


@workflow.defn
class ReturnRequestPollWorkflow:
    @workflow.run
    async def run(self, input: ReturnPollInput) -> None:
        cursor = input.created_after
        for _ in range(POLLS_PER_RUN):
            try:
                found = await call_partner(
                    ReturnIntakeActivities.import_return_requests,
                    ImportReturnRequestsInput(channel=input.channel, created_after=cursor),
                )
                cursor = found.cursor
            except ActivityError as err:
                refusal = refusal_of(err)
                if refusal is None or not workflow.patched(POLL_REFUSED):
                    raise
                # The next poll asks again from the same cursor: nothing is skipped.
                workflow.logger.warning(
                    "return_poll_refused", extra={"channel": input.channel, "refusal": str(refusal)}
                )
            await workflow.sleep(timedelta(seconds=input.poll_interval_seconds))
        workflow.continue_as_new(
            input.model_copy(update={"created_after": cursor}),
            initial_versioning_behavior=UPGRADE_AT_CONTINUE,
        )
