"""Step: wait for the provider's verdict on a round, reading the dispute from the provider
(the source of truth) whenever none has arrived for the policy's `recheck_after_seconds`.

Events are the usual way a verdict arrives, but a webhook may be dropped, a poll may miss
a change and an answer may cross an event: without the re-read, any of them would leave
the dispute waiting for ever for something the provider already decided.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from activities.disputes import DisputeActivities
    from crossdock.models.dispute import DisputeSnapshot, ReadDisputeInput
    from workflows.dispute_context import DisputeContext
    from workflows.dispute_questions import words
    from workflows.options import (
        PARTNER_HEARTBEAT,
        PARTNER_RETRY,
        PARTNER_TIMEOUT,
        condition_within,
    )
    from workflows.refusals import refusal_of

# Before this patch the dispute waited for the verdict's event with no timer.
VERDICT_RECHECK = "dispute-verdict-recheck"


async def await_verdict(ctx: DisputeContext) -> None:
    """Until the provider closed the round or asks again (a new round)."""

    def verdict() -> bool:
        return ctx.provider_closed or ctx.asked_again

    if not workflow.patched(VERDICT_RECHECK):
        await workflow.wait_condition(verdict)
        return
    while not await condition_within(verdict, ctx.policy.recheck_after_seconds):
        await reread(ctx)


async def reread(ctx: DisputeContext) -> None:
    """Read the dispute from its provider and take what it says. A read that fails (or
    is still retrying when the next read would be due) is noted and tried again after
    the next interval; a refusal (the provider no longer knows the dispute) also asks
    for a person."""
    since = ctx.status.latest_event
    try:
        read = await _read(ctx)
    except ActivityError as err:
        refusal = refusal_of(err)
        why = words(refusal) if refusal else str(err.cause or err)
        ctx.note("provider_read_failed", why)
        if refusal:
            ctx.flag(f"reading the dispute refused: {why}")
        return
    ctx.note("provider_read", str(read.status))
    ctx.take_read(read, since, "read")


async def _read(ctx: DisputeContext) -> DisputeSnapshot:
    # Bounded by the interval, so a verdict delivered while the provider is down is
    # acted on by the next turn of the wait, not after the read's retries.
    budget = max(timedelta(seconds=ctx.policy.recheck_after_seconds), PARTNER_TIMEOUT)
    return await workflow.execute_activity_method(
        DisputeActivities.read_dispute,
        ReadDisputeInput(dispute_id=ctx.status.snapshot.id, provider=ctx.provider),
        start_to_close_timeout=PARTNER_TIMEOUT,
        schedule_to_close_timeout=budget,
        heartbeat_timeout=PARTNER_HEARTBEAT,
        retry_policy=PARTNER_RETRY,
    )
