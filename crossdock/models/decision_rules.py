"""The rules a decision must pass before a workflow takes it: the question is still
open, the role may decide it (maker ≠ checker), the action and option are offered, a
reason is given where one is required, and what it gives away is within the decider's
finance limit.

Pure, so the approval component (`workflows/approval.py`) runs them in its update
validator and unit tests check them directly.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from crossdock.models.decision import REASON_REQUIRED, Decision, DecisionAction, Price
from crossdock.models.principal import FINANCE_ROLES, Role
from crossdock.money import Money

if TYPE_CHECKING:
    from crossdock.models.approval import ApprovalRequest, ApprovalStatus


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
