"""The approval component: one operator decision, with reminder, escalation and expiry.

Orders (risk review), returns (refund decision), disputes (contest or accept) and refunds
ask operators through this one class, used *inside* workflow code: it keeps time with
`workflow.now()` and workflow timers, so it is replay-safe. Temporal handlers must be
declared on the workflow class, so the owning workflow declares the update and delegates::

    @workflow.update
    def decide(self, decision: Decision) -> DecisionReceipt:
        return self._approval.accept(decision)

    @decide.validator
    def _check_decision(self, decision: Decision) -> None:
        self._approval.validate(decision)

A refused decision is rejected by the validator and leaves **no history**: the reason
travels only in the error the console receives (and the console writes it to the audit
log), so every refusal says what was wrong and what would be right.

Escalation changes visibility, never permissions: `NeedsAttention` stays set, the status
shows `escalated_at`, the timeline notes it and the `on_escalate` hook lets the owning
workflow notify someone. Who may decide is fixed when the approval opens, so no role
silently gains power because time passed.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from temporalio import workflow
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from crossdock.models.approval import (
        ApprovalOutcome,
        ApprovalRequest,
        ApprovalState,
        ApprovalStatus,
        Decision,
        DecisionAction,
        DecisionReceipt,
        DecisionRecord,
        Stage,
        duration_text,
        refusal_reason,
        stale_refusal,
    )
    from workflows.search import AWAITING_APPROVAL, NEEDS_ATTENTION

# (event, detail) appended to the owning workflow's timeline, e.g. its `_note`.
Note = Callable[[str, str], None]
EscalationHook = Callable[[ApprovalStatus], None]
AttentionHook = Callable[[bool], None]

REFUSED = "ApprovalRefused"
# Every stage waits on a timer, even one already due: whether a stage is "already due"
# compares deadlines with workflow.now(), and a replay that dates a task differently by
# a second would otherwise issue other commands, and a workflow task failing for ever.
STAGE_TIMERS = "approval-stage-timers"
# The shortest timer a due stage waits on.
_DUE = timedelta(milliseconds=1)


class ApprovalRefused(ApplicationError):
    """A decision the approval rules refuse; the message says why.

    An `ApplicationError` rather than a plain `ValueError`: raised by the validator it
    rejects the update like any exception would, but raised by the handler (a decision
    that raced another one) it fails only that update, where any other exception would
    fail the workflow task and retry it forever.
    """

    def __init__(self, reason: str) -> None:
        super().__init__(reason, type=REFUSED, non_retryable=True)


def _ignore(event: str, detail: str) -> None:
    del event, detail


class Approval:
    """Asks operators one question at a time and waits for their decision or a deadline.

    Args:
        history: Where the approvals are kept, oldest first; pass the list from the
            workflow's state model so queries and continue-as-new carry them. A pending
            last entry is resumed by `wait()` with its original clocks.
        note: Called with (event, detail) for the owning workflow's timeline.
        on_escalate: Called once when an approval escalates. It runs in workflow code and
            must not block: start (don't await) a notification activity there.
        attention: Given the approval's NeedsAttention value when it changes, for a
            workflow that combines it with its own reasons; by default the approval
            upserts NeedsAttention itself.
    """

    def __init__(
        self,
        history: list[ApprovalStatus] | None = None,
        *,
        note: Note = _ignore,
        on_escalate: EscalationHook | None = None,
        attention: AttentionHook | None = None,
    ) -> None:
        self.history = history if history is not None else []
        self._note = note
        self._on_escalate = on_escalate
        self._attention = attention
        # Last values upserted, so an unchanged flag costs no history event.
        self._flags: tuple[bool, bool] | None = None

    @property
    def current(self) -> ApprovalStatus | None:
        """The latest approval, pending or closed; None before the first is opened."""
        return self.history[-1] if self.history else None

    def open(self, request: ApprovalRequest) -> ApprovalStatus:
        """Put `request` to operators; its clocks start now.

        Raises:
            RuntimeError: Another approval is still pending, or `request.key` was used
                before in this workflow. Both are bugs in the owning workflow, so they
                fail the workflow task (fix and redeploy) rather than the workflow.
        """
        current = self.current
        if current is not None and current.pending:
            raise RuntimeError(f"approval {current.request.key!r} is still pending")
        if any(status.request.key == request.key for status in self.history):
            # Unique keys are what stop a stale console click deciding a newer question.
            raise RuntimeError(f"approval key {request.key!r} was already used; pick a new one")
        status = ApprovalStatus(request=request, opened_at=workflow.now())
        self.history.append(status)
        self._note("approval_requested", f"{request.key}: {request.subject}")
        workflow.logger.info("approval_requested", extra={"approval": request.key})
        self._sync_flags()
        return status

    async def ask(self, request: ApprovalRequest) -> ApprovalOutcome:
        """Open `request` and wait for its outcome."""
        self.open(request)
        return await self.wait()

    def validate(self, decision: Decision) -> None:
        """Refuse `decision` unless the rules allow it; call from the update validator.

        Raises:
            ApprovalRefused: Nothing pending, already decided or expired, wrong key, role
                not allowed, maker deciding their own request, action or option not
                offered, reason missing, amount invalid or over the finance threshold
                for a non-finance role.
        """
        reason = refusal_reason(self.current, decision, workflow.now())
        if reason:
            raise ApprovalRefused(reason)

    def accept(self, decision: Decision) -> DecisionReceipt:
        """Record `decision`: approve and reject close the approval, request_info keeps it
        pending and restarts its reminder clock. Call from the update handler, after the
        validator passed.

        Only the stale checks (nothing pending, wrong key, expired) are repeated here, as
        a guard for a workflow that forgot its validator. The policy rules are not: the
        validator does not run on replay, so rules can change without breaking replays of
        decisions accepted under the old ones.

        Raises:
            ApprovalRefused: The decision is not for the pending approval.
        """
        stale = stale_refusal(self.current, decision, workflow.now())
        if stale:
            raise ApprovalRefused(stale)
        status = self.current
        assert status is not None  # stale_refusal refuses when nothing was opened
        now = workflow.now()
        status.decisions.append(DecisionRecord(decision=decision, at=now))
        if decision.action is DecisionAction.REQUEST_INFO:
            key = status.request.key
            self._note("approval_info_requested", f"{key}: {decision.by} asks: {decision.reason}")
        else:
            approved = decision.action is DecisionAction.APPROVE
            self._close(status, ApprovalState.APPROVED if approved else ApprovalState.REJECTED)
        workflow.logger.info(
            "approval_decision",
            extra={"approval": decision.key, "action": decision.action, "by": decision.by.id},
        )
        self._sync_flags()
        return DecisionReceipt(
            key=decision.key, action=decision.action, state=status.state, by=decision.by, at=now
        )

    def withdraw(self, reason: str) -> None:
        """Close a pending approval without a decision (e.g. the buyer cancelled the order).

        Does nothing when nothing is pending, so a repeated cancel is harmless.
        """
        status = self.current
        if status is not None and status.pending:
            self._close(status, ApprovalState.WITHDRAWN, reason)
            self._sync_flags()

    async def wait(self) -> ApprovalOutcome:
        """Wait for the pending approval's outcome, firing reminder and escalation on the way.

        Returns on approve, reject or withdrawal, or at `expire_after` with state
        `expired`: what an expiry means (auto-cancel, auto-accept) is the caller's policy.
        """
        status = self.current
        if status is None:
            raise RuntimeError("wait() without an approval: call open() first")
        self._sync_flags()
        while status.pending:
            stage, at = status.next_deadline()
            if await self._reached(status, stage, at):
                self._fire(status, stage)
        return ApprovalOutcome(
            key=status.request.key,
            state=status.state,
            decision=_final(status),
            closed_at=status.closed_at or workflow.now(),
            reason=status.closed_reason,
        )

    # -- mechanics -----------------------------------------------------------------

    async def _reached(self, status: ApprovalStatus, stage: Stage, at: datetime) -> bool:
        """Sleep until `at`; False if a decision or request for info came first (the
        clocks then need recomputing)."""
        remaining = at - workflow.now()
        timed = workflow.patched(STAGE_TIMERS)
        if remaining.total_seconds() <= 0 and not timed:
            return True  # already due, e.g. resumed after continue-as-new or a long outage
        seen = len(status.decisions)
        try:
            await workflow.wait_condition(
                lambda: not status.pending or len(status.decisions) != seen,
                timeout=max(remaining, _DUE),
                timeout_summary=f"approval {status.request.key} {stage}",
            )
        except TimeoutError:  # asyncio.TimeoutError is TimeoutError on 3.11
            return True
        return False

    def _fire(self, status: ApprovalStatus, stage: Stage) -> None:
        now = workflow.now()
        if stage is Stage.REMIND:
            status.reminded_at = now
            self._note("approval_reminder", f"{status.request.key}: no decision yet")
        elif stage is Stage.ESCALATE:
            status.escalated_at = now
            waited = duration_text(now - status.opened_at)
            self._note("approval_escalated", f"{status.request.key}: undecided after {waited}")
            if self._on_escalate is not None:
                self._on_escalate(status)
        else:
            after = duration_text(status.request.expire_after)
            self._close(status, ApprovalState.EXPIRED, f"no decision within {after}")
        workflow.logger.info(f"approval_{stage}", extra={"approval": status.request.key})
        self._sync_flags()

    def _close(self, status: ApprovalStatus, state: ApprovalState, reason: str = "") -> None:
        status.state = state
        status.closed_at = workflow.now()
        final = _final(status)
        status.closed_reason = reason or (final.reason if final else "")
        by = f" by {final.by}" if final else ""
        why = f": {status.closed_reason}" if status.closed_reason else ""
        self._note(f"approval_{state}", f"{status.request.key}{by}{_terms(final)}{why}")

    def _sync_flags(self) -> None:
        """Upsert AwaitingApproval/NeedsAttention when they change (each upsert is an event)."""
        status = self.current
        awaiting = status is not None and status.pending
        attention = status is not None and status.needs_attention
        if (awaiting, attention) == self._flags:
            return
        self._flags = (awaiting, attention)
        updates = [AWAITING_APPROVAL.value_set(awaiting)]
        if self._attention is None:
            updates.append(NEEDS_ATTENTION.value_set(attention))
        else:
            self._attention(attention)
        workflow.upsert_search_attributes(updates)


def _final(status: ApprovalStatus) -> Decision | None:
    record = status.final_decision
    return record.decision if record else None


def _terms(decision: Decision | None) -> str:
    """What exactly was approved, when the operator picked an option or an amount."""
    if decision is None:
        return ""
    terms = [term for term in (decision.option, str(decision.amount or "")) if term]
    return f" ({', '.join(terms)})" if terms else ""
