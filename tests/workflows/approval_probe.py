"""A test-only workflow wired to the approval component exactly as real workflows wire it.

It lives in its own module because the workflow sandbox re-imports the module that
defines a workflow; keeping pytest fixtures out of it keeps that import small.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field
from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from crossdock.models.approval import (
        ApprovalOutcome,
        ApprovalRequest,
        ApprovalStatus,
        Decision,
        DecisionReceipt,
    )
    from workflows.approval import Approval


class ProbeInput(BaseModel):
    # Asked one after another; an empty list asks nothing (for "nothing pending").
    requests: list[ApprovalRequest]


class ProbeNote(BaseModel):
    at: datetime
    event: str
    detail: str


class ProbeStatus(BaseModel):
    approvals: list[ApprovalStatus] = Field(default_factory=list)
    timeline: list[ProbeNote] = Field(default_factory=list)
    escalations: list[str] = Field(default_factory=list)


@workflow.defn
class ApprovalProbeWorkflow:
    @workflow.init
    def __init__(self, input: ProbeInput) -> None:
        self._status = ProbeStatus()
        self._approval = Approval(
            self._status.approvals, note=self._note, on_escalate=self._escalated
        )
        self._finished = False

    @workflow.run
    async def run(self, input: ProbeInput) -> list[ApprovalOutcome]:
        outcomes = [await self._approval.ask(request) for request in input.requests]
        # Stay open so tests can still send decisions to a closed approval.
        await workflow.wait_condition(lambda: self._finished)
        return outcomes

    @workflow.update
    def decide(self, decision: Decision) -> DecisionReceipt:
        """An operator's decision on the pending approval."""
        return self._approval.accept(decision)

    @decide.validator
    def _check_decision(self, decision: Decision) -> None:
        self._approval.validate(decision)

    @workflow.signal
    def withdraw(self, reason: str) -> None:
        """Close the pending approval without a decision, as a cancelled order would."""
        self._approval.withdraw(reason)

    @workflow.signal
    def finish(self) -> None:
        self._finished = True

    @workflow.query
    def status(self) -> ProbeStatus:
        return self._status

    def _note(self, event: str, detail: str) -> None:
        self._status.timeline.append(ProbeNote(at=workflow.now(), event=event, detail=detail))

    def _escalated(self, status: ApprovalStatus) -> None:
        self._status.escalations.append(status.request.key)
