"""MarketplacePollWorkflow: a durable poller per marketplace (`intake-poll-{channel}`).

Polling is a workflow rather than a loop in some process because its cursor must
survive restarts and Temporal is our only scheduler: the cursor lives in workflow
state, each poll is an activity (retried by Temporal), and continue-as-new keeps the
history short.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from pydantic import BaseModel, Field
from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.intake import IntakeActivities
    from crossdock.models.intake import ImportOrdersInput
    from crossdock.models.order import Channel
    from workflows.options import call_partner

# Re-read this much before the newest order seen: marketplaces index orders a little
# late, so a strict cursor would miss some. Orders seen in the overlap are skipped.
OVERLAP = timedelta(minutes=5)
POLLS_PER_RUN = 200


class PollInput(BaseModel):
    channel: Channel
    created_after: datetime
    poll_interval_seconds: float = Field(gt=0)
    # Order ids already imported inside the overlap window, with their purchase time.
    recent: dict[str, datetime] = Field(default_factory=dict)


@workflow.defn
class MarketplacePollWorkflow:
    @workflow.run
    async def run(self, input: PollInput) -> None:
        state = input.model_copy(deep=True)
        for _ in range(POLLS_PER_RUN):
            await self._poll_once(state)
            await workflow.sleep(timedelta(seconds=state.poll_interval_seconds))
        workflow.continue_as_new(state)

    async def _poll_once(self, state: PollInput) -> None:
        result = await call_partner(
            IntakeActivities.import_new_orders,
            ImportOrdersInput(
                channel=state.channel,
                created_after=state.created_after,
                skip=sorted(state.recent),
            ),
        )
        state.recent.update(result.seen)
        if result.seen:
            newest = max(result.seen.values())
            state.created_after = max(state.created_after, newest - OVERLAP)
        state.recent = {
            order_id: placed
            for order_id, placed in state.recent.items()
            if placed >= state.created_after
        }
