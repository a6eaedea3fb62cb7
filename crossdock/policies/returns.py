"""Return eligibility and refund amounts, from the policy table (`returns_policy.json`).

Pure and fast, so the return workflow runs it in workflow code (no activity, no history
events): is the return inside its window, are its items returnable, who pays the return
label, may it be approved without an operator, does its refund need finance, and how
much is refunded once the goods are inspected. Money is integer minor units throughout;
refunds round down and fees up, so a refund is never a minor unit more than policy allows.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from crossdock.models.order import Order
from crossdock.models.returns import (
    InspectedLine,
    InspectionVerdict,
    ReturnReason,
    ReturnRequest,
)
from crossdock.money import Money, total
from crossdock.policies._data import load_table

__all__ = [
    "RETURNS_POLICY",
    "Eligibility",
    "ReasonRule",
    "RefundBreakdown",
    "ReturnsPolicy",
    "assess",
    "inspected_refund",
]


class ReasonRule(BaseModel):
    model_config = ConfigDict(frozen=True)

    defect: bool
    ship_back: bool
    return_shipping_paid_by: Literal["seller", "buyer"]
    restocking_fee_percent: int = Field(ge=0, le=100)
    always_review: bool = False


class ReturnsPolicy(BaseModel):
    """The table, checked when loaded: a typo in the JSON fails at import, not mid-return."""

    model_config = ConfigDict(frozen=True)

    marketplace_days: dict[str, int]
    defect_days: int
    legal_minimum_days: dict[str, int]
    legal_defect_days_eu: int
    eu_countries: frozenset[str]
    reasons: dict[ReturnReason, ReasonRule]
    withdrawal_restocking_fee_percent: int
    non_returnable_hs_chapters: frozenset[str]
    auto_approve_up_to: dict[str, str]
    finance_threshold: dict[str, str]
    returnless_up_to: dict[str, str]
    damaged_by_buyer_refund_percent: int = Field(ge=0, le=100)
    refund_collected_taxes: bool

    @classmethod
    def from_table(cls, table: Mapping[str, Any]) -> ReturnsPolicy:
        legal = table["legal_minimum_days"]
        return cls(
            marketplace_days=table["window_days"]["marketplace"],
            defect_days=table["window_days"]["defect"],
            legal_minimum_days=legal["countries"],
            legal_defect_days_eu=legal["defect_days"]["EU"],
            eu_countries=frozenset(table["eu_countries"]),
            reasons=table["reasons"],
            withdrawal_restocking_fee_percent=table["withdrawal_restocking_fee_percent"],
            non_returnable_hs_chapters=frozenset(table["non_returnable"]["hs_chapters"]),
            auto_approve_up_to=table["auto_approve_up_to"],
            finance_threshold=table["finance_threshold"],
            returnless_up_to=table["returnless_up_to"],
            damaged_by_buyer_refund_percent=table["damaged_by_buyer_refund_percent"],
            refund_collected_taxes=table["refund_collected_taxes"],
        )

    def amount(self, table: dict[str, str], currency: str) -> Money | None:
        value = table.get(currency)
        return Money.parse(value, currency) if value is not None else None

    def window(self, order: Order, reason: ReturnReason) -> timedelta:
        """The longest of the marketplace's window and the destination's legal minimum."""
        country = order.ship_to.country
        days = max(
            self.marketplace_days.get(order.channel.value, 0),
            self.legal_minimum_days.get(country, 0),
        )
        if self.reasons[reason].defect:
            legal = self.legal_defect_days_eu if country in self.eu_countries else 0
            days = max(days, self.defect_days, legal)
        return timedelta(days=days)

    def withdrawal(self, order: Order, reason: ReturnReason) -> bool:
        """A change of mind where the law gives the buyer a right to withdraw."""
        return not self.reasons[reason].defect and order.ship_to.country in self.legal_minimum_days

    def restocking_percent(self, order: Order, reason: ReturnReason) -> int:
        if self.withdrawal(order, reason):
            return self.withdrawal_restocking_fee_percent
        return self.reasons[reason].restocking_fee_percent


RETURNS_POLICY = ReturnsPolicy.from_table(load_table("returns_policy.json"))


class Eligibility(BaseModel):
    """What the policy says about a return request, with every reason spelled out."""

    eligible: bool
    # Why not eligible, or what an operator must look at; empty when nothing.
    problems: list[str] = Field(default_factory=list)
    # Lines that do not match the order: nothing to decide, the request is wrong.
    invalid: bool = False
    window_ends: datetime | None = None
    ship_back: bool = True
    return_shipping_paid_by: str = "seller"
    restocking_fee_percent: int = 0
    estimate: Money
    auto_approve: bool = False
    needs_finance: bool = False
    finance_threshold: Money | None = None
    suggest_returnless: bool = False


def assess(
    order: Order,
    request: ReturnRequest,
    *,
    delivered_at: datetime | None,
    paid: Money,
    now: datetime,
    policy: ReturnsPolicy = RETURNS_POLICY,
) -> Eligibility:
    """Eligibility of `request` on `order`, as of `now`.

    Args:
        order: The order as sold.
        request: The return asked for.
        delivered_at: When the parcel was delivered; None while it has not been (the
            window has not started, e.g. a cancellation that reached us after shipment).
        paid: What the buyer paid that we hold (taxes collected at sale included).
        now: Workflow time.
        policy: The table (tests pass their own).
    """
    rule = policy.reasons[request.reason]
    invalid = _line_problems(order, request)
    window_ends = (
        delivered_at + policy.window(order, request.reason) if delivered_at is not None else None
    )
    problems = [*invalid, *_late(order, request, window_ends, now, policy)]
    if not rule.defect:
        problems += _not_returnable(order, request, policy)
    estimate = (
        Money.zero(order.currency)
        if invalid
        else refund_amount(order, request, _full(request), paid, policy)
    )
    finance = policy.amount(policy.finance_threshold, order.currency)
    return Eligibility(
        eligible=not problems,
        problems=problems,
        invalid=bool(invalid),
        window_ends=window_ends,
        ship_back=rule.ship_back,
        return_shipping_paid_by=rule.return_shipping_paid_by,
        restocking_fee_percent=policy.restocking_percent(order, request.reason),
        estimate=estimate,
        auto_approve=not problems and _auto_approvable(rule, estimate, policy),
        # A currency without a threshold always needs finance: never guess a conversion.
        needs_finance=finance is None or estimate.amount >= finance.amount,
        finance_threshold=finance,
        suggest_returnless=_returnless(order, request, rule, policy),
    )


def _auto_approvable(rule: ReasonRule, estimate: Money, policy: ReturnsPolicy) -> bool:
    """The reason needs no review and the refund is within the auto-approval limit."""
    auto = policy.amount(policy.auto_approve_up_to, estimate.currency)
    return not rule.always_review and auto is not None and estimate.amount <= auto.amount


def _returnless(
    order: Order, request: ReturnRequest, rule: ReasonRule, policy: ReturnsPolicy
) -> bool:
    """No ship-back for the reason, or defective goods worth less than the return trip."""
    cheap = policy.amount(policy.returnless_up_to, order.currency)
    goods = _goods(order, request, _full(request))
    return not rule.ship_back or (
        rule.defect and cheap is not None and goods.amount <= cheap.amount
    )


def _late(
    order: Order,
    request: ReturnRequest,
    window_ends: datetime | None,
    now: datetime,
    policy: ReturnsPolicy,
) -> list[str]:
    """The problem of a request past its window; none before delivery (no window yet)."""
    if window_ends is None or now <= window_ends:
        return []
    return [
        f"the {request.reason} window ended {window_ends.isoformat(timespec='minutes')} "
        f"({policy.window(order, request.reason).days} days from delivery)"
    ]


class RefundBreakdown(BaseModel):
    amount: Money
    written_off: list[str] = Field(default_factory=list)
    escalated: list[str] = Field(default_factory=list)


def inspected_refund(
    order: Order,
    request: ReturnRequest,
    inspected: list[InspectedLine],
    paid: Money,
    policy: ReturnsPolicy = RETURNS_POLICY,
) -> RefundBreakdown:
    """The refund the inspection supports: accepted lines in full (less any restocking
    fee), partial ones at their percent, damaged ones written off (refunded in full when
    the buyer reported a defect, else at the damaged-by-buyer percent), wrong items
    nothing until an operator decides."""
    defect = policy.reasons[request.reason].defect
    percents: dict[str, int] = {}
    written_off: list[str] = []
    escalated: list[str] = []
    for line in inspected:
        if line.verdict is InspectionVerdict.ACCEPTED:
            percents[line.sku] = 100
        elif line.verdict is InspectionVerdict.PARTIAL:
            percents[line.sku] = line.refund_percent or 0
        elif line.verdict is InspectionVerdict.DAMAGED:
            written_off.append(line.sku)
            percents[line.sku] = 100 if defect else policy.damaged_by_buyer_refund_percent
        else:
            escalated.append(line.sku)
            percents[line.sku] = 0
    amount = refund_amount(order, request, percents, paid, policy)
    return RefundBreakdown(amount=amount, written_off=written_off, escalated=escalated)


def inspection_problems(request: ReturnRequest, inspected: list[InspectedLine]) -> list[str]:
    """Why an inspection does not fit the return: every returned sku, once each."""
    asked = {line.sku for line in request.lines}
    seen = [line.sku for line in inspected]
    problems = [
        f"lines name {sku!r}, which is not in this return" for sku in seen if sku not in asked
    ]
    problems += [
        f"line {sku!r} was returned but has no verdict" for sku in sorted(asked - set(seen))
    ]
    if len(set(seen)) != len(seen):
        problems.append(f"lines name a sku twice: {seen}")
    return problems


def refund_amount(
    order: Order,
    request: ReturnRequest,
    percents: Mapping[str, int],
    paid: Money,
    policy: ReturnsPolicy = RETURNS_POLICY,
) -> Money:
    """Goods refunded at `percents` (sku → 0..100), less the restocking fee on lines
    refunded in full, plus the outbound shipping when the whole order comes back for a
    defect or a legal withdrawal, plus the taxes collected at sale in proportion."""
    goods = _goods(order, request, percents)
    full_lines = {sku for sku, pct in percents.items() if pct == 100}
    restock_base = _goods(order, request, {sku: 100 for sku in full_lines})
    # The fee rounds up (the refund down), so returning an order in parts never
    # refunds more than returning it whole (the property test found 0.28 vs 0.27).
    fee = -(-restock_base.amount * policy.restocking_percent(order, request.reason) // 100)
    amount = goods.amount - fee
    rule = policy.reasons[request.reason]
    whole = _whole_order(order, request) and all(pct == 100 for pct in percents.values())
    if whole and (rule.defect or policy.withdrawal(order, request.reason)):
        amount += order.shipping.amount
    taxes = paid.amount - order.order_total.amount
    items = order.items_total.amount
    if policy.refund_collected_taxes and taxes > 0 and items > 0:
        amount += taxes * goods.amount // items
    return Money(amount=max(amount, 0), currency=order.currency)


def _full(request: ReturnRequest) -> dict[str, int]:
    return {line.sku: 100 for line in request.lines}


def _goods(order: Order, request: ReturnRequest, percents: Mapping[str, int]) -> Money:
    prices = {item.sku: item.unit_price for item in order.items}
    parts = [
        Money(
            amount=prices[line.sku].amount * line.quantity * percents.get(line.sku, 0) // 100,
            currency=order.currency,
        )
        for line in request.lines
        if line.sku in prices
    ]
    return total(parts, order.currency)


def _whole_order(order: Order, request: ReturnRequest) -> bool:
    returned = {line.sku: line.quantity for line in request.lines}
    return all(returned.get(item.sku) == item.quantity for item in order.items)


def _line_problems(order: Order, request: ReturnRequest) -> list[str]:
    sold = {item.sku: item.quantity for item in order.items}
    problems = []
    for index, line in enumerate(request.lines):
        if line.sku not in sold:
            problems.append(
                f"lines[{index}].sku {line.sku!r} is not in order {order.channel_order_id} "
                f"(its skus: {', '.join(sorted(sold))})"
            )
        elif line.quantity > sold[line.sku]:
            problems.append(
                f"lines[{index}].quantity {line.quantity} is more than the {sold[line.sku]} sold"
            )
    return problems


def _not_returnable(order: Order, request: ReturnRequest, policy: ReturnsPolicy) -> list[str]:
    returned = {line.sku for line in request.lines}
    return [
        f"{item.sku} (HS chapter {item.hs_code[:2]}) is not returnable for {request.reason}"
        for item in order.items
        if item.sku in returned and item.hs_code[:2] in policy.non_returnable_hs_chapters
    ]
