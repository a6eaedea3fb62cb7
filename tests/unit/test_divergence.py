"""Reading where a history stops replaying from the SDK's nondeterminism message."""

from __future__ import annotations

from temporalio.api.enums.v1 import EventType
from temporalio.api.history.v1 import HistoryEvent

from crossdock.divergence import divergence_in

COMPLETED = EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED
SCHEDULED = EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED
MESSAGE = (
    "[TMPRL1100] Nondeterminism error: Update machine does not handle this event: "
    "HistoryEvent(id: {}, UpsertWorkflowSearchAttributes)"
)


def _history() -> list[HistoryEvent]:
    kinds = {4: COMPLETED, 6: SCHEDULED, 9: COMPLETED, 11: SCHEDULED, 14: COMPLETED}
    events = [
        HistoryEvent(event_id=i, event_type=kinds.get(i, EventType.EVENT_TYPE_MARKER_RECORDED))
        for i in range(1, 17)
    ]
    events[10].activity_task_scheduled_event_attributes.activity_type.name = "issue_refund"
    events[5].activity_task_scheduled_event_attributes.activity_type.name = "read_order"
    return events


def test_the_reset_goes_to_the_task_before_the_one_that_recorded_the_mismatch() -> None:
    found = divergence_in(_history(), MESSAGE.format(15))
    assert found is not None
    assert (found.recorded_by_task, found.reset_to) == (14, 9)
    assert found.runs_again == ["issue_refund"]


def test_a_mismatch_in_the_first_task_has_nowhere_to_reset_to() -> None:
    assert divergence_in(_history(), MESSAGE.format(5)) is None


def test_other_failures_are_not_divergences() -> None:
    assert divergence_in(_history(), "ValueError: HistoryEvent(id: 15) refused") is None
    assert divergence_in(_history(), "[TMPRL1100] Nondeterminism error, no event named") is None
