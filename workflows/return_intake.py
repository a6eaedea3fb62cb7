"""ReturnRequestPollWorkflow: finds buyers' marketplace return requests and starts their
returns (`return-intake-{channel}`), the cursor in workflow state, continue-as-new before
the history grows long."""

from __future__ import annotations

from datetime import datetime, timedelta

from pydantic import BaseModel, Field
from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.return_intake import ImportReturnRequestsInput, ReturnIntakeActivities
    from crossdock.models.order import Channel
    from workflows.options import call_partner

# Polls per run: each adds about a dozen events, so a run stays far below Temporal's limits.
POLLS_PER_RUN = 200


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
            found = await call_partner(
                ReturnIntakeActivities.import_return_requests,
                ImportReturnRequestsInput(channel=input.channel, created_after=cursor),
            )
            cursor = found.cursor
            await workflow.sleep(timedelta(seconds=input.poll_interval_seconds))
        workflow.continue_as_new(input.model_copy(update={"created_after": cursor}))
