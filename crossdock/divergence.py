"""Healing a case whose history its own code no longer replays, when the code did not
change: a workflow task that recorded commands in another order than a replay issues.

How such a history comes about (reproduced in tests/integration/test_divergence.py):
a worker dies; a timer of the case fires while its task waits on the dead worker's
sticky queue; an operator's decision (an update) and a console read (a query) arrive
before a new worker takes the task. The server hands the new worker the task with the
query attached; the SDK answers the query first, running the fired timer on the way,
and only then the update, so the task records the timer's commands before the update.
Any later replay of the same history runs timer and update in one activation, update
first, and fails with `[TMPRL1100] Nondeterminism error` on the first command recorded
in the other order. The case is then stuck: every new task, and every read, fails.

The cure is Temporal's own reset, to the workflow task before the one recorded out of
order, reapplying every signal and update received since: the reset run executes that
stretch again in the order a replay uses, and the operator's decision is applied again,
not lost. What the dropped stretch had done again runs again: activities are idempotent
(keys from the case and step), so partners see each side effect once.

Every event before the first mismatch replayed, so the reset is right whatever made
that one task differ (this race, or a code change that broke replay from there on). What
it runs again is listed before an operator confirms; the console's scan heals by itself
only while the reset point is younger than the partners' idempotency windows.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime

from temporalio.api.common.v1 import WorkflowExecution
from temporalio.api.enums.v1 import EventType, ResetReapplyType, WorkflowTaskFailedCause
from temporalio.api.history.v1 import HistoryEvent
from temporalio.api.workflowservice.v1 import ResetWorkflowExecutionRequest
from temporalio.client import Client, WorkflowExecutionStatus, WorkflowQueryFailedError

NONDETERMINISM = "[TMPRL1100]"
_MISMATCH = re.compile(r"HistoryEvent\(id: (\d+)")
# A read every workflow answers (the SDK's own): it replays the history, so it fails
# with the nondeterminism on a case that has not failed a task yet (idle on a timer).
_PROBE_QUERY = "__stack_trace"


@dataclass(frozen=True)
class Divergence:
    """Where a history stops replaying."""

    # The history event the replay could not match, as the SDK reported it.
    mismatched_event: int
    # The workflow task whose commands were recorded out of order (its completed event).
    recorded_by_task: int
    # The workflow task before it, where a reset starts again, and when it ran.
    reset_to: int
    reset_to_time: datetime
    # The activities the reset runs again (idempotent, but each partner remembers an
    # idempotency key only so long: Stripe 24 h).
    runs_again: list[str]
    message: str


@dataclass(frozen=True)
class Healed:
    workflow_id: str
    old_run_id: str
    new_run_id: str
    divergence: Divergence


def divergence_in(events: list[HistoryEvent], message: str) -> Divergence | None:
    """The divergence that `message` (a nondeterminism error) reports in `events`; None
    for any other error. Every event before the mismatch replayed, so the task that
    recorded it is the first to run again, whatever made it differ."""
    found = _MISMATCH.search(message)
    if NONDETERMINISM not in message or found is None:
        return None
    mismatched = int(found.group(1))
    completed = [
        event
        for event in events
        if event.event_type is EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED
        and event.event_id < mismatched
    ]
    if len(completed) < 2:
        return None
    reset_to = completed[-2]
    return Divergence(
        mismatched_event=mismatched,
        recorded_by_task=completed[-1].event_id,
        reset_to=reset_to.event_id,
        reset_to_time=reset_to.event_time.ToDatetime(tzinfo=UTC),
        runs_again=_activities_after(events, reset_to.event_id),
        message=message,
    )


def _activities_after(events: list[HistoryEvent], event_id: int) -> list[str]:
    """The activities scheduled after `event_id`: a reset there runs them again."""
    return [
        event.activity_task_scheduled_event_attributes.activity_type.name
        for event in events
        if event.event_type is EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED
        and event.event_id > event_id
    ]


def recorded_failure(events: list[HistoryEvent]) -> str | None:
    """The message of the last workflow task that failed on a nondeterminism."""
    for event in reversed(events):
        if event.event_type is not EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED:
            continue
        attributes = event.workflow_task_failed_event_attributes
        nondeterministic = (
            attributes.cause
            is WorkflowTaskFailedCause.WORKFLOW_TASK_FAILED_CAUSE_NON_DETERMINISTIC_ERROR
        )
        if nondeterministic or NONDETERMINISM in attributes.failure.message:
            return attributes.failure.message
        return None
    return None


async def find_divergence(client: Client, workflow_id: str) -> tuple[str, Divergence] | None:
    """The running case's divergence and run id, from its recorded task failure or, on a
    case idle since, from a read that replays it; None when it replays."""
    handle = client.get_workflow_handle(workflow_id)
    description = await handle.describe()
    if description.status is not WorkflowExecutionStatus.RUNNING:
        return None  # a closed case keeps its result; only reads of it fail
    run_id = description.run_id
    events = [event async for event in handle.fetch_history_events()]
    message = recorded_failure(events)
    if message is None:
        try:
            await client.get_workflow_handle(workflow_id, run_id=run_id).query(_PROBE_QUERY)
        except WorkflowQueryFailedError as err:
            message = str(err)
        else:
            return None
    divergence = divergence_in(events, message)
    return (run_id, divergence) if divergence is not None else None


async def heal(
    client: Client, workflow_id: str, by: str, found: tuple[str, Divergence] | None = None
) -> Healed | None:
    """Reset a case stuck on this race to the task before the divergence, reapplying
    the signals and updates it received since; None when the case is not stuck so.
    `found` is what `find_divergence` answered, when the caller has asked already.

    The request id is derived from the run and the reset point, so a repeated heal (two
    consoles, a retry) resets once.
    """
    found = found or await find_divergence(client, workflow_id)
    if found is None:
        return None
    run_id, divergence = found
    response = await client.workflow_service.reset_workflow_execution(
        ResetWorkflowExecutionRequest(
            namespace=client.namespace,
            workflow_execution=WorkflowExecution(workflow_id=workflow_id, run_id=run_id),
            reason=(
                f"healed by {by}: task {divergence.recorded_by_task} recorded its commands "
                f"in another order than replay issues them (event "
                f"{divergence.mismatched_event}); reset to task {divergence.reset_to}"
            ),
            workflow_task_finish_event_id=divergence.reset_to,
            request_id=f"heal-{run_id}-{divergence.reset_to}",
            reset_reapply_type=ResetReapplyType.RESET_REAPPLY_TYPE_ALL_ELIGIBLE,
            identity=by,
        )
    )
    return Healed(workflow_id, run_id, response.run_id, divergence)
