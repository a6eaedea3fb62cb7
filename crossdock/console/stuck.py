"""Cases that are stuck: a workflow task that keeps failing (an illegal transition, an
unexpected exception in workflow code) or an activity retried for longer than its retry
policy expects a partner outage to last. Neither changes a search attribute, so without
this the case would look like it is merely waiting. docs/operations.md has the runbook.

How it is found, and why so. Temporal shows both only in a workflow's description
(`pending_workflow_task.attempt`, `pending_activities[].attempt` and `last_failure`),
one RPC per workflow. Describing on every page load would cost a describe per case, per
operator, per inbox reload (every 15 s), and describing only the cases on the page would
miss the very cases that matter: a stuck case waits for no decision, so it is in no
inbox window. So one scan per console process lists the running cases and describes
each (a few at a time, served from the server's mutable-state cache, no history read)
every `stuck_scan_seconds`, and the pages read its last result. Only for a case found
stuck is its history read, backwards, for the failure the workflow task recorded.
(Servers from 1.29 can flag failing workflow tasks in the `TemporalReportedProblems`
search attribute, which would save the describes for that half; activity retries have
no such flag, so the scan stays.)
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import structlog
from google.protobuf.message import Message
from temporalio.api.enums.v1 import EventType
from temporalio.api.failure.v1 import Failure
from temporalio.api.workflowservice.v1 import (
    DescribeWorkflowExecutionResponse,
    GetWorkflowExecutionHistoryReverseRequest,
)
from temporalio.client import Client, WorkflowExecution

from crossdock.console.kinds import BY_TYPE, CaseKind, spec_for_id
from crossdock.console.views import StuckReason, StuckReport
from crossdock.divergence import NONDETERMINISM, find_divergence, heal
from workflows.search import CROSSDOCK_STATE, MARKETPLACE

log = structlog.get_logger(__name__)

RUNNING_CASES = 'ExecutionStatus = "Running" AND WorkflowType IN ({})'.format(
    ", ".join(f'"{workflow_type}"' for workflow_type in sorted(BY_TYPE))
)
# The first look after the console starts waits this long for the first scan, so a
# stuck case shows at once rather than one scan interval later.
FIRST_SCAN_WAIT_SECONDS = 10.0
MAX_ERROR_CHARS = 500
# Who resets a case the scan heals, in its reset reason (Temporal's history keeps it).
HEALER = "console stuck scan"


@dataclass(frozen=True)
class StuckPolicy:
    """When a case counts as stuck, and how often the console looks."""

    # Consecutive failed attempts of one workflow task (the first may be a worker that
    # died mid-task; three in a row is the code).
    task_attempts: int = 3
    # Attempts of one activity: with the partner retry policy (1 s doubling to 2 min)
    # ten attempts are about six minutes of one partner failing the same call.
    activity_attempts: int = 10
    scan_seconds: float = 30.0
    concurrency: int = 8
    # A case whose task fails on a nondeterminism is healed by the scan itself when the
    # task it resets to is younger than this (crossdock/divergence.py); None: never.
    # Under the shortest idempotency window of the partners (Stripe: 24 h), so what the
    # reset runs again is recognised as a repeat.
    heal_within: timedelta | None = timedelta(hours=12)


def stuck_report(
    workflow_id: str,
    kind: CaseKind,
    description: DescribeWorkflowExecutionResponse,
    policy: StuckPolicy,
    state: str = "",
    marketplace: str = "",
) -> StuckReport | None:
    """What makes the described workflow stuck, if anything (a failing workflow task
    first: while it fails, no activity result is processed). The task's error is filled
    in by `with_task_error`: a description does not carry it."""
    task = description.pending_workflow_task
    common = {"workflow_id": workflow_id, "kind": kind, "state": state, "marketplace": marketplace}
    if description.HasField("pending_workflow_task") and task.attempt >= policy.task_attempts:
        return StuckReport(
            **common,
            reason=StuckReason.WORKFLOW_TASK_FAILING,
            attempts=task.attempt,
            since=_time(task, "original_scheduled_time"),
        )
    retrying = [a for a in description.pending_activities if a.attempt >= policy.activity_attempts]
    if not retrying:
        return None
    worst = max(retrying, key=lambda a: a.attempt)
    return StuckReport(
        **common,
        reason=StuckReason.ACTIVITY_RETRYING,
        attempts=worst.attempt,
        activity=worst.activity_type.name,
        last_error=_failure_text(worst.last_failure) if worst.HasField("last_failure") else "",
        next_attempt_at=_time(worst, "next_attempt_schedule_time"),
    )


async def with_task_error(client: Client, report: StuckReport) -> StuckReport:
    """`report` with the error its failing workflow task recorded in history (the first
    failure is an event; the server keeps later attempts of the same task out of it)."""
    if report.reason is not StuckReason.WORKFLOW_TASK_FAILING:
        return report
    request = GetWorkflowExecutionHistoryReverseRequest(
        namespace=client.namespace, maximum_page_size=50
    )
    request.execution.workflow_id = report.workflow_id
    try:
        page = await client.workflow_service.get_workflow_execution_history_reverse(request)
    except Exception as err:  # the marker matters more than its detail
        log.warning("stuck_history_unavailable", workflow_id=report.workflow_id, error=str(err))
        return report
    for event in page.history.events:
        if event.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED:
            failure = event.workflow_task_failed_event_attributes.failure
            return report.model_copy(update={"last_error": _failure_text(failure)})
    return report


async def describe_stuck(
    client: Client, execution: WorkflowExecution, policy: StuckPolicy
) -> StuckReport | None:
    """The stuck report of one listed execution (None: healthy, closed or unknown)."""
    spec = BY_TYPE.get(execution.workflow_type) or spec_for_id(execution.id)
    if spec is None:
        return None
    description = await client.get_workflow_handle(execution.id).describe()
    attributes = execution.typed_search_attributes
    report = stuck_report(
        execution.id,
        spec.kind,
        description.raw_description,
        policy,
        state=attributes.get(CROSSDOCK_STATE) or "",
        marketplace=attributes.get(MARKETPLACE) or "",
    )
    return await with_task_error(client, report) if report else None


async def scan(client: Client, policy: StuckPolicy) -> dict[str, StuckReport]:
    """Every running case that is stuck now, by workflow id."""
    gate = asyncio.Semaphore(policy.concurrency)

    async def one(execution: WorkflowExecution) -> StuckReport | None:
        async with gate:
            try:
                return await describe_stuck(client, execution, policy)
            except Exception as err:  # closed meanwhile, or Temporal briefly away
                log.info("stuck_describe_failed", workflow_id=execution.id, error=str(err))
                return None

    executions = [e async for e in client.list_workflows(RUNNING_CASES)]
    reports = await asyncio.gather(*(one(e) for e in executions))
    return {r.workflow_id: r for r in reports if r is not None}


class StuckWatch:
    """The console's scan for stuck cases: started with the console (or by the first
    look), then repeated every `policy.scan_seconds` while it runs; readers get its
    last result."""

    def __init__(self, policy: StuckPolicy) -> None:
        self.policy = policy
        self._reports: dict[str, StuckReport] = {}
        self._scanned = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self, client: Client) -> None:
        """Scan (and heal) from now on, whether or not anyone looks: started with the
        console, so a diverged case is healed while nobody has the console open."""
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run(client), name="stuck-scan")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def reports(self, client: Client) -> dict[str, StuckReport]:
        """The stuck cases as last scanned (starting the scan if it is not running)."""
        self.start(client)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._scanned.wait(), FIRST_SCAN_WAIT_SECONDS)
        return self._reports

    async def _run(self, client: Client) -> None:
        while True:
            started = asyncio.get_running_loop().time()
            try:
                self._reports = await heal_diverged(
                    client, await scan(client, self.policy), self.policy
                )
                seconds = asyncio.get_running_loop().time() - started
                log.debug("stuck_scanned", stuck=len(self._reports), seconds=round(seconds, 2))
            except Exception as err:  # Temporal away: keep the last answer, look again later
                log.warning("stuck_scan_failed", error=str(err))
            self._scanned.set()
            await asyncio.sleep(self.policy.scan_seconds)


async def heal_diverged(
    client: Client, reports: dict[str, StuckReport], policy: StuckPolicy
) -> dict[str, StuckReport]:
    """`reports` without the cases healed now: those whose task fails on a
    nondeterminism with a reset point younger than `policy.heal_within`."""
    left = dict(reports)
    for workflow_id, report in reports.items():
        diverged = NONDETERMINISM in report.last_error
        if policy.heal_within is None or not diverged:
            continue
        try:
            found = await find_divergence(client, workflow_id)
            if found is None or datetime.now(UTC) - found[1].reset_to_time > policy.heal_within:
                continue
            healed = await heal(client, workflow_id, HEALER, found)
        except Exception as err:  # the case stays marked; an admin can heal it by hand
            log.warning("heal_failed", workflow_id=workflow_id, error=str(err))
            continue
        if healed is not None:
            log.info(
                "case_healed",
                workflow_id=workflow_id,
                new_run_id=healed.new_run_id,
                reset_to=healed.divergence.reset_to,
                runs_again=healed.divergence.runs_again,
            )
            del left[workflow_id]
    return left


def _failure_text(failure: Failure) -> str:
    kind = (
        failure.application_failure_info.type
        if failure.HasField("application_failure_info")
        else ""
    )
    text = f"{kind}: {failure.message}" if kind else failure.message
    return text[:MAX_ERROR_CHARS]


def _time(message: Message, name: str) -> datetime | None:
    if not message.HasField(name):
        return None
    value: datetime = getattr(message, name).ToDatetime(tzinfo=UTC)
    return value
