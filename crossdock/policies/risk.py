"""A rule-based order risk score, 0 to 100, with every rule's contribution explained.

The rules' points and thresholds are data (`crossdock/data/risk_rules.json`); this module
only applies them. Money thresholds are in the table's currency (EUR): an order in
another currency is converted with the FX reference table, and the rate used is written
into the reason. Rules that do not fire add no reason; the score is capped at 100, and an
order at or above `review_at` needs an operator's review.

Buyer history (`first_time_buyer`, `orders_last_24h`) and `billing_country` are not on
the order: the caller supplies them, and their defaults add no points.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Annotated, Final

from pydantic import BaseModel, ConfigDict, Field, model_validator

from crossdock.models.order import CountryCode, Order
from crossdock.models.screening import (
    RestrictedGoodsHit,
    RiskAssessment,
    RiskReason,
    RiskRule,
    ScreeningResult,
)
from crossdock.money import CurrencyCode, Money
from crossdock.policies._data import load_table
from crossdock.fx import FxTable, UnknownCurrency, default_fx

__all__ = ["FX", "RISK_RULES", "BuyerContext", "RiskRules", "assess_risk"]

Points = Annotated[int, Field(ge=0, le=100)]
_COUNTRY = re.compile(r"^[A-Z]{2}$")


class ValueBand(BaseModel):
    model_config = ConfigDict(frozen=True)

    over: Annotated[Decimal, Field(gt=0)]  # in the table's value_currency
    points: Points


class OrderValueRule(BaseModel):
    model_config = ConfigDict(frozen=True)

    bands: list[ValueBand] = Field(min_length=1)
    unconvertible_points: Points


class FlatRule(BaseModel):
    model_config = ConfigDict(frozen=True)

    points: Points


class DestinationRule(BaseModel):
    model_config = ConfigDict(frozen=True)

    points: Points
    countries: list[CountryCode]


class VelocityBand(BaseModel):
    model_config = ConfigDict(frozen=True)

    at_least: Annotated[int, Field(ge=1)]
    points: Points


class VelocityRule(BaseModel):
    model_config = ConfigDict(frozen=True)

    window_hours: Annotated[int, Field(gt=0)]
    bands: list[VelocityBand] = Field(min_length=1)


class RiskRules(BaseModel):
    """The risk rules as data."""

    model_config = ConfigDict(frozen=True)

    as_of: date
    review_at: Annotated[int, Field(ge=1, le=100)]
    value_currency: CurrencyCode
    order_value: OrderValueRule
    billing_country_mismatch: FlatRule
    high_risk_destination: DestinationRule
    denied_party_match: FlatRule
    restricted_goods: FlatRule
    first_time_buyer: FlatRule
    velocity: VelocityRule

    @model_validator(mode="after")
    def _amounts_fit_the_currency(self) -> RiskRules:
        for index, band in enumerate(self.order_value.bands):
            try:
                Money.parse(band.over, self.value_currency)
            except ValueError as exc:
                raise ValueError(f"order_value.bands[{index}].over: {exc}") from exc
        return self

    def value_threshold(self, band: ValueBand) -> Money:
        return Money.parse(band.over, self.value_currency)


RISK_RULES: Final = RiskRules.model_validate(load_table("risk_rules.json"))
FX: Final = default_fx()


@dataclass(frozen=True)
class BuyerContext:
    """What the risk rules need besides the order and the other checks' results."""

    billing_country: str | None = None
    first_time_buyer: bool = False
    orders_last_24h: int = 0
    screening: ScreeningResult | None = None
    restricted: Sequence[RestrictedGoodsHit] = ()

    def __post_init__(self) -> None:
        if self.billing_country is not None and not _COUNTRY.match(self.billing_country):
            raise ValueError(
                f"billing_country {self.billing_country!r} is not an ISO 3166 alpha-2 "
                "country code such as 'DE'"
            )
        if self.orders_last_24h < 0:
            raise ValueError(f"orders_last_24h is {self.orders_last_24h}; it cannot be negative")


Rule = Callable[[Order, BuyerContext, RiskRules, FxTable], RiskReason | None]


def _order_value(
    order: Order, ctx: BuyerContext, rules: RiskRules, fx: FxTable
) -> RiskReason | None:
    total = order.order_total
    try:
        value, rate = fx.convert(total, rules.value_currency)
    except UnknownCurrency as exc:
        # Fail closed: a value we cannot compare is treated as the highest band.
        return RiskReason(
            rule=RiskRule.ORDER_VALUE,
            points=rules.order_value.unconvertible_points,
            detail=f"order total {total} cannot be valued in {rules.value_currency}: {exc}",
        )
    passed = [b for b in rules.order_value.bands if value.amount > rules.value_threshold(b).amount]
    if not passed:
        return None
    band = max(passed, key=lambda b: b.over)
    converted = f" = {value} at {rate.rate} (FX as of {rate.as_of})" if rate else ""
    return RiskReason(
        rule=RiskRule.ORDER_VALUE,
        points=band.points,
        detail=f"order total {total}{converted} is over {rules.value_threshold(band)}",
    )


def _billing_country(
    order: Order, ctx: BuyerContext, rules: RiskRules, fx: FxTable
) -> RiskReason | None:
    shipping = order.ship_to.country
    if ctx.billing_country is None or ctx.billing_country == shipping:
        return None
    return RiskReason(
        rule=RiskRule.BILLING_COUNTRY_MISMATCH,
        points=rules.billing_country_mismatch.points,
        detail=f"billing country {ctx.billing_country} differs from ship_to.country {shipping}",
    )


def _destination(
    order: Order, ctx: BuyerContext, rules: RiskRules, fx: FxTable
) -> RiskReason | None:
    country = order.ship_to.country
    if country not in rules.high_risk_destination.countries:
        return None
    return RiskReason(
        rule=RiskRule.HIGH_RISK_DESTINATION,
        points=rules.high_risk_destination.points,
        detail=f"ship_to.country {country} is on the high-risk destination list",
    )


def _denied_party(
    order: Order, ctx: BuyerContext, rules: RiskRules, fx: FxTable
) -> RiskReason | None:
    if ctx.screening is None or not ctx.screening.matches:
        return None
    best = max(ctx.screening.matches, key=lambda match: match.score)
    return RiskReason(
        rule=RiskRule.DENIED_PARTY_MATCH,
        points=rules.denied_party_match.points,
        detail=(
            f"{len(ctx.screening.matches)} denied-party match(es); closest: {best.field} "
            f"~ {best.entry_id} ({best.kind.value}, {best.score:.2f})"
        ),
    )


def _restricted(
    order: Order, ctx: BuyerContext, rules: RiskRules, fx: FxTable
) -> RiskReason | None:
    if not ctx.restricted:
        return None
    hits = "; ".join(
        f"items[{hit.item_index}] {hit.category} ({hit.level.value})" for hit in ctx.restricted
    )
    return RiskReason(
        rule=RiskRule.RESTRICTED_GOODS,
        points=rules.restricted_goods.points,
        detail=f"restricted goods for {order.ship_to.country}: {hits}",
    )


def _first_time(
    order: Order, ctx: BuyerContext, rules: RiskRules, fx: FxTable
) -> RiskReason | None:
    if not ctx.first_time_buyer:
        return None
    return RiskReason(
        rule=RiskRule.FIRST_TIME_BUYER,
        points=rules.first_time_buyer.points,
        detail="the buyer's first order",
    )


def _velocity(order: Order, ctx: BuyerContext, rules: RiskRules, fx: FxTable) -> RiskReason | None:
    reached = [b for b in rules.velocity.bands if ctx.orders_last_24h >= b.at_least]
    if not reached:
        return None
    band = max(reached, key=lambda b: b.at_least)
    return RiskReason(
        rule=RiskRule.VELOCITY,
        points=band.points,
        detail=(
            f"{ctx.orders_last_24h} other orders from the buyer in the last "
            f"{rules.velocity.window_hours} h (at least {band.at_least})"
        ),
    )


_RULES: tuple[Rule, ...] = (
    _order_value,
    _billing_country,
    _destination,
    _denied_party,
    _restricted,
    _first_time,
    _velocity,
)


def assess_risk(
    order: Order,
    context: BuyerContext | None = None,
    *,
    rules: RiskRules = RISK_RULES,
    fx: FxTable = FX,
) -> RiskAssessment:
    """Score `order` with every risk rule.

    Args:
        order: the order.
        context: buyer history, billing country and the other checks' results; the
            defaults add no points.
        rules: the rules (the shipped table unless a test brings its own).
        fx: the FX table used to value orders in other currencies.

    Returns:
        The score (capped at 100), the reason of every rule that fired, and whether the
        score is at or above the review threshold.
    """
    ctx = context or BuyerContext()
    reasons = [reason for rule in _RULES if (reason := rule(order, ctx, rules, fx)) is not None]
    score = min(100, sum(reason.points for reason in reasons))
    return RiskAssessment(
        score=score,
        reasons=reasons,
        needs_review=score >= rules.review_at,
        review_at=rules.review_at,
    )
