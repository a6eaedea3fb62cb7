"""Operations KPIs over the read model for one period (docs/readmodel.md defines each).

Periods are half-open, [start, end): an order placed exactly at `end` belongs to the next
period. Money is summed per currency in minor units and, beside it, converted into one
reporting currency with the recorded reference rates (`crossdock.fx`), the rate shown.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import select

from crossdock.fx import FxTable, default_fx
from crossdock.money import Money
from crossdock.readmodel.rows import utc
from crossdock.readmodel.tables import (
    RmCase,
    RmDecision,
    RmDispute,
    RmOrder,
    RmOrderLine,
    RmRefund,
    RmReturn,
)
from crossdock.store import Database

DECIDED = ("won", "lost", "accepted")
# The channel a dispute provider's disputes are about.
PROVIDER_CHANNEL = {"stripe": "storefront", "amazon": "amazon", "ebay": "ebay", "ebay-case": "ebay"}


@dataclass(frozen=True)
class Period:
    start: datetime
    end: datetime

    def holds(self, at: datetime | None) -> bool:
        return at is not None and self.start <= utc(at) < self.end


def percentile(values: list[float], p: float) -> float | None:
    """Nearest-rank percentile (the smallest value with at least p% at or below it)."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[rank - 1]


def ratio(part: int, whole: int) -> float | None:
    return None if whole == 0 else part / whole


def _average(total: int, count: int) -> int:
    """Average in minor units, rounded half up."""
    return int((Decimal(total) / count).quantize(Decimal(1), ROUND_HALF_UP)) if count else 0


@dataclass
class SalesRow:
    channel: str
    country: str
    currency: str
    orders: int
    revenue_minor: int
    aov_minor: int
    converted_minor: int
    rate: Decimal | None


@dataclass
class Kpis:
    period: Period
    reporting_currency: str
    sales: list[SalesRow] = field(default_factory=list)
    cancelled_by_buyer: int = 0
    cancelled_by_seller: int = 0
    hours_to_ship: dict[str, float | None] = field(default_factory=dict)
    hours_to_deliver: dict[str, float | None] = field(default_factory=dict)
    refund_rate: float | None = None
    refunds_by_reason: dict[tuple[str, str], int] = field(default_factory=dict)
    refunds_by_sku: dict[tuple[str, str], int] = field(default_factory=dict)
    return_rate_by_sku: dict[str, float] = field(default_factory=dict)
    dispute_rate: float | None = None
    win_rate_by_reason: dict[str, float | None] = field(default_factory=dict)
    duties_by_destination: dict[tuple[str, str, str], int] = field(default_factory=dict)
    approvals_waiting: int = 0
    oldest_approval_hours: float | None = None
    customs_holds_open: int = 0
    customs_hold_hours: dict[str, float | None] = field(default_factory=dict)
    first_response_minutes: dict[str, float | None] = field(default_factory=dict)


def _spread(values: list[float]) -> dict[str, float | None]:
    return {"p50": percentile(values, 50), "p90": percentile(values, 90), "count": len(values)}


def _approvals(kpis: Kpis, pending: list[RmDecision], now: datetime) -> None:
    ages = [(utc(now) - utc(d.opened_at)).total_seconds() / 3600 for d in pending]
    kpis.approvals_waiting = len(ages)
    kpis.oldest_approval_hours = max(ages) if ages else None


def _customs_holds(kpis: Kpis, held: list[RmOrder], channel: str) -> None:
    in_scope = [o for o in held if not channel or o.channel == channel]
    kpis.customs_holds_open = sum(1 for o in in_scope if o.customs_hold_since is not None)
    kpis.customs_hold_hours = _spread([o.customs_hold_seconds / 3600 for o in in_scope])


def _first_responses(kpis: Kpis, cases: list[RmCase], period: Period, channel: str) -> None:
    answered = [
        c.first_response_seconds / 60
        for c in cases
        if period.holds(c.opened_at)
        and c.first_response_seconds is not None
        and (not channel or c.channel == channel)
    ]
    kpis.first_response_minutes = _spread(answered)


class KpiReader:
    """The KPIs of a period, from rm_* tables."""

    def __init__(self, db: Database, fx: FxTable | None = None) -> None:
        self.db = db
        self.fx = fx or default_fx()

    def compute(
        self, period: Period, now: datetime, *, channel: str = "", reporting_currency: str = "EUR"
    ) -> Kpis:
        with self.db.session() as session:
            query = select(RmOrder).where(
                RmOrder.placed_at >= period.start, RmOrder.placed_at < period.end
            )
            if channel:
                query = query.where(RmOrder.channel == channel)
            orders = list(session.scalars(query))
            ids = [o.workflow_id for o in orders]
            lines = list(
                session.scalars(select(RmOrderLine).where(RmOrderLine.workflow_id.in_(ids)))
            )
            returns = list(session.scalars(select(RmReturn)))
            refunds = list(session.scalars(select(RmRefund).where(RmRefund.state == "succeeded")))
            disputes = list(session.scalars(select(RmDispute)))
            pending = list(
                session.scalars(
                    select(RmDecision).where(
                        RmDecision.decision == 0, RmDecision.state == "pending"
                    )
                )
            )
            cases = list(session.scalars(select(RmCase)))
            held = list(session.scalars(select(RmOrder).where(RmOrder.customs_hold_seconds > 0)))
        kpis = Kpis(period=period, reporting_currency=reporting_currency)
        self._sales(kpis, orders)
        _fulfilment(kpis, orders)
        known = {o.workflow_id for o in orders}
        _refunds(kpis, orders, [r for r in refunds if r.order_workflow_id in known])
        _returns(kpis, lines, [r for r in returns if r.order_workflow_id in known])
        opened = [
            d
            for d in disputes
            if period.holds(d.opened_at)
            and (not channel or PROVIDER_CHANNEL.get(d.provider) == channel)
        ]
        _disputes(kpis, orders, opened)
        _duties(kpis, orders)
        _approvals(kpis, pending, now)
        _customs_holds(kpis, held, channel)
        _first_responses(kpis, cases, period, channel)
        return kpis

    def _sales(self, kpis: Kpis, orders: list[RmOrder]) -> None:
        groups: dict[tuple[str, str, str], list[int]] = defaultdict(list)
        for o in orders:
            if o.cancelled_at is None:
                groups[(o.channel, o.destination, o.currency)].append(o.total_minor)
            elif o.cancelled_by == "buyer":
                kpis.cancelled_by_buyer += 1
            else:
                kpis.cancelled_by_seller += 1
        for (channel, country, currency), totals in sorted(groups.items()):
            revenue = sum(totals)
            converted, rate = self.fx.convert(
                Money(amount=revenue, currency=currency), kpis.reporting_currency
            )
            kpis.sales.append(
                SalesRow(
                    channel=channel,
                    country=country,
                    currency=currency,
                    orders=len(totals),
                    revenue_minor=revenue,
                    aov_minor=_average(revenue, len(totals)),
                    converted_minor=converted.amount,
                    rate=rate.rate if rate else None,
                )
            )


def _fulfilment(kpis: Kpis, orders: list[RmOrder]) -> None:
    to_ship = [
        (utc(o.shipped_at) - utc(o.placed_at)).total_seconds() / 3600
        for o in orders
        if o.shipped_at
    ]
    to_deliver = [
        (utc(o.delivered_at) - utc(o.shipped_at)).total_seconds() / 3600
        for o in orders
        if o.shipped_at and o.delivered_at
    ]
    kpis.hours_to_ship = _spread(to_ship)
    kpis.hours_to_deliver = _spread(to_deliver)


def _refunds(kpis: Kpis, orders: list[RmOrder], refunds: list[RmRefund]) -> None:
    kpis.refund_rate = ratio(sum(1 for o in orders if o.refunded_minor > 0), len(orders))
    by_reason: dict[tuple[str, str], int] = defaultdict(int)
    by_sku: dict[tuple[str, str], int] = defaultdict(int)
    for refund in refunds:
        by_reason[(refund.reason, refund.currency)] += refund.amount_minor
        skus = [s for s in refund.skus.split(",") if s]
        for sku in skus:
            # A refund over several SKUs is credited to each in equal shares.
            by_sku[(sku, refund.currency)] += refund.amount_minor // len(skus)
    kpis.refunds_by_reason = dict(by_reason)
    kpis.refunds_by_sku = dict(by_sku)


def _returns(kpis: Kpis, lines: list[RmOrderLine], returns: list[RmReturn]) -> None:
    sold: dict[str, set[str]] = defaultdict(set)
    for line in lines:
        sold[line.sku].add(line.workflow_id)
    returned: dict[str, set[str]] = defaultdict(set)
    for r in returns:
        for sku in r.skus.split(","):
            returned[sku].add(r.order_workflow_id)
    kpis.return_rate_by_sku = {
        sku: len(returned[sku] & orders) / len(orders) for sku, orders in sorted(sold.items())
    }


def _disputes(kpis: Kpis, orders: list[RmOrder], disputes: list[RmDispute]) -> None:
    kpis.dispute_rate = ratio(len(disputes), len(orders))
    decided: dict[str, list[bool]] = defaultdict(list)
    for d in disputes:
        if d.state in DECIDED:
            decided[d.reason].append(d.state == "won")
    kpis.win_rate_by_reason = {
        reason: ratio(sum(won), len(won)) for reason, won in sorted(decided.items())
    }


def _duties(kpis: Kpis, orders: list[RmOrder]) -> None:
    paid: dict[tuple[str, str, str], int] = defaultdict(int)
    for o in orders:
        if o.cancelled_at is None and (o.duties_minor or o.taxes_minor):
            paid[(o.destination, o.incoterm, o.currency)] += o.duties_minor + o.taxes_minor
    kpis.duties_by_destination = dict(paid)
