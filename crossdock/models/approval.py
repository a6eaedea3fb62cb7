"""Operator decisions: who may decide what, and the rules a decision must pass.

One approval is a question put to operators ("review this order", "refund 180 EUR?")
with a deadline. Orders, returns, disputes and refunds all ask through the same
contracts, so the console has one inbox and one decision form, and the rules (role,
maker ≠ checker, finance threshold, reason required) hold everywhere (architecture §4).

Everything here is pure: `refusal_reason` and `ApprovalStatus.next_deadline` are what
the workflow component (`workflows/approval.py`) runs, and what unit tests check.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, model_validator

from crossdock.money import Money


class Role(StrEnum):
    """What an authenticated operator account may do. Viewers never decide."""

    VIEWER = "viewer"
    OPERATOR = "operator"
    FINANCE = "finance"
    ADMIN = "admin"


# Who may approve an amount at or above a request's finance threshold.
FINANCE_ROLES = frozenset({Role.FINANCE, Role.ADMIN})


class Principal(BaseModel):
    """The operator account behind a decision, as the console authenticated it.

    `id` is an account id (e.g. "ops-7"), never a name or e-mail: it lands in workflow
    history and timelines.
    """

    model_config = ConfigDict(frozen=True)

    id: str = Field(min_length=1)
    role: Role
    # The console's signature over id, role, workflow and expiry (crossdock.identity.claims),
    # checked by workers before any validator runs. Empty in histories recorded before it.
    claim: str = Field(default="", max_length=200, repr=False)

    def __str__(self) -> str:
        return f"{self.id} ({self.role})"

    # The same account in the same role is the same principal, signed or not: the claim
    # is how it travelled, so workflow code comparing principals must not see it.
    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Principal):
            return NotImplemented
        return (self.id, self.role) == (other.id, other.role)

    def __hash__(self) -> int:
        return hash((self.id, self.role))


class DecisionAction(StrEnum):
    APPROVE = "approve"
    REJECT = "reject"
    # Keep the approval open and ask the requester (or buyer) for more; restarts the
    # reminder clock but never the expiry, so a deadline cannot be talked away.
    REQUEST_INFO = "request_info"


# Actions that must say why: they are what a buyer, auditor or colleague will ask about.
REASON_REQUIRED = frozenset({DecisionAction.REJECT, DecisionAction.REQUEST_INFO})


class Decision(BaseModel):
    """What an operator decided about the approval named `key`.

    `key` must match the pending approval, so a click on a stale console page can never
    decide a different question that opened since. `option` picks one of the request's
    `options` (e.g. "return_label", "returnless"); `amount` approves a different amount
    than requested (a partial refund), never more.
    """

    model_config = ConfigDict(frozen=True)

    key: str
    action: DecisionAction
    by: Principal
    # Bounded: it is stored in workflow history and shown in timelines.
    reason: str = Field(default="", max_length=2000)
    option: str = ""
    amount: Money | None = None


class Price(BaseModel):
    """What deciding one way gives away, whatever amount is typed: a replacement's goods
    at their order value, the refund a declined offer falls back to, a conceded dispute.

    The finance threshold is compared with this, not with the decision's `amount`, so a
    small number typed beside a large give-away cannot slip under it.
    """

    model_config = ConfigDict(frozen=True)

    action: DecisionAction = DecisionAction.APPROVE
    option: str = ""
    gives_away: Money
    # What the decision does, for the refusal ("concede the dispute"); else action and option.
    label: str = Field(default="", max_length=200)


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


def refusal_reason(status: ApprovalStatus | None, decision: Decision, now: datetime) -> str:
    """Why `decision` may not be taken on `status` at `now`; empty when it may.

    Args:
        status: The approval the workflow holds (the latest one), or None if it never
            opened one.
        decision: What the operator asks for.
        now: Workflow time; a decision at or after the expiry is refused even if the
            expiry timer has not been processed yet.

    Returns:
        A sentence naming what was wrong and what would be right, or "" when allowed.
    """
    if status is None:
        return stale_refusal(status, decision, now)
    return (
        stale_refusal(status, decision, now)
        or _who(status.request, decision)
        or _what(status.request, decision)
        or _how_much(status.request, decision)
    )


def stale_refusal(status: ApprovalStatus | None, decision: Decision, now: datetime) -> str:
    """Why `decision` is for a question that is not open (any more); empty when it is.

    These checks never change, unlike the policy rules, so the update handler may repeat
    them on replay without risking nondeterminism.
    """
    if status is None:
        return f"no approval is pending (nothing was asked, so {decision.key!r} cannot be decided)"
    key = status.request.key
    if not status.pending:
        if decision.key != key:
            return f"no approval is pending ({decision.key!r} is not the latest; {key!r} is)"
        last = status.final_decision
        who = f" by {last.decision.by}" if last else ""
        return f"{key!r} was already {status.state}{who} at {_when(status.closed_at)}"
    if decision.key != key:
        return f"decision is for {decision.key!r} but the pending approval is {key!r}"
    if now >= status.expires_at:
        return f"{key!r} expired at {_when(status.expires_at)}"
    return ""


def _who(request: ApprovalRequest, decision: Decision) -> str:
    by = decision.by
    if by.role not in request.allowed_roles:
        allowed = ", ".join(sorted(request.allowed_roles))
        return f"role '{by.role}' may not decide {request.key!r} (allowed roles: {allowed})"
    maker = request.requested_by
    if maker is not None and maker.id == by.id:
        return f"{by.id} requested {request.key!r} and may not also decide it (maker ≠ checker)"
    return ""


def _what(request: ApprovalRequest, decision: Decision) -> str:
    action = decision.action
    if action not in request.actions:
        offered = ", ".join(sorted(request.actions))
        return f"action '{action}' is not offered for {request.key!r} (offered: {offered})"
    if action in REASON_REQUIRED and not decision.reason.strip():
        return f"a reason is required to {action} {request.key!r}"
    if action is DecisionAction.APPROVE and request.options:
        if decision.option not in request.options:
            offered = ", ".join(request.options)
            return (
                f"option {decision.option!r} is not offered for {request.key!r} "
                f"(offered: {offered})"
            )
    elif decision.option:
        return f"option {decision.option!r} only applies to approve with offered options"
    return ""


def _how_much(request: ApprovalRequest, decision: Decision) -> str:
    amount = decision.amount
    if amount is not None:
        asked = request.amount
        if decision.action is not DecisionAction.APPROVE or asked is None:
            return f"amount {amount} only applies to approving a request that has an amount"
        if amount.currency != asked.currency or not 0 < amount.amount <= asked.amount:
            return f"amount {amount} must be more than zero and at most the requested {asked}"
    return _over_threshold(request, decision)


def given_away(request: ApprovalRequest, decision: Decision) -> Money | None:
    """What taking `decision` gives away: the request's price for its action and option
    (or the amount typed beside it, if more), else, for an approval, the amount approved
    (typed, or the request's); None when it gives nothing away (an unpriced rejection or
    question)."""
    price = _price(request, decision)
    if price is None:
        approving = decision.action is DecisionAction.APPROVE
        return (decision.amount or request.amount) if approving else None
    value, typed = price.gives_away, decision.amount
    if typed is not None and typed.currency == value.currency and typed.amount > value.amount:
        return typed
    return value


def _price(request: ApprovalRequest, decision: Decision) -> Price | None:
    for price in request.prices:
        if price.action is decision.action and price.option == decision.option:
            return price
    return None


def required_roles(request: ApprovalRequest, decision: Decision) -> frozenset[Role]:
    """Who may take `decision`: the request's roles, only finance and admin among them
    when what it gives away reaches the finance threshold (or cannot be compared)."""
    threshold = request.finance_threshold
    value = given_away(request, decision)
    if threshold is None or value is None or value.amount <= 0:
        return request.allowed_roles  # nothing given away (a zero threshold means "any")
    if value.currency == threshold.currency and value.amount < threshold.amount:
        return request.allowed_roles
    return request.allowed_roles & FINANCE_ROLES


def _over_threshold(request: ApprovalRequest, decision: Decision) -> str:
    threshold = request.finance_threshold
    value = given_away(request, decision)
    if threshold is None or value is None or value.amount <= 0:
        return ""
    if value.currency != threshold.currency:
        return f"amount {value} cannot be compared with the finance threshold {threshold}"
    if decision.by.role in required_roles(request, decision):
        return ""
    what = f"approving {value}"
    price = _price(request, decision)
    if price is not None:
        label = price.label or f"{decision.action} {decision.option}".rstrip()
        what = f"{label} gives away {value}, which"
    return f"{what} needs role finance or admin (threshold {threshold}); {decision.by} may not"


def _when(at: datetime | None) -> str:
    return at.isoformat(timespec="minutes") if at else "an unknown time"


def duration_text(span: timedelta) -> str:
    """A duration as operators write it: "1d 4h", "45m", "30s" (whole seconds)."""
    seconds = int(span.total_seconds())
    parts = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        if seconds >= size:
            parts.append(f"{seconds // size}{unit}")
            seconds %= size
    return " ".join(parts) or "0s"
