"""MarketplacePollWorkflow: a durable poller per marketplace (`intake-poll-{channel}`).

Polling is a workflow rather than a loop in some process because its cursor must
survive restarts and Temporal is our only scheduler: the cursor lives in workflow
state, each poll is an activity (retried by Temporal), and continue-as-new keeps the
history short.

Each poll imports new orders, then (behind the "cancellation-requests" patch) relays
buyers' cancellation requests to their orders, with a cursor of its own. A poller that
was running before the patch starts relaying at its next continue-as-new: within a run,
Temporal keeps a patch's first answer.

Behind the "cancellation-relay-bounded" patch the relay has a few attempts per poll
(`RELAY_RETRY`, `RELAY_DEADLINE`) instead of retrying for ever: a relay that keeps
failing would otherwise hold the poll, and with it every new order, behind it. Its
last attempt returns what it did, the cursor moves over that, and the next poll goes on.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Self

from pydantic import BaseModel, Field, model_validator
from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from activities.intake import IntakeActivities
    from crossdock.models.intake import ImportCancellationsInput, ImportOrdersInput
    from crossdock.models.order import Channel
    from workflows.options import PARTNER_HEARTBEAT, UPGRADE_AT_CONTINUE, call_partner

# Re-read this much before the newest order seen: marketplaces index orders a little
# late, so a strict cursor would miss some. Orders seen in the overlap are skipped.
OVERLAP = timedelta(minutes=5)
POLLS_PER_RUN = 200
CANCELLATION_REQUESTS = "cancellation-requests"
BOUNDED_RELAY = "cancellation-relay-bounded"
# A relay attempt heartbeats its progress, so each retry resumes where the last stopped;
# after these the poll moves on and the next poll asks again from the cursor.
RELAY_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(seconds=10),
    maximum_attempts=4,
)
RELAY_ATTEMPT = timedelta(minutes=2)
RELAY_DEADLINE = timedelta(minutes=5)


class PollInput(BaseModel):
    channel: Channel
    created_after: datetime
    poll_interval_seconds: float = Field(gt=0)
    # Order ids already imported inside the overlap window, with their purchase time.
    recent: dict[str, datetime] = Field(default_factory=dict)
    # Buyers' cancellation requests: listed from this time (eBay: requested, Amazon: order
    # updated), and the listing keys already handled inside the overlap window. Pollers
    # started before these fields existed begin at their order cursor.
    cancellations_after: datetime | None = None
    cancellations_seen: dict[str, datetime] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _cancellation_cursor(self) -> Self:
        if self.cancellations_after is None:
            self.cancellations_after = self.created_after
        return self


def advance(
    cursor: datetime, recent: dict[str, datetime], seen: dict[str, datetime]
) -> tuple[datetime, dict[str, datetime]]:
    """The cursor and overlap-window keys after a poll that listed `seen`.

    The cursor moves to the newest time seen less the overlap, never back; keys older
    than the cursor can no longer be listed and are forgotten.
    """
    recent = {**recent, **seen}
    if seen:
        cursor = max(cursor, max(seen.values()) - OVERLAP)
    return cursor, {key: at for key, at in recent.items() if at >= cursor}


@workflow.defn
class MarketplacePollWorkflow:
    @workflow.run
    async def run(self, input: PollInput) -> None:
        state = input.model_copy(deep=True)
        for _ in range(POLLS_PER_RUN):
            await self._poll_once(state)
            await workflow.sleep(timedelta(seconds=state.poll_interval_seconds))
        workflow.continue_as_new(state, initial_versioning_behavior=UPGRADE_AT_CONTINUE)

    async def _poll_once(self, state: PollInput) -> None:
        result = await call_partner(
            IntakeActivities.import_new_orders,
            ImportOrdersInput(
                channel=state.channel,
                created_after=state.created_after,
                skip=sorted(state.recent),
            ),
        )
        state.created_after, state.recent = advance(state.created_after, state.recent, result.seen)
        if workflow.patched(CANCELLATION_REQUESTS):
            await self._relay_cancellations(state)

    async def _relay_cancellations(self, state: PollInput) -> None:
        since = state.cancellations_after or state.created_after
        try:
            request = ImportCancellationsInput(
                channel=state.channel, since=since, skip=sorted(state.cancellations_seen)
            )
            if workflow.patched(BOUNDED_RELAY):
                result = await workflow.start_activity_method(
                    IntakeActivities.import_cancellation_requests,
                    request,
                    start_to_close_timeout=RELAY_ATTEMPT,
                    schedule_to_close_timeout=RELAY_DEADLINE,
                    heartbeat_timeout=PARTNER_HEARTBEAT,
                    retry_policy=RELAY_RETRY,
                )
            else:
                result = await call_partner(IntakeActivities.import_cancellation_requests, request)
        except ActivityError as err:
            # A listing the marketplace refuses must not stop order intake: the cursor
            # stays, so the next poll asks again.
            why = str(err.cause or err)
            workflow.logger.warning(
                "cancellation_requests_failed", extra={"channel": state.channel, "error": why}
            )
            return
        # What became of each request is in the activity's result (this history) and
        # in the worker's log.
        state.cancellations_after, state.cancellations_seen = advance(
            since, state.cancellations_seen, result.seen
        )
