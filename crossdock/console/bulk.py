"""Bulk work: one action on many cases, each through the same path as a single one
(the desk: the workflow's own update, its validators, the signed principal, the audit
log), a few at a time, each with its own result: accepted, or refused and why.

Approve and reject answer each case's pending question (its key read from the case's
live status); hold, resume and cancel are the order's updates; assign records who works
on the case (console bookkeeping, audited, no workflow update)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from enum import StrEnum

from pydantic import BaseModel, Field
from temporalio.client import Client

from crossdock.audit.log import AuditLog, DecisionAttempt, Outcome
from crossdock.console.actions import (
    ActionBody,
    CancelBody,
    DecideBody,
    Desk,
    HoldBody,
    ResumeBody,
)
from crossdock.console.case_scope import case_in_scope
from crossdock.console.errors import ConsoleError
from crossdock.console.kinds import spec_for_id
from crossdock.console.workday import Workday
from crossdock.identity.scope import Scope
from crossdock.models.approval import ApprovalStatus, DecisionAction, Principal, Role

# Cases in one bulk request: a day's inbox, not the whole history.
MAX_CASES = 500
# Updates in flight at once: each waits on a worker; more only queues there.
CONCURRENCY = 8


class BulkAction(StrEnum):
    APPROVE = "approve"
    REJECT = "reject"
    HOLD = "hold"
    RESUME = "resume"
    CANCEL = "cancel"
    ASSIGN = "assign"


class BulkRequest(BaseModel):
    action: BulkAction
    workflow_ids: list[str] = Field(min_length=1, max_length=MAX_CASES)
    reason: str = Field(default="", max_length=2000)
    # assign: the account the cases go to (default: the one asking).
    assignee: str = Field(default="", max_length=64)


class BulkResult(BaseModel):
    """One case's outcome: accepted, or refused with the workflow's (or console's) why."""

    workflow_id: str
    outcome: Outcome
    message: str


class Bulk:
    """Runs a bulk request for one principal."""

    def __init__(self, client: Client, desk: Desk, audit: AuditLog, workday: Workday) -> None:
        self._client = client
        self._desk = desk
        self._audit = audit
        self._workday = workday

    async def run(
        self, request: BulkRequest, principal: Principal, scope: Scope, known: set[str]
    ) -> AsyncIterator[BulkResult]:
        """Each case's result as it comes (not in request order); `known` holds the
        account ids an assignment may name."""
        gate = asyncio.Semaphore(CONCURRENCY)
        ids = list(dict.fromkeys(request.workflow_ids))

        async def one(workflow_id: str) -> BulkResult:
            async with gate:
                return await self._one(request, workflow_id, principal, scope, known)

        for done in asyncio.as_completed([one(i) for i in ids]):
            yield await done

    async def _one(
        self,
        request: BulkRequest,
        workflow_id: str,
        principal: Principal,
        scope: Scope,
        known: set[str],
    ) -> BulkResult:
        try:
            if request.action is BulkAction.ASSIGN:
                return await self._assign(request, workflow_id, principal, scope, known)
            body = await self._body(request, workflow_id)
            action = "decide" if isinstance(body, DecideBody) else request.action.value
            answer = await self._desk.act(workflow_id, action, body, principal, scope)
        except ConsoleError as err:
            return BulkResult(workflow_id=workflow_id, outcome=Outcome.REFUSED, message=err.message)
        note = answer.result.get("note") or answer.result.get("state") or "done"
        return BulkResult(
            workflow_id=workflow_id,
            outcome=Outcome.ACCEPTED,
            message=f"{request.action.value}: {note}",
        )

    async def _body(self, request: BulkRequest, workflow_id: str) -> ActionBody:
        reason = request.reason
        if request.action is BulkAction.HOLD:
            return HoldBody(reason=reason or "held in bulk")
        if request.action is BulkAction.RESUME:
            return ResumeBody(reason=reason)
        if request.action is BulkAction.CANCEL:
            if not reason.strip():
                raise ConsoleError(400, "bad_request", "say why the orders are cancelled")
            return CancelBody(reason=reason)
        pending = await self._pending(workflow_id)
        if pending is None:
            raise ConsoleError(409, "refused", f"{workflow_id} is not waiting for a decision")
        if request.action is BulkAction.REJECT:
            return DecideBody(key=pending.request.key, action=DecisionAction.REJECT, reason=reason)
        # Approving a question with options takes its first, as the case page's form does.
        options = pending.request.options
        return DecideBody(
            key=pending.request.key,
            action=DecisionAction.APPROVE,
            reason=reason,
            option=options[0] if options else "",
        )

    async def _pending(self, workflow_id: str) -> ApprovalStatus | None:
        spec = spec_for_id(workflow_id)
        if spec is None:
            raise ConsoleError(404, "not_found", f"{workflow_id!r} is not a case id")
        try:
            status = await self._client.get_workflow_handle(workflow_id).query(spec.status_query)
        except Exception as err:  # closed, unknown, no worker: this case only
            raise ConsoleError(409, "refused", f"cannot read {workflow_id}: {err}") from None
        approvals: list[ApprovalStatus] = getattr(status, "approvals", [])
        last = approvals[-1] if approvals else None
        return last if last is not None and last.pending else None

    async def _assign(
        self,
        request: BulkRequest,
        workflow_id: str,
        principal: Principal,
        scope: Scope,
        known: set[str],
    ) -> BulkResult:
        to = request.assignee or principal.id
        refusal = ""
        if principal.role is Role.VIEWER:
            refusal = f"role viewer may not assign cases (account {principal.id})"
        elif to not in known:
            refusal = f"no account {to!r} to assign {workflow_id} to"
        elif spec_for_id(workflow_id) is None or not await case_in_scope(
            self._client, scope, workflow_id
        ):
            refusal = f"no case {workflow_id!r} for this account"
        if not refusal:
            await asyncio.to_thread(self._workday.assign, [workflow_id], to, principal.id)
        attempt = DecisionAttempt(
            workflow_id=workflow_id[:255],
            action="assign",
            by=principal,
            outcome=Outcome.REFUSED if refusal else Outcome.ACCEPTED,
            reason=refusal or request.reason,
            detail={"assignee": to},
        )
        await asyncio.to_thread(self._audit.append, attempt)
        if refusal:
            return BulkResult(workflow_id=workflow_id, outcome=Outcome.REFUSED, message=refusal)
        return BulkResult(
            workflow_id=workflow_id, outcome=Outcome.ACCEPTED, message=f"assigned to {to}"
        )
