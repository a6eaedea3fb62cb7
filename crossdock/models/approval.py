"""Operator decisions: who may decide what, and the rules a decision must pass.

One approval is a question put to operators ("review this order", "refund 180 EUR?")
with a deadline. Orders, returns, disputes and refunds all ask through the same
contracts, so the console has one inbox and one decision form, and the rules (role,
maker ≠ checker, finance threshold, reason required) hold everywhere.

Everything here is pure: `refusal_reason` and `ApprovalStatus.next_deadline` are what
the workflow component (`workflows/approval.py`) runs, and what unit tests check. This
module holds the question and its clocks; who decides is `principal`, what they decide
`decision`, the rules a decision must pass `decision_rules`, all re-exported here.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, model_validator

from crossdock.models.decision import REASON_REQUIRED, Decision, DecisionAction, Price
from crossdock.models.decision_rules import (
    given_away,
    refusal_reason,
    required_roles,
    stale_refusal,
)
from crossdock.models.principal import FINANCE_ROLES, Principal, Role
from crossdock.money import Money

# Re-exported: workflows, the console and tests import the approval contracts from here.
__all__ = [
    "FINANCE_ROLES",
    "REASON_REQUIRED",
    "ApprovalOutcome",
    "ApprovalRequest",
    "ApprovalState",
    "ApprovalStatus",
    "Decision",
    "DecisionAction",
    "DecisionReceipt",
    "DecisionRecord",
    "Price",
    "Principal",
    "Role",
    "Stage",
    "duration_text",
    "given_away",
    "refusal_reason",
    "required_roles",
    "stale_refusal",
]


class ApprovalRequest(BaseModel):
    """A question put to operators, fixed when opened (replays see the same values).

    Clocks run from the moment the approval opens: a reminder at `remind_after` (and
    again that long after each request for information), an escalation at
    `escalate_after`, and at `expire_after` the approval closes as expired and the
    owning workflow's policy decides (auto-cancel, auto-accept, ...).
    """

    model_config = ConfigDict(frozen=True)

    key: str = Field(min_length=1, pattern=r"^[a-z0-9][a-z0-9_.-]*$")
    subject: str = Field(min_length=1)
    allowed_roles: frozenset[Role]
    actions: frozenset[DecisionAction] = frozenset({DecisionAction.APPROVE, DecisionAction.REJECT})
    options: tuple[str, ...] = ()
    remind_after: timedelta
    escalate_after: timedelta
    expire_after: timedelta
    requested_by: Principal | None = None
    amount: Money | None = None
    finance_threshold: Money | None = None
    # The decisions whose give-away is not simply the amount approved (see `given_away`).
    prices: tuple[Price, ...] = ()

    @model_validator(mode="after")
    def _coherent(self) -> ApprovalRequest:
        if Role.VIEWER in self.allowed_roles or not self.allowed_roles:
            raise ValueError("allowed_roles must name operator, finance or admin roles only")
        if DecisionAction.APPROVE not in self.actions:
            raise ValueError("actions must include approve")
        if not timedelta(0) < self.remind_after < self.escalate_after < self.expire_after:
            raise ValueError(
                "timers must satisfy 0 < remind_after < escalate_after < expire_after, got "
                f"{duration_text(self.remind_after)} < {duration_text(self.escalate_after)} < "
                f"{duration_text(self.expire_after)}"
            )
        self._coherent_money()
        return self

    def _coherent_money(self) -> None:
        threshold = self.finance_threshold
        if threshold is None:
            return
        if not self.allowed_roles & FINANCE_ROLES:
            raise ValueError("finance_threshold is set but allowed_roles has no finance/admin")
        priced = [self.amount] if self.amount is not None else []
        priced += [price.gives_away for price in self.prices]
        for money in priced:
            if money.currency != threshold.currency:
                raise ValueError(
                    f"finance_threshold is in {threshold.currency} but amount in "
                    f"{money.currency}; convert one before asking"
                )


class ApprovalState(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    EXPIRED = "expired"
    # The owning workflow closed the question itself (e.g. the buyer cancelled the order).
    WITHDRAWN = "withdrawn"


class Stage(StrEnum):
    """The clocks of a pending approval."""

    REMIND = "remind"
    ESCALATE = "escalate"
    EXPIRE = "expire"


class DecisionRecord(BaseModel):
    decision: Decision
    at: datetime


class ApprovalStatus(BaseModel):
    """One approval as operators see it (queried) and as it is carried on (continue-as-new)."""

    request: ApprovalRequest
    opened_at: datetime
    state: ApprovalState = ApprovalState.PENDING
    reminded_at: datetime | None = None
    escalated_at: datetime | None = None
    # Every accepted decision in order, including request_info notes before the final one.
    decisions: list[DecisionRecord] = Field(default_factory=list)
    closed_at: datetime | None = None
    closed_reason: str = ""

    @property
    def pending(self) -> bool:
        return self.state is ApprovalState.PENDING

    @property
    def expires_at(self) -> datetime:
        return self.opened_at + self.request.expire_after

    @property
    def clock_started_at(self) -> datetime:
        """When the reminder clock last started: opening, or the last request for info."""
        asked = [r.at for r in self.decisions if r.decision.action is DecisionAction.REQUEST_INFO]
        return max([self.opened_at, *asked])

    @property
    def reminder_active(self) -> bool:
        return self.reminded_at is not None and self.reminded_at >= self.clock_started_at

    @property
    def needs_attention(self) -> bool:
        """Late: reminded since the clock last started, or escalated (which stays)."""
        return self.pending and (self.reminder_active or self.escalated_at is not None)

    def next_deadline(self) -> tuple[Stage, datetime]:
        """The earliest clock still to fire; expiry always remains, so there is one."""
        due = [(Stage.EXPIRE, self.expires_at)]
        # Once escalated, reminders add nothing: NeedsAttention stays set until it closes.
        if self.escalated_at is None:
            due.append((Stage.ESCALATE, self.opened_at + self.request.escalate_after))
            if not self.reminder_active:
                due.append((Stage.REMIND, self.clock_started_at + self.request.remind_after))
        # On a tie the later stage wins: an escalation makes its reminder redundant.
        return min(due, key=lambda item: (item[1], -list(Stage).index(item[0])))

    @property
    def final_decision(self) -> DecisionRecord | None:
        last = self.decisions[-1] if self.decisions else None
        return last if last and last.decision.action is not DecisionAction.REQUEST_INFO else None


class ApprovalOutcome(BaseModel):
    """How an approval ended; the owning workflow's policy acts on it."""

    key: str
    state: ApprovalState
    decision: Decision | None = None
    closed_at: datetime
    # The decision's reason, or why it closed without one (expiry, withdrawal).
    reason: str = ""

    @property
    def approved(self) -> bool:
        return self.state is ApprovalState.APPROVED

    @property
    def expired(self) -> bool:
        return self.state is ApprovalState.EXPIRED


class DecisionReceipt(BaseModel):
    """What the console gets back from the `decide` update once it was accepted."""

    key: str
    action: DecisionAction
    state: ApprovalState
    by: Principal
    at: datetime


def duration_text(span: timedelta) -> str:
    """A duration as operators write it: "1d 4h", "45m", "30s" (whole seconds)."""
    seconds = int(span.total_seconds())
    parts = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        if seconds >= size:
            parts.append(f"{seconds // size}{unit}")
            seconds %= size
    return " ".join(parts) or "0s"
