"""The order's refund ledger (hypothesis): whatever returns and disputes ask, in any order,
with any outcomes and duplicate deliveries, the refunded plus reserved total never
exceeds what the buyer paid, and nothing is refunded before shipment."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from crossdock.models import order_ledger
from crossdock.models.order_cases import RefundOutcome, RefundRequest
from crossdock.models.order_states import OrderState
from crossdock.models.order_status import OrderStatus
from crossdock.models.order_steps import PaymentAuthorization
from crossdock.money import Money
from tests.factories import order

ORDER = order()
PAID = Money(amount=10_000, currency="EUR")


def shipped() -> OrderStatus:
    return OrderStatus(
        state=OrderState.DELIVERED,
        authorization=PaymentAuthorization(intent_id="pi_1", amount=PAID),
        captured=PAID,
    )


def request(case: int, amount: int, step: str = "refund") -> RefundRequest:
    return RefundRequest(
        case_id=f"return-ebay-{case}",
        step=step,
        amount=Money(amount=amount, currency="EUR"),
        reason="damaged",
    )


asks = st.lists(
    st.tuples(
        st.sampled_from(["reserve", "succeed", "fail"]),
        st.integers(min_value=0, max_value=4),  # case
        st.integers(min_value=1, max_value=6_000),  # amount
    ),
    max_size=40,
)


@given(asks)
def test_refunds_never_exceed_what_was_paid(operations: list[tuple[str, int, int]]) -> None:
    status = shipped()
    for op, case, amount in operations:
        ask = request(case, amount)
        if op == "reserve":
            if order_ledger.refusal(status, ORDER, ask) is None:
                order_ledger.reserve(status, ask)
        else:
            outcome = RefundOutcome(reservation_id=ask.reservation_id, succeeded=op == "succeed")
            order_ledger.settle(status, outcome)
        committed = order_ledger.committed(status, "EUR")
        assert 0 <= committed.amount <= PAID.amount
        refunded = status.refunded.amount if status.refunded else 0
        assert 0 <= refunded <= committed.amount
        assert order_ledger.remaining(status, ORDER).amount == PAID.amount - committed.amount


def test_a_reservation_over_what_is_left_is_refused_naming_the_amounts() -> None:
    status = shipped()
    order_ledger.reserve(status, request(1, 7_000))
    why = order_ledger.refusal(status, ORDER, request(2, 4_000))
    assert why is not None and "40.00 EUR exceeds what is left to refund (30.00 EUR" in why


def test_asking_twice_returns_the_same_reservation_and_a_failure_frees_it() -> None:
    status = shipped()
    first = order_ledger.reserve(status, request(1, 7_000))
    assert order_ledger.refusal(status, ORDER, request(1, 7_000)) is None
    assert order_ledger.reserve(status, request(1, 7_000)) is first
    order_ledger.settle(status, RefundOutcome(reservation_id=first.reservation_id, succeeded=False))
    assert order_ledger.remaining(status, ORDER) == PAID
    assert order_ledger.refusal(status, ORDER, request(1, 7_000, step="refund-2")) is None


def test_a_settled_refund_counts_once_even_if_the_signal_comes_twice() -> None:
    status = shipped()
    reservation = order_ledger.reserve(status, request(1, 2_500))
    done = RefundOutcome(reservation_id=reservation.reservation_id, succeeded=True)
    order_ledger.settle(status, done)
    order_ledger.settle(status, done)
    assert status.refunded == Money(amount=2_500, currency="EUR")


def test_nothing_is_refunded_before_shipment_or_in_another_currency() -> None:
    before = OrderStatus(state=OrderState.LABEL_BOUGHT)
    assert "nothing shipped" in (order_ledger.refusal(before, ORDER, request(1, 100)) or "")
    usd = RefundRequest(
        case_id="return-ebay-1", amount=Money(amount=100, currency="USD"), reason="damaged"
    )
    assert "paid in EUR" in (order_ledger.refusal(shipped(), ORDER, usd) or "")
