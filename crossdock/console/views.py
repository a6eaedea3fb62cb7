"""What the console API answers (response models, separate from workflow state)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, Field

from crossdock.audit.log import AuditEntry
from crossdock.console.kinds import CaseKind
from crossdock.console.order_summary import OrderSummary
from crossdock.models.approval import ApprovalStatus, DecisionAction, Role
from crossdock.models.lifecycle import TimelineEntry
from crossdock.money import Money


class PendingApproval(BaseModel):
    """The question a workflow is waiting on, as an operator needs it to decide."""

    key: str
    subject: str
    actions: list[DecisionAction]
    options: list[str]
    allowed_roles: list[Role]
    amount: Money | None
    finance_threshold: Money | None
    requested_by: str
    opened_at: datetime
    # When the workflow's own policy decides if nobody has (auto-cancel, auto-accept...).
    deadline: datetime
    needs_attention: bool

    @classmethod
    def of(cls, approval: ApprovalStatus) -> PendingApproval:
        request = approval.request
        return cls(
            key=request.key,
            subject=request.subject,
            actions=sorted(request.actions),
            options=list(request.options),
            allowed_roles=sorted(request.allowed_roles),
            amount=request.amount,
            finance_threshold=request.finance_threshold,
            requested_by=request.requested_by.id if request.requested_by else "",
            opened_at=approval.opened_at,
            deadline=approval.expires_at,
            needs_attention=approval.needs_attention,
        )


class StuckReason(StrEnum):
    # The workflow's code fails on every attempt (an illegal transition, a bug): nothing
    # moves until the code is fixed and the workflow reset (docs/operations.md).
    WORKFLOW_TASK_FAILING = "workflow_task_failing"
    # One activity has failed more attempts than its retry policy expects an outage to last.
    ACTIVITY_RETRYING = "activity_retrying"


class StuckReport(BaseModel):
    """Why a running case makes no progress, from its Temporal description."""

    workflow_id: str
    kind: CaseKind
    reason: StuckReason
    attempts: int
    # The failing activity's type (activity_retrying only).
    activity: str = ""
    last_error: str = ""
    state: str = ""
    marketplace: str = ""
    # Ship-to country (orders; empty for cases that carry none).
    destination: str = ""
    # When the failing workflow task was first scheduled.
    since: datetime | None = None
    # When Temporal tries the activity again.
    next_attempt_at: datetime | None = None


class InboxItem(BaseModel):
    """A case waiting for a person: a pending approval, or stuck (or both)."""

    workflow_id: str
    kind: CaseKind
    state: str
    marketplace: str
    approval: PendingApproval | None = None
    # Ship-to country (orders; empty for cases that carry none).
    destination: str = ""
    stuck: StuckReport | None = None


class CaseSummary(BaseModel):
    workflow_id: str
    kind: CaseKind
    state: str
    marketplace: str
    # Ship-to country (orders; empty for cases that carry none).
    destination: str = ""
    awaiting_approval: bool
    needs_attention: bool
    # Temporal's execution status: Running, Completed, Failed, Terminated, ...
    execution: str
    started_at: datetime | None
    closed_at: datetime | None
    stuck: StuckReport | None = None


class CaseDetail(BaseModel):
    summary: CaseSummary
    pending: PendingApproval | None
    # The actions this case takes (decide, cancel, inspect, evidence).
    actions: list[str]
    timeline: list[TimelineEntry]
    # Every decision attempt on this workflow from the audit log, refused ones included.
    attempts: list[AuditEntry]
    # The workflow's whole `status` query answer, for what the summary leaves out.
    status: dict[str, Any] = Field(default_factory=dict)
    stuck: StuckReport | None = None
    # Orders: what was sold, totals, deadlines, parcels and linked cases at a glance.
    order: OrderSummary | None = None


class ActionAnswer(BaseModel):
    """An accepted action: the workflow's own answer to the update."""

    workflow_id: str
    action: str
    by: str
    result: dict[str, Any]


class Me(BaseModel):
    account_id: str
    role: Role
    # How the console and the CLI speak to this operator (crossdock.console.locale).
    language: str = "en"
    time_zone: str = "UTC"


class LocaleChoice(BaseModel):
    language: str = Field(max_length=16)
    time_zone: str = Field(max_length=64)
