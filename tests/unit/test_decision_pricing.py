"""Property: for every decision the return and dispute workflows put to operators, and
every option and amount an operator may pick, the role required is the one what the
decision gives away calls for, not the amount typed.

The requests are built by the workflows' own builders; what each decision gives away is
stated here again, independently, from the order and the case:

| decision                   | gives away                                             |
|----------------------------|--------------------------------------------------------|
| return: return_label       | the amount approved (typed, else the estimate)         |
| return: returnless         | the amount approved                                    |
| return: partial_offer      | the estimate: a declined offer becomes the whole refund |
| return: replacement        | the returned lines' goods at the order's unit prices   |
| missing parcel: refund     | the whole approved amount, without the goods           |
| wrong item: approve        | the rest as inspected                                  |
| failed refund: any answer  | the refund's amount                                    |
| unconfirmed refund: retry  | nothing (it asks the partner again)                    |
| unconfirmed: by hand, another way | the refund's amount                             |
| label / replacement refused: retry | nothing new                                    |
| label / replacement refused: refund | the approved amount                           |
| dispute: contest, concede  | the disputed amount                                    |

A currency without a finance threshold always needs finance.
"""

from __future__ import annotations

from datetime import timedelta

from hypothesis import given
from hypothesis import strategies as st

from crossdock.models.approval import (
    FINANCE_ROLES,
    ApprovalRequest,
    ApprovalStatus,
    Decision,
    DecisionAction,
    Principal,
    Role,
    refusal_reason,
)
from crossdock.models.dispute import (
    DisputePolicy,
    DisputeProvider,
    DisputeReason,
    DisputeSnapshot,
    ProviderStatus,
)
from crossdock.models.dispute_status import DisputeStatus
from crossdock.models.order import Order
from crossdock.models.return_status import ReturnStatus
from crossdock.models.returns import (
    RefundState,
    ReturnLine,
    ReturnOption,
    ReturnReason,
    ReturnRefund,
    ReturnRequest,
    ReturnSource,
    ReturnTimers,
)
from crossdock.money import Money
from crossdock.policies.returns import RETURNS_POLICY, Eligibility, assess
from tests.factories import NOW, line_item, order
from workflows.dispute_decision import decision_request as dispute_request
from workflows.dispute_decision import terms_refusal as dispute_terms_refusal
from workflows.return_decision import decision_request, terms_refusal
from workflows.return_questions import RETRY
from workflows.return_refund import FAILURE_OPTIONS, refund_failed_request, unconfirmed_request
from workflows.return_replacement import replacement_request
from workflows.return_shipment import (
    REFUND_ANYWAY,
    label_request,
    missing_parcel_request,
    wrong_item_request,
)

APPROVE, REJECT = DecisionAction.APPROVE, DecisionAction.REJECT
DECIDING = (Role.OPERATOR, Role.FINANCE, Role.ADMIN)
# EUR has a threshold in both policies; CHF in neither (so: always finance).
CURRENCIES = ("EUR", "CHF")
TIMERS = ReturnTimers()
LATER = NOW + timedelta(days=1)


def threshold(table: dict[str, int], currency: str) -> int:
    return table.get(currency, 0)


RETURN_THRESHOLDS = {"EUR": 50_000}
DISPUTE_THRESHOLDS = {"EUR": 50_000}


def required(value: Money | None, limit: int, allowed: frozenset[Role]) -> frozenset[Role]:
    if value is None or value.amount == 0 or value.amount < limit:
        return allowed
    return allowed & FINANCE_ROLES


def check(request: ApprovalRequest, decision: Decision, value: Money | None, limit: int) -> None:
    """Every deciding role is refused for the threshold exactly when it may not give
    `value` away, and is otherwise not refused at all."""
    status = ApprovalStatus(request=request, opened_at=NOW)
    need = required(value, limit, request.allowed_roles)
    for role in DECIDING:
        if role not in request.allowed_roles:
            continue
        by = decision.model_copy(update={"by": Principal(id=f"{role}-1", role=role)})
        why = refusal_reason(status, by, NOW + timedelta(seconds=1))
        if request.key == "decision":
            why = why or terms_refusal(by)
        if role in need:
            assert why == "", (role, value, why)
        else:
            assert "needs role finance or admin" in why, (role, value, why)


@st.composite
def orders(draw: st.DrawFn) -> Order:
    currency = draw(st.sampled_from(CURRENCIES))
    items = [
        line_item(
            sku=sku,
            quantity=draw(st.integers(1, 3)),
            unit_price=Money(amount=draw(st.integers(1, 100_000)), currency=currency),
        )
        for sku in ("A", "B", "C")[: draw(st.integers(1, 3))]
    ]
    shipping = Money(amount=draw(st.integers(0, 3000)), currency=currency)
    return order(items=items, shipping=shipping, currency=currency)


@st.composite
def returns(draw: st.DrawFn) -> tuple[Order, ReturnRequest, Eligibility]:
    o = draw(orders())
    picked = draw(st.lists(st.sampled_from(o.items), min_size=1, unique_by=lambda i: i.sku))
    lines = [ReturnLine(sku=i.sku, quantity=draw(st.integers(1, i.quantity))) for i in picked]
    request = ReturnRequest(
        channel=o.channel,
        rma="RMA1",
        order_id=o.workflow_id,
        lines=lines,
        reason=draw(st.sampled_from(ReturnReason)),
        source=ReturnSource.MARKETPLACE,
        requested_at=NOW,
    )
    verdict = assess(o, request, delivered_at=NOW, paid=o.order_total, now=LATER)
    return o, request, verdict


def goods(o: Order, lines: list[ReturnLine]) -> Money:
    price = {item.sku: item.unit_price.amount for item in o.items}
    return Money(amount=sum(price[line.sku] * line.quantity for line in lines), currency=o.currency)


def test_the_policy_tables_match_the_thresholds_stated_here() -> None:
    assert RETURNS_POLICY.amount(RETURNS_POLICY.finance_threshold, "EUR") == Money(
        amount=RETURN_THRESHOLDS["EUR"], currency="EUR"
    )
    assert "CHF" not in RETURNS_POLICY.finance_threshold
    assert DisputePolicy().finance_thresholds["EUR"] == DISPUTE_THRESHOLDS["EUR"]
    assert "CHF" not in DisputePolicy().finance_thresholds


@given(case=returns(), option=st.sampled_from(ReturnOption), typed=st.none() | st.integers(1))
def test_return_decisions_are_priced_by_what_they_give_away(
    case: tuple[Order, ReturnRequest, Eligibility], option: ReturnOption, typed: int | None
) -> None:
    o, request, verdict = case
    if verdict.estimate.amount == 0:
        return  # nothing is refundable: the workflow declines without asking
    asked = decision_request(request, o, TIMERS, verdict)
    if option not in asked.options:
        return
    amount = None
    if typed is not None and option is not ReturnOption.REPLACEMENT:
        amount = Money(amount=1 + typed % verdict.estimate.amount, currency=o.currency)
    if option is ReturnOption.PARTIAL_OFFER and amount is None:
        amount = Money(amount=1, currency=o.currency)
    decision = Decision(key="decision", action=APPROVE, by=Principal(id="x", role=Role.OPERATOR))
    decision = decision.model_copy(update={"option": option.value, "amount": amount})
    value = {
        ReturnOption.RETURN_LABEL: amount or verdict.estimate,
        ReturnOption.RETURNLESS: amount or verdict.estimate,
        ReturnOption.PARTIAL_OFFER: verdict.estimate,
        ReturnOption.REPLACEMENT: goods(o, request.lines),
    }[option]
    check(asked, decision, value, threshold(RETURN_THRESHOLDS, o.currency))
    # Declining and asking for more give nothing away: any deciding role may.
    for action in (REJECT, DecisionAction.REQUEST_INFO):
        other = decision.model_copy(update={"action": action, "option": "", "amount": None})
        check(asked, other.model_copy(update={"reason": "why"}), None, 0)


@given(
    case=returns(),
    cents=st.integers(1, 200_000),
    which=st.sampled_from(
        ["missing-parcel", "wrong-item", *FAILURE_OPTIONS]
        + [f"unconfirmed:{option}" for option in FAILURE_OPTIONS]
        + [
            "label:retry",
            f"label:{REFUND_ANYWAY}",
            "replacement:retry",
            "replacement:refund_instead",
        ]
    ),
)
def test_later_return_decisions_are_priced_by_the_refund_they_let_leave(
    case: tuple[Order, ReturnRequest, Eligibility], cents: int, which: str
) -> None:
    o, request, verdict = case
    money = Money(amount=cents, currency=o.currency)
    status = ReturnStatus(request=request, eligibility=verdict, approved_amount=money)
    by = Principal(id="x", role=Role.OPERATOR)
    if which == "missing-parcel":
        asked = missing_parcel_request(status, TIMERS)
        decision = Decision(key=asked.key, action=APPROVE, by=by, option=REFUND_ANYWAY)
    elif which == "wrong-item":
        asked = wrong_item_request(status, TIMERS, ["A"], money)
        decision = Decision(key=asked.key, action=APPROVE, by=by)
    elif which.partition(":")[0] in ("label", "replacement"):
        kind, _, option = which.partition(":")
        build = label_request if kind == "label" else replacement_request
        asked = build(status, TIMERS, "refused", 1)
        decision = Decision(key=asked.key, action=APPROVE, by=by, option=option)
        value = Money.zero(o.currency) if option == RETRY else money
        check(asked, decision, value, threshold(RETURN_THRESHOLDS, o.currency))
        return
    elif which.startswith("unconfirmed:"):
        option = which.partition(":")[2]
        record = ReturnRefund(step="refund", amount=money, state=RefundState.UNCONFIRMED)
        asked = unconfirmed_request(status, TIMERS, record, 1)
        decision = Decision(key=asked.key, action=APPROVE, by=by, option=option)
        value = Money.zero(o.currency) if option == RETRY else money
        check(asked, decision, value, threshold(RETURN_THRESHOLDS, o.currency))
        # Nobody knows whether the money left: there is no closing it.
        reject = decision.model_copy(update={"action": REJECT, "option": "", "reason": "no"})
        assert "action 'reject' is not offered" in refusal_reason(
            ApprovalStatus(request=asked, opened_at=NOW), reject, NOW
        )
        return
    else:
        record = ReturnRefund(step="refund", amount=money, state=RefundState.FAILED)
        asked = refund_failed_request(status, TIMERS, record, 1)
        decision = Decision(key=asked.key, action=APPROVE, by=by, option=which)
    check(asked, decision, money, threshold(RETURN_THRESHOLDS, o.currency))
    reject = decision.model_copy(update={"action": REJECT, "option": "", "reason": "no"})
    check(asked, reject, None, 0)


@given(
    cents=st.integers(1, 200_000),
    currency=st.sampled_from(CURRENCIES),
    action=st.sampled_from([APPROVE, REJECT]),
    typed=st.booleans(),
)
def test_contesting_and_conceding_a_dispute_are_priced_at_its_amount(
    cents: int, currency: str, action: DecisionAction, typed: bool
) -> None:
    amount = Money(amount=cents, currency=currency)
    snapshot = DisputeSnapshot(
        id="dp_1",
        amount=amount,
        reason=DisputeReason.FRAUDULENT,
        status=ProviderStatus.NEEDS_RESPONSE,
        due_by=NOW + timedelta(days=10),
    )
    status = DisputeStatus(provider=DisputeProvider.STRIPE, dispute_id="dp_1", snapshot=snapshot)
    asked = dispute_request(status, DisputePolicy(), NOW)
    assert asked is not None
    by = Principal(id="x", role=Role.OPERATOR)
    decision = Decision(key=asked.key, action=action, by=by, reason="because")
    if typed:
        # Contesting or conceding "1.00" of it is still all of it: an amount is refused.
        small = decision.model_copy(update={"amount": Money(amount=1, currency=currency)})
        assert "amount does not apply" in dispute_terms_refusal(small)
    assert dispute_terms_refusal(decision) == ""
    check(asked, decision, amount, threshold(DISPUTE_THRESHOLDS, currency))
