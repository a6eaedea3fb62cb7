"""The returns policy table: windows, returnable goods, who pays, thresholds, amounts."""

from __future__ import annotations

from datetime import timedelta

import pytest

from crossdock.models.order import Address, Channel, Order
from crossdock.models.returns import (
    InspectedLine,
    InspectionVerdict,
    ReturnLine,
    ReturnReason,
    ReturnRequest,
    ReturnSource,
)
from crossdock.money import Money
from crossdock.policies.returns import (
    RETURNS_POLICY,
    assess,
    inspected_refund,
    inspection_problems,
    refund_amount,
)
from tests.factories import NOW, line_item, order

US = Address(name="Demo buyer", line1="1 Main St", city="Austin", postal_code="78701", country="US")


def eur(amount: int) -> Money:
    return Money(amount=amount, currency="EUR")


def ask(
    o: Order,
    reason: ReturnReason = ReturnReason.CHANGED_MIND,
    lines: list[tuple[str, int]] | None = None,
) -> ReturnRequest:
    return ReturnRequest(
        channel=o.channel,
        rma="RMA1",
        order_id=o.workflow_id,
        lines=[ReturnLine(sku=s, quantity=q) for s, q in (lines or [("MUG-STONEWARE", 2)])],
        reason=reason,
        source=ReturnSource.MARKETPLACE,
        requested_at=NOW,
    )


def test_eu_buyer_gets_the_withdrawal_window_and_no_restocking_fee() -> None:
    o = order(channel=Channel.EBAY)
    verdict = assess(o, ask(o), delivered_at=NOW, paid=o.order_total, now=NOW + timedelta(days=29))
    assert verdict.eligible and verdict.restocking_fee_percent == 0
    assert verdict.window_ends == NOW + timedelta(days=30)
    assert verdict.return_shipping_paid_by == "buyer"
    # Whole order withdrawn: the goods and the standard outbound shipping come back.
    assert verdict.estimate == o.order_total


def test_change_of_mind_outside_the_window_needs_an_operator() -> None:
    o = order(ship_to=US, channel=Channel.EBAY)
    verdict = assess(o, ask(o), delivered_at=NOW, paid=o.order_total, now=NOW + timedelta(days=31))
    assert not verdict.eligible and not verdict.auto_approve
    assert "changed_mind window ended" in verdict.problems[0]
    # Outside the EU there is no withdrawal right: the restocking fee applies, no shipping.
    assert verdict.restocking_fee_percent == 10
    assert verdict.estimate == eur(3600 - 360)


def test_a_defect_has_the_eu_legal_guarantee() -> None:
    o = order()
    later = NOW + timedelta(days=400)
    verdict = assess(
        o, ask(o, ReturnReason.DAMAGED), delivered_at=NOW, paid=o.order_total, now=later
    )
    assert verdict.eligible
    assert RETURNS_POLICY.window(o, ReturnReason.DAMAGED) == timedelta(days=730)


def test_sealed_cosmetics_cannot_be_returned_for_a_change_of_mind_but_can_when_faulty() -> None:
    cream = line_item(sku="CREAM", hs_code="330499", quantity=1)
    o = order(items=[cream])
    mind = assess(o, ask(o, lines=[("CREAM", 1)]), delivered_at=NOW, paid=o.order_total, now=NOW)
    assert not mind.eligible
    assert "CREAM (HS chapter 33) is not returnable" in mind.problems[0]
    faulty = ask(o, ReturnReason.DAMAGED, [("CREAM", 1)])
    assert assess(o, faulty, delivered_at=NOW, paid=o.order_total, now=NOW).eligible


def test_lines_that_are_not_in_the_order_make_the_request_invalid() -> None:
    o = order()
    verdict = assess(
        o, ask(o, lines=[("MUG-STONEWARE", 3)]), delivered_at=None, paid=o.order_total, now=NOW
    )
    assert verdict.invalid
    assert verdict.problems == ["lines[0].quantity 3 is more than the 2 sold"]


def test_thresholds_auto_approve_small_refunds_and_send_large_ones_to_finance() -> None:
    small = order()
    verdict = assess(small, ask(small), delivered_at=NOW, paid=small.order_total, now=NOW)
    assert verdict.auto_approve and not verdict.needs_finance
    big = order(items=[line_item(unit_price=eur(40000))])
    verdict = assess(big, ask(big), delivered_at=NOW, paid=big.order_total, now=NOW)
    assert not verdict.auto_approve and verdict.needs_finance
    assert verdict.finance_threshold == eur(50000)


def test_a_currency_without_thresholds_always_needs_finance() -> None:
    sek = Money(amount=10000, currency="SEK")
    o = order(items=[line_item(unit_price=sek)], currency="SEK", shipping=sek)
    verdict = assess(o, ask(o), delivered_at=NOW, paid=o.order_total, now=NOW)
    assert not verdict.auto_approve and verdict.needs_finance and verdict.finance_threshold is None


def test_cheap_defective_goods_are_refunded_without_coming_back() -> None:
    o = order(items=[line_item(unit_price=eur(500))])
    verdict = assess(o, ask(o, ReturnReason.DAMAGED), delivered_at=NOW, paid=o.order_total, now=NOW)
    assert verdict.suggest_returnless
    not_received = ask(o, ReturnReason.NOT_RECEIVED)
    verdict = assess(o, not_received, delivered_at=None, paid=o.order_total, now=NOW)
    assert verdict.suggest_returnless and not verdict.auto_approve  # always reviewed


def test_taxes_collected_at_sale_are_refunded_with_the_goods() -> None:
    o = order()
    paid = o.order_total + eur(1700)
    one = ask(o, ReturnReason.DAMAGED, [("MUG-STONEWARE", 1)])
    assert refund_amount(o, one, {"MUG-STONEWARE": 100}, paid) == eur(1800 + 850)


@pytest.mark.parametrize(
    ("verdict", "percent", "expected"),
    [
        (InspectionVerdict.ACCEPTED, None, 3600 + 990),
        (InspectionVerdict.PARTIAL, 25, 900),
        (InspectionVerdict.DAMAGED, None, 1800),
        (InspectionVerdict.WRONG_ITEM, None, 0),
    ],
)
def test_inspection_verdicts(
    verdict: InspectionVerdict, percent: int | None, expected: int
) -> None:
    o = order()
    line = InspectedLine(sku="MUG-STONEWARE", verdict=verdict, refund_percent=percent)
    found = inspected_refund(o, ask(o), [line], o.order_total)
    assert found.amount == eur(expected)
    assert found.written_off == (["MUG-STONEWARE"] if verdict is InspectionVerdict.DAMAGED else [])


def test_an_inspection_must_cover_each_returned_line_once() -> None:
    o = order(items=[line_item(quantity=1), line_item(sku="BOWL", quantity=1)])
    r = ask(o, lines=[("MUG-STONEWARE", 1), ("BOWL", 1)])
    accepted = InspectionVerdict.ACCEPTED
    problems = inspection_problems(
        r,
        [
            InspectedLine(sku="MUG-STONEWARE", verdict=accepted),
            InspectedLine(sku="TEAPOT", verdict=accepted),
        ],
    )
    assert problems == [
        "lines name 'TEAPOT', which is not in this return",
        "line 'BOWL' was returned but has no verdict",
    ]


def test_a_partial_verdict_needs_its_percent() -> None:
    with pytest.raises(ValueError, match="refund_percent"):
        InspectedLine(sku="MUG", verdict=InspectionVerdict.PARTIAL)


def test_request_refuses_an_order_of_another_channel() -> None:
    with pytest.raises(ValueError, match="is not a ebay order"):
        ReturnRequest(
            channel=Channel.EBAY,
            rma="R1",
            order_id="order-amazon-111-2222222-3333333",
            lines=[ReturnLine(sku="A", quantity=1)],
            reason=ReturnReason.DAMAGED,
            source=ReturnSource.MARKETPLACE,
            requested_at=NOW,
        )
