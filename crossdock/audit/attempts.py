"""Send an operator's update to a workflow and record the attempt, whatever its outcome.

What the console (and any tool acting for an operator) calls instead of
`handle.execute_update`: a refusal leaves no trace in Temporal, so every attempt goes to
the audit log, accepted with the operator's reason or refused with the workflow's.
"""

from __future__ import annotations

import asyncio
from typing import Any

from pydantic import BaseModel
from temporalio.client import WorkflowHandle, WorkflowUpdateFailedError

from crossdock.audit.log import AuditLog, DecisionAttempt, Outcome
from crossdock.models.approval import Principal

# The decision's fields worth keeping beside the outcome (never the signed claim).
DETAIL_FIELDS = ("key", "action", "option", "amount")


async def attempt_update(
    handle: WorkflowHandle[Any, Any], update: Any, request: BaseModel, log: AuditLog
) -> Any:
    """Execute `update` (a name or the workflow's update method) with `request`, which
    carries `by`, and append the attempt.

    Raises:
        WorkflowUpdateFailedError: The workflow refused; the attempt is logged first.
        ValueError: `request` has no `by` principal, so nobody could be held to it.
    """
    by = getattr(request, "by", None)
    if not isinstance(by, Principal):
        raise ValueError(f"{type(request).__name__} has no `by` principal to record")
    name = update_name(update)
    try:
        result = await handle.execute_update(update, request)
    except WorkflowUpdateFailedError as err:
        reason = str(err.cause) if err.cause is not None else str(err)
        await _append(log, handle.id, name, request, by, Outcome.REFUSED, reason)
        raise
    reason = str(getattr(request, "reason", ""))
    await _append(log, handle.id, name, request, by, Outcome.ACCEPTED, reason)
    return result


def update_name(update: Any) -> str:
    """The name Temporal knows an update by: given, or from its `@workflow.update`."""
    if isinstance(update, str):
        return update
    definition = getattr(update, "_defn", None)  # set by @workflow.update
    name = getattr(definition, "name", None)
    if not isinstance(name, str):
        raise ValueError(f"{update!r} is not a workflow update")
    return name


async def _append(
    log: AuditLog,
    workflow_id: str,
    update: str,
    request: BaseModel,
    by: Principal,
    outcome: Outcome,
    reason: str,
) -> None:
    fields = request.model_dump(mode="json", include=set(DETAIL_FIELDS), exclude_none=True)
    attempt = DecisionAttempt(
        workflow_id=workflow_id,
        action=update,
        by=Principal(id=by.id, role=by.role),
        outcome=outcome,
        reason=reason,
        detail={k: v for k, v in fields.items() if v not in ("", None)},
    )
    # The store is synchronous; keep the event loop free while it writes.
    await asyncio.to_thread(log.append, attempt)
