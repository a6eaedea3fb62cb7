"""The rule-based risk score: each rule's points, FX-converted thresholds, the review line."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from crossdock.models.order import Address
from crossdock.models.screening import (
    GoodsLevel,
    MatchKind,
    Outcome,
    RestrictedGoodsHit,
    RiskRule,
    ScreeningMatch,
    ScreeningResult,
)
from crossdock.money import Money
from crossdock.policies.risk import FX, RISK_RULES, BuyerContext, assess_risk
from tests.factories import line_item, order

MATCH = ScreeningMatch(
    field="buyer.name",
    screened="Sampel Sanctioned Trading",
    entry_id="SMP-0001",
    entry_name="Sample Sanctioned Trading LLC",
    matched_name="Sample Sanctioned Trading LLC",
    kind=MatchKind.FUZZY,
    score=0.96,
    outcome=Outcome.REVIEW,
)
SCREENING_HIT = ScreeningResult(
    outcome=Outcome.REVIEW,
    matches=[MATCH],
    list_name="sample",
    list_as_of="2025-10-01",
    threshold=0.88,
)
KNIFE_TO_GB = RestrictedGoodsHit(
    item_index=0,
    hs_code="821191",
    destination="GB",
    level=GoodsLevel.RESTRICTED,
    rule_prefix="8211",
    rule_scope="GB",
    category="bladed articles (knives)",
    reason="age-verified delivery",
)


def priced(amount: int, currency: str = "EUR", **overrides: Any) -> Any:
    """An order whose total (one item, no shipping) is `amount` minor units."""
    item = line_item(quantity=1, unit_price=Money(amount=amount, currency=currency))
    return order(items=[item], currency=currency, shipping=Money.zero(currency), **overrides)


def points(assessment: Any) -> dict[RiskRule, int]:
    return {reason.rule: reason.points for reason in assessment.reasons}


def test_ordinary_order_scores_zero_with_no_reasons() -> None:
    risk = assess_risk(order())

    assert (risk.score, risk.reasons, risk.needs_review) == (0, [], False)
    assert risk.review_at == RISK_RULES.review_at == 50


@pytest.mark.parametrize(
    ("amount", "expected"),
    [(100000, None), (100001, 20), (250000, 20), (250001, 35), (10**9, 35)],
)
def test_value_bands_are_strictly_over_and_only_the_highest_counts(
    amount: int, expected: int | None
) -> None:
    assert points(assess_risk(priced(amount))).get(RiskRule.ORDER_VALUE) == expected


def test_value_includes_shipping() -> None:
    item = line_item(quantity=1, unit_price=Money(amount=99000, currency="EUR"))
    with_shipping = order(items=[item], shipping=Money(amount=1001, currency="EUR"))

    assert points(assess_risk(with_shipping))[RiskRule.ORDER_VALUE] == 20


def test_jpy_order_is_valued_in_eur_at_the_recorded_rate() -> None:
    # 173762 JPY x 0.005755 = 1000.0003 EUR, which rounds to 1000.00: not over.
    assert RiskRule.ORDER_VALUE not in points(assess_risk(priced(173762, "JPY")))

    risk = assess_risk(priced(173763, "JPY"))

    [reason] = risk.reasons
    assert (reason.rule, reason.points) == (RiskRule.ORDER_VALUE, 20)
    assert reason.detail == (
        "order total 173763 JPY = 1000.01 EUR at 0.005755 (FX as of 2025-10-01) is over 1000.00 EUR"
    )
    assert FX.rate("JPY", "EUR").rate == Decimal("0.005755")


def test_gbp_order_over_the_eur_threshold() -> None:
    # 873.01 GBP / 0.8730 = 1000.01 EUR
    assert points(assess_risk(priced(87301, "GBP"))) == {RiskRule.ORDER_VALUE: 20}
    assert points(assess_risk(priced(87300, "GBP"))) == {}


def test_order_in_a_currency_without_fx_rate_scores_as_the_top_band() -> None:
    risk = assess_risk(priced(1000, "KWD"))

    [reason] = risk.reasons
    assert reason.points == RISK_RULES.order_value.unconvertible_points == 35
    assert "cannot be valued in EUR" in reason.detail
    assert "KWD" in reason.detail


@pytest.mark.parametrize(("billing", "expected"), [(None, None), ("FR", None), ("DE", 25)])
def test_billing_country_differing_from_shipping(billing: str | None, expected: int | None) -> None:
    risk = assess_risk(order(), BuyerContext(billing_country=billing))

    assert points(risk).get(RiskRule.BILLING_COUNTRY_MISMATCH) == expected
    if expected:
        assert risk.reasons[0].detail == "billing country DE differs from ship_to.country FR"


@pytest.mark.parametrize("bad", ["fr", "FRA", "", "F1"])
def test_malformed_billing_country_is_refused_by_name(bad: str) -> None:
    with pytest.raises(ValueError, match=f"billing_country {bad!r} is not an ISO 3166 alpha-2"):
        BuyerContext(billing_country=bad)


def test_high_risk_destination() -> None:
    ship_to = Address(name="x", line1="1 Street", city="Yangon", country="MM")

    assert points(assess_risk(order(ship_to=ship_to))) == {RiskRule.HIGH_RISK_DESTINATION: 30}


@pytest.mark.parametrize(
    ("orders", "expected"), [(0, None), (2, None), (3, 15), (4, 15), (5, 30), (50, 30)]
)
def test_velocity_bands(orders: int, expected: int | None) -> None:
    risk = assess_risk(order(), BuyerContext(orders_last_24h=orders))

    assert points(risk).get(RiskRule.VELOCITY) == expected


def test_negative_order_count_is_refused_by_name() -> None:
    with pytest.raises(ValueError, match="orders_last_24h is -1"):
        BuyerContext(orders_last_24h=-1)


def test_other_checks_contribute_with_details() -> None:
    ctx = BuyerContext(first_time_buyer=True, screening=SCREENING_HIT, restricted=[KNIFE_TO_GB])

    risk = assess_risk(order(), ctx)

    assert points(risk) == {
        RiskRule.DENIED_PARTY_MATCH: 40,
        RiskRule.RESTRICTED_GOODS: 20,
        RiskRule.FIRST_TIME_BUYER: 10,
    }
    assert risk.score == 70
    details = {reason.rule: reason.detail for reason in risk.reasons}
    assert "buyer.name ~ SMP-0001 (fuzzy, 0.96)" in details[RiskRule.DENIED_PARTY_MATCH]
    assert "items[0] bladed articles (knives) (restricted)" in details[RiskRule.RESTRICTED_GOODS]


def test_a_clear_screening_adds_nothing() -> None:
    clear = SCREENING_HIT.model_copy(update={"outcome": Outcome.CLEAR, "matches": []})

    assert assess_risk(order(), BuyerContext(screening=clear)).score == 0


def test_review_at_the_threshold_not_below() -> None:
    at = BuyerContext(billing_country="DE", first_time_buyer=True, orders_last_24h=3)  # 25+10+15
    below = BuyerContext(first_time_buyer=True, orders_last_24h=3, restricted=[KNIFE_TO_GB])  # 45

    assert (assess_risk(order(), at).score, assess_risk(order(), at).needs_review) == (50, True)
    assert (assess_risk(order(), below).score, assess_risk(order(), below).needs_review) == (
        45,
        False,
    )


def test_threshold_comes_from_the_rules() -> None:
    stricter = RISK_RULES.model_copy(update={"review_at": 10})

    assert assess_risk(order(), BuyerContext(first_time_buyer=True), rules=stricter).needs_review


def test_score_is_capped_at_100_but_every_reason_is_kept() -> None:
    ship_to = Address(name="x", line1="1 Street", city="Pyongyang", country="KP")
    ctx = BuyerContext(
        billing_country="DE",
        first_time_buyer=True,
        orders_last_24h=9,
        screening=SCREENING_HIT,
        restricted=[KNIFE_TO_GB],
    )

    risk = assess_risk(priced(10**7, ship_to=ship_to), ctx)

    assert risk.score == 100
    assert sum(reason.points for reason in risk.reasons) == 190
    assert [reason.rule for reason in risk.reasons] == list(RiskRule)
