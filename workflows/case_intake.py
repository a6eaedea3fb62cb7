"""BuyerMessagePollWorkflow: reads a marketplace's buyer messages and delivers each to
its case (`intake-messages-{channel}`), the cursor in workflow state, continue-as-new
before the history grows long (docs/customer-service.md)."""

from __future__ import annotations

from datetime import datetime, timedelta

from pydantic import BaseModel, Field
from temporalio import workflow
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from activities.case_intake import CaseIntakeActivities
    from crossdock.models.case import ImportBuyerMessagesInput
    from crossdock.models.order import Channel
    from workflows.options import UPGRADE_AT_CONTINUE, call_partner
    from workflows.refusals import refusal_of

# Polls per run: each adds about a dozen events, so a run stays far below Temporal's limits.
POLLS_PER_RUN = 200


class MessagePollInput(BaseModel):
    channel: Channel
    since: datetime
    poll_interval_seconds: float = Field(gt=0)


def poller_id(channel: Channel) -> str:
    return f"intake-messages-{channel.value}"


@workflow.defn
class BuyerMessagePollWorkflow:
    @workflow.run
    async def run(self, input: MessagePollInput) -> None:
        cursor = input.since
        for _ in range(POLLS_PER_RUN):
            try:
                found = await call_partner(
                    CaseIntakeActivities.import_buyer_messages,
                    ImportBuyerMessagesInput(channel=input.channel, since=cursor),
                )
                cursor = found.cursor
            except ActivityError as err:
                refusal = refusal_of(err)
                if refusal is None:
                    raise
                # A refused poll (a revoked token) is asked again from the same cursor.
                workflow.logger.warning(
                    "message_poll_refused",
                    extra={"channel": input.channel, "refusal": str(refusal)},
                )
            await workflow.sleep(timedelta(seconds=input.poll_interval_seconds))
        workflow.continue_as_new(
            input.model_copy(update={"since": cursor}),
            initial_versioning_behavior=UPGRADE_AT_CONTINUE,
        )
