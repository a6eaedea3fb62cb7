"""The approval rules without Temporal: who may decide what, and when the clocks fire."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from crossdock.models.approval import (
    ApprovalRequest,
    ApprovalState,
    ApprovalStatus,
    Decision,
    DecisionAction,
    DecisionRecord,
    Principal,
    Role,
    Stage,
    duration_text,
    refusal_reason,
)
from crossdock.money import Money

OPENED = datetime(2026, 11, 2, 9, 30, tzinfo=UTC)
HOUR = timedelta(hours=1)
MAKER = Principal(id="ops-1", role=Role.OPERATOR)
OPERATOR = Principal(id="ops-2", role=Role.OPERATOR)
FINANCE = Principal(id="fin-1", role=Role.FINANCE)
ADMIN = Principal(id="adm-1", role=Role.ADMIN)
APPROVE = DecisionAction.APPROVE
REJECT = DecisionAction.REJECT
REQUEST_INFO = DecisionAction.REQUEST_INFO


def eur(cents: int) -> Money:
    return Money(amount=cents, currency="EUR")


def refund(**changes: object) -> ApprovalRequest:
    fields: dict[str, object] = {
        "key": "refund",
        "subject": "refund for RMA 42",
        "allowed_roles": {Role.OPERATOR, Role.FINANCE, Role.ADMIN},
        "actions": set(DecisionAction),
        "remind_after": HOUR,
        "escalate_after": 4 * HOUR,
        "expire_after": 24 * HOUR,
        "requested_by": MAKER,
        "amount": eur(18000),
        "finance_threshold": eur(10000),
    }
    return ApprovalRequest.model_validate(fields | changes)


def pending(request: ApprovalRequest | None = None) -> ApprovalStatus:
    return ApprovalStatus(request=request or refund(), opened_at=OPENED)


def decide(by: Principal, action: DecisionAction = APPROVE, **terms: object) -> Decision:
    return Decision.model_validate({"key": "refund", "action": action, "by": by, **terms})


def refused(decision: Decision, status: ApprovalStatus | None = None) -> str:
    return refusal_reason(status or pending(), decision, OPENED + HOUR)


# -- requests refuse incoherent setups when the workflow opens them -------------------


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"allowed_roles": {Role.VIEWER, Role.OPERATOR}}, "operator, finance or admin roles only"),
        ({"allowed_roles": set()}, "operator, finance or admin roles only"),
        ({"actions": {REJECT}}, "actions must include approve"),
        ({"escalate_after": HOUR}, "expire_after, got 1h < 1h < 1d"),
        ({"remind_after": timedelta(0)}, "0 < remind_after"),
        ({"allowed_roles": {Role.OPERATOR}}, "finance_threshold is set but allowed_roles has no"),
        ({"finance_threshold": Money(amount=100, currency="USD")}, "convert one before asking"),
        ({"key": "Review Order"}, "String should match pattern"),
    ],
)
def test_incoherent_requests_are_refused(changes: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        refund(**changes)


# -- who may decide ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("decision", "message"),
    [
        (decide(Principal(id="v-1", role=Role.VIEWER), option=""), "role 'viewer' may not"),
        (decide(MAKER, REJECT, reason="changed my mind"), "maker ≠ checker"),
        (decide(OPERATOR), "approving 180.00 EUR needs role finance or admin"),
        (decide(OPERATOR, REQUEST_INFO, reason=" "), "a reason is required to request_info"),
        (decide(OPERATOR, REJECT), "a reason is required to reject"),
        (decide(FINANCE, amount=eur(0)), "must be more than zero"),
        (decide(FINANCE, amount=Money(amount=100, currency="GBP")), "at most the requested"),
        (decide(FINANCE, REJECT, reason="no", amount=eur(100)), "only applies to approving"),
        (decide(FINANCE, REJECT, reason="no", option="x"), "only applies to approve"),
        (decide(FINANCE).model_copy(update={"key": "review"}), "the pending approval is 'refund'"),
    ],
)
def test_refusals_name_the_rule(decision: Decision, message: str) -> None:
    assert message in refused(decision)


@pytest.mark.parametrize(
    "decision",
    [
        decide(FINANCE),
        decide(ADMIN),
        # The amount approved is what the threshold applies to: a partial refund under
        # the threshold needs no finance approver.
        decide(OPERATOR, amount=eur(9999)),
        # Only approving money is gated; any allowed role may reject or ask.
        decide(OPERATOR, REJECT, reason="item was used"),
        decide(OPERATOR, REQUEST_INFO, reason="photos of the damage?"),
    ],
)
def test_allowed_decisions(decision: Decision) -> None:
    assert refused(decision) == ""


def test_threshold_is_inclusive() -> None:
    assert "needs role finance" in refused(decide(OPERATOR, amount=eur(10000)))


def test_options_must_be_picked_when_offered() -> None:
    status = pending(refund(options=("return_label", "returnless")))
    assert "option '' is not offered" in refused(decide(FINANCE), status)
    assert refused(decide(FINANCE, option="returnless"), status) == ""


def test_closed_and_expired() -> None:
    closed = pending()
    closed.state, closed.closed_at = ApprovalState.EXPIRED, OPENED + 24 * HOUR
    assert (
        refused(decide(FINANCE), closed) == "'refund' was already expired at 2026-11-03T09:30+00:00"
    )
    late = refusal_reason(pending(), decide(FINANCE), OPENED + 24 * HOUR)
    assert late == "'refund' expired at 2026-11-03T09:30+00:00"


def test_with_no_status_at_all() -> None:
    message = refusal_reason(None, decide(FINANCE), OPENED)
    assert message == "no approval is pending (nothing was asked, so 'refund' cannot be decided)"


@given(
    role=st.sampled_from(Role),
    by_maker=st.booleans(),
    action=st.sampled_from(DecisionAction),
    cents=st.none() | st.integers(min_value=-10, max_value=20000),
    reason=st.sampled_from(["", " ", "because"]),
)
def test_no_allowed_decision_breaks_the_identity_rules(
    role: Role, by_maker: bool, action: DecisionAction, cents: int | None, reason: str
) -> None:
    by = Principal(id=MAKER.id if by_maker else "someone-else", role=role)
    amount = None if cents is None else eur(cents)
    decision = decide(by, action, reason=reason, amount=amount)
    if refused(decision):
        return
    assert role is not Role.VIEWER
    assert not by_maker
    assert action is APPROVE or reason.strip()
    approved = amount or refund().amount
    if action is APPROVE and approved is not None and approved.amount >= 10000:
        assert role in {Role.FINANCE, Role.ADMIN}


# -- clocks -----------------------------------------------------------------------


def test_clocks_fire_remind_escalate_expire_in_order() -> None:
    status = pending()
    assert status.next_deadline() == (Stage.REMIND, OPENED + HOUR)
    status.reminded_at = OPENED + HOUR
    assert status.needs_attention
    assert status.next_deadline() == (Stage.ESCALATE, OPENED + 4 * HOUR)
    status.escalated_at = OPENED + 4 * HOUR
    assert status.next_deadline() == (Stage.EXPIRE, OPENED + 24 * HOUR)


def test_request_info_restarts_the_reminder_but_not_escalation_or_expiry() -> None:
    status = pending()
    status.reminded_at = OPENED + HOUR
    asked = decide(OPERATOR, REQUEST_INFO, reason="photos?")
    status.decisions.append(DecisionRecord(decision=asked, at=OPENED + 2 * HOUR))
    assert not status.needs_attention
    assert status.next_deadline() == (Stage.REMIND, OPENED + 3 * HOUR)
    status.decisions.append(DecisionRecord(decision=asked, at=OPENED + 3 * HOUR + HOUR / 2))
    assert status.next_deadline() == (Stage.ESCALATE, OPENED + 4 * HOUR)
    status.escalated_at = OPENED + 4 * HOUR
    status.decisions.append(DecisionRecord(decision=asked, at=OPENED + 5 * HOUR))
    assert status.needs_attention  # escalation is not cleared by asking again
    assert status.next_deadline() == (Stage.EXPIRE, OPENED + 24 * HOUR)  # no more reminders
    assert status.final_decision is None


def test_on_a_tie_the_later_stage_wins() -> None:
    status = pending(refund(remind_after=HOUR, escalate_after=2 * HOUR))
    asked = decide(OPERATOR, REQUEST_INFO, reason="photos?")
    status.decisions.append(DecisionRecord(decision=asked, at=OPENED + HOUR))
    status.reminded_at = OPENED + HOUR / 2
    assert status.next_deadline() == (Stage.ESCALATE, OPENED + 2 * HOUR)
    status.escalated_at = OPENED + 2 * HOUR
    assert status.next_deadline() == (Stage.EXPIRE, OPENED + 24 * HOUR)


def test_a_closed_approval_needs_no_attention() -> None:
    status = pending()
    status.escalated_at = OPENED + 4 * HOUR
    status.state = ApprovalState.REJECTED
    assert not status.needs_attention


@pytest.mark.parametrize(
    ("span", "text"),
    [
        (timedelta(days=1), "1d"),
        (timedelta(hours=4), "4h"),
        (timedelta(hours=26, minutes=5), "1d 2h 5m"),
        (timedelta(seconds=45.7), "45s"),
        (timedelta(0), "0s"),
    ],
)
def test_duration_text(span: timedelta, text: str) -> None:
    assert duration_text(span) == text
