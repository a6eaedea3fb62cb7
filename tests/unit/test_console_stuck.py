"""What the console calls stuck, from a workflow's description: a workflow task failing
attempt after attempt, or an activity tried more often than its policy expects."""

from __future__ import annotations

from temporalio.api.workflowservice.v1 import DescribeWorkflowExecutionResponse

from crossdock.console.kinds import SPECS, CaseKind
from crossdock.console.reads import CaseFilter
from crossdock.console.stuck import StuckPolicy, stuck_report
from crossdock.console.views import StuckReason

POLICY = StuckPolicy(task_attempts=3, activity_attempts=10)
ORDER = "order-storefront-SF1"


def description(
    task_attempt: int = 0, *activity_attempts: int
) -> DescribeWorkflowExecutionResponse:
    answer = DescribeWorkflowExecutionResponse()
    if task_attempt:
        answer.pending_workflow_task.attempt = task_attempt
        answer.pending_workflow_task.original_scheduled_time.FromSeconds(1_800_000_000)
    for index, attempt in enumerate(activity_attempts):
        activity = answer.pending_activities.add()
        activity.activity_id = str(index)
        activity.activity_type.name = f"buy_label_{index}"
        activity.attempt = attempt
        activity.last_failure.message = f"carrier: 503 on attempt {attempt}"
        activity.last_failure.application_failure_info.type = "PartnerUnavailable"
    return answer


def test_a_healthy_case_is_not_stuck() -> None:
    assert stuck_report(ORDER, CaseKind.ORDER, description(1, 2, 9), POLICY) is None


def test_a_workflow_task_failing_three_times_in_a_row_is_stuck() -> None:
    report = stuck_report(ORDER, CaseKind.ORDER, description(3), POLICY)
    assert report is not None
    assert (report.reason, report.attempts) == (StuckReason.WORKFLOW_TASK_FAILING, 3)
    assert report.since is not None and report.since.timestamp() == 1_800_000_000


def test_the_most_retried_activity_is_reported_with_its_last_error() -> None:
    report = stuck_report(ORDER, CaseKind.ORDER, description(0, 4, 12, 10), POLICY)
    assert report is not None
    assert (report.reason, report.activity) == (StuckReason.ACTIVITY_RETRYING, "buy_label_1")
    assert report.last_error == "PartnerUnavailable: carrier: 503 on attempt 12"


def test_a_failing_task_comes_before_a_retrying_activity() -> None:
    report = stuck_report(ORDER, CaseKind.ORDER, description(5, 20), POLICY)
    assert report is not None and report.reason is StuckReason.WORKFLOW_TASK_FAILING


def test_the_stuck_filter_names_only_the_stuck_ids() -> None:
    orders = SPECS[CaseKind.ORDER]
    query = CaseFilter(stuck=True).query(orders, ["order-ebay-2", 'order-x" OR true', ORDER])
    assert query == (
        'WorkflowType = "OrderWorkflow" AND WorkflowId IN ("order-ebay-2", "order-storefront-SF1")'
    )
    assert CaseFilter(stuck=True).query(orders, []).endswith('WorkflowId = ""')
    assert CaseFilter(stuck=False).query(orders, [ORDER]) == 'WorkflowType = "OrderWorkflow"'
