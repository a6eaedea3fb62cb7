"""An admin's remedies for a stuck case, the runbook's steps (docs/operations.md) from
the console, each recorded in the audit log whatever the outcome:

- retry: an activity retried past its policy's expectation runs again now, its attempts
  counted from one (Temporal's ResetActivity), once the cause is fixed;
- reset: a workflow whose task keeps failing is reset to its last completed workflow
  task, after the fixed code is deployed (`temporal workflow reset --type
  LastWorkflowTask`), or, when its history no longer replays, to the task before the
  first mismatch (crossdock/divergence.py); signals and updates after that point are
  re-applied, and activities that run again carry the same idempotency keys."""

from __future__ import annotations

import asyncio
import uuid
from enum import StrEnum

from temporalio.api.common.v1 import WorkflowExecution
from temporalio.api.enums.v1 import EventType, ResetReapplyType
from temporalio.api.workflowservice.v1 import (
    GetWorkflowExecutionHistoryReverseRequest,
    ResetActivityRequest,
    ResetWorkflowExecutionRequest,
)
from temporalio.client import Client
from temporalio.service import RPCError

from crossdock.audit.log import AuditLog, DecisionAttempt, Outcome
from crossdock.console.errors import ConsoleError, refused
from crossdock.console.views import StuckReason, StuckReport
from crossdock.divergence import find_divergence, heal
from crossdock.models.approval import Principal, Role


class Remedy(StrEnum):
    RETRY = "retry"
    RESET = "reset"


# Which remedy fits which kind of stuck.
FITS = {
    Remedy.RETRY: StuckReason.ACTIVITY_RETRYING,
    Remedy.RESET: StuckReason.WORKFLOW_TASK_FAILING,
}


async def apply_remedy(
    client: Client,
    audit: AuditLog,
    report: StuckReport | None,
    workflow_id: str,
    remedy: Remedy,
    by: Principal,
    reason: str,
) -> str:
    """Apply `remedy` to the stuck case; what was done, or a ConsoleError saying why not."""
    try:
        done = await _apply(client, report, workflow_id, remedy, by, reason)
    except ConsoleError as err:
        await _record(audit, workflow_id, remedy, by, Outcome.REFUSED, err.message)
        raise
    await _record(audit, workflow_id, remedy, by, Outcome.ACCEPTED, f"{reason} ({done})")
    return done


async def _apply(
    client: Client,
    report: StuckReport | None,
    workflow_id: str,
    remedy: Remedy,
    by: Principal,
    reason: str,
) -> str:
    if by.role is not Role.ADMIN:
        raise ConsoleError(403, "forbidden", f"role {by.role} may not {remedy} a stuck case")
    if not reason.strip():
        raise ConsoleError(400, "bad_request", f"say why the case is {remedy}ed (reason)")
    if report is None or report.reason is not FITS[remedy]:
        raise refused(f"{workflow_id} is not stuck in a way {remedy} mends")
    try:
        if remedy is Remedy.RETRY:
            return await _retry(client, report, by)
        return await _reset(client, workflow_id, by, reason)
    except RPCError as err:
        raise refused(f"Temporal refused the {remedy} of {workflow_id}: {err.message}") from None


async def _retry(client: Client, report: StuckReport, by: Principal) -> str:
    await client.workflow_service.reset_activity(
        ResetActivityRequest(
            namespace=client.namespace,
            execution=WorkflowExecution(workflow_id=report.workflow_id),
            identity=f"crossdock-console/{by.id}",
            type=report.activity,
        )
    )
    return f"{report.activity} runs again now, attempts counted from 1"


async def _reset(client: Client, workflow_id: str, by: Principal, reason: str) -> str:
    found = await find_divergence(client, workflow_id)
    if found is not None:
        # A history its code no longer replays: the last task would fail again, so the
        # reset goes to the one before the first mismatch (crossdock/divergence.py).
        healed = await heal(client, workflow_id, f"{by.id}: {reason}", found)
        if healed is not None:
            return (
                f"reset past the task that recorded the mismatch, to event "
                f"{healed.divergence.reset_to}, new run {healed.new_run_id}"
            )
    event_id = await _last_completed_task(client, workflow_id)
    answer = await client.workflow_service.reset_workflow_execution(
        ResetWorkflowExecutionRequest(
            namespace=client.namespace,
            workflow_execution=WorkflowExecution(workflow_id=workflow_id),
            reason=f"{by.id}: {reason}",
            workflow_task_finish_event_id=event_id,
            request_id=str(uuid.uuid4()),
            identity=f"crossdock-console/{by.id}",
            reset_reapply_type=ResetReapplyType.RESET_REAPPLY_TYPE_ALL_ELIGIBLE,
        )
    )
    return f"reset to event {event_id}, new run {answer.run_id}"


async def _last_completed_task(client: Client, workflow_id: str) -> int:
    """The id of the last WorkflowTaskCompleted event (history read backwards)."""
    token = b""
    while True:
        page = await client.workflow_service.get_workflow_execution_history_reverse(
            GetWorkflowExecutionHistoryReverseRequest(
                namespace=client.namespace,
                execution=WorkflowExecution(workflow_id=workflow_id),
                maximum_page_size=100,
                next_page_token=token,
            )
        )
        for event in page.history.events:
            if event.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED:
                return int(event.event_id)
        token = page.next_page_token
        if not token:
            raise refused(f"{workflow_id} never completed a workflow task: nothing to reset to")


async def _record(
    audit: AuditLog,
    workflow_id: str,
    remedy: Remedy,
    by: Principal,
    outcome: Outcome,
    reason: str,
) -> None:
    attempt = DecisionAttempt(
        workflow_id=workflow_id[:255],
        action=f"stuck_{remedy.value}",
        by=by,
        outcome=outcome,
        reason=reason[:2000],
    )
    await asyncio.to_thread(audit.append, attempt)


__all__ = ["FITS", "Remedy", "apply_remedy"]
