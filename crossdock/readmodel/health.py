"""Marketplace account health as the marketplaces define it, computed from the read
model: definitions, windows, limits and sources kept as data (docs/readmodel.md).

Each figure is a rate over a trailing window ending now. `limit` is the marketplace's
own level (Amazon's target; eBay's Above Standard), `warn` the pre-breach level at
which the hourly health check puts an item in the inbox before the limit is reached.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import select

from crossdock.readmodel.rows import utc
from crossdock.readmodel.tables import RmDispute, RmOrder
from crossdock.store import Database


class Better(StrEnum):
    LOWER = "lower"
    HIGHER = "higher"


class Level(StrEnum):
    OK = "ok"
    WARNING = "warning"  # past the pre-breach level, not yet the limit
    BREACH = "breach"
    NO_DATA = "no_data"


@dataclass(frozen=True)
class Metric:
    key: str
    marketplace: str
    name: str
    window_days: int
    limit: float
    warn: float
    better: Better
    definition: str
    source: str
    # eBay's Top Rated level, where it differs from the limit.
    top_rated: float | None = None


AMAZON_HEALTH = "Amazon Seller Central, Account Health: customer service and shipping performance"
EBAY_STANDARDS = "eBay seller performance standards (Top Rated / Above Standard)"

METRICS: tuple[Metric, ...] = (
    Metric("amazon_odr", "amazon", "Order Defect Rate", 60, 0.01, 0.0075, Better.LOWER,
           "orders placed in the window with an A-to-z claim not decided for the seller "
           "(negative feedback is not imported) / orders placed in the window",
           AMAZON_HEALTH),
    Metric("amazon_lsr_10", "amazon", "Late Shipment Rate (10 days)", 10, 0.04, 0.03, Better.LOWER,
           "orders due to ship in the window whose ship confirmation came after the expected "
           "ship date (or has not come and the date passed) / orders due to ship", AMAZON_HEALTH),
    Metric("amazon_lsr_30", "amazon", "Late Shipment Rate (30 days)", 30, 0.04, 0.03, Better.LOWER,
           "as the 10-day rate, over 30 days", AMAZON_HEALTH),
    Metric("amazon_pfcr", "amazon", "Pre-fulfilment Cancel Rate", 7, 0.025, 0.02, Better.LOWER,
           "orders placed in the window cancelled by the seller before shipment (the buyer's "
           "own requests excluded) / orders placed in the window", AMAZON_HEALTH),
    Metric("amazon_vtr", "amazon", "Valid Tracking Rate", 30, 0.95, 0.96, Better.HIGHER,
           "shipments confirmed in the window whose tracking number the carrier scanned / "
           "shipments confirmed in the window", AMAZON_HEALTH),
    Metric("amazon_otdr", "amazon", "On-Time Delivery Rate", 14, 0.90, 0.92, Better.HIGHER,
           "shipments promised for delivery in the window delivered by the promised date / "
           "shipments promised for delivery in the window", AMAZON_HEALTH),
    Metric("ebay_defect", "ebay", "Transaction defect rate", 90, 0.02, 0.015, Better.LOWER,
           "orders placed in the window cancelled by the seller or with a case closed "
           "without seller resolution / orders placed in the window", EBAY_STANDARDS, 0.005),
    Metric("ebay_late", "ebay", "Late shipment rate", 90, 0.07, 0.05, Better.LOWER,
           "orders shipped in the window whose ship confirmation came after the handling "
           "time, or delivered after the estimated date / orders shipped in the window",
           EBAY_STANDARDS, 0.03),
    Metric("ebay_cases", "ebay", "Cases closed without seller resolution", 90, 0.003, 0.002,
           Better.LOWER, "eBay cases (INR, SNAD) opened in the window that eBay closed "
           "against the seller / orders placed in the window", EBAY_STANDARDS, 0.003),
)  # fmt: skip
BY_KEY = {m.key: m for m in METRICS}
LOST = frozenset({"lost", "accepted"})


@dataclass(frozen=True)
class Figure:
    metric: Metric
    destination: str
    numerator: int
    denominator: int

    @property
    def rate(self) -> float | None:
        return None if self.denominator == 0 else self.numerator / self.denominator

    @property
    def level(self) -> Level:
        rate = self.rate
        if rate is None:
            return Level.NO_DATA
        lower = self.metric.better is Better.LOWER
        if (rate >= self.metric.limit) if lower else (rate < self.metric.limit):
            return Level.BREACH
        if (rate >= self.metric.warn) if lower else (rate < self.metric.warn):
            return Level.WARNING
        return Level.OK


Counter = Callable[[list[RmOrder], list[RmDispute], datetime, datetime], tuple[int, int]]


def _in(at: datetime | None, start: datetime, end: datetime) -> bool:
    return at is not None and start <= utc(at) < end


def _odr(
    orders: list[RmOrder], claims: list[RmDispute], start: datetime, end: datetime
) -> tuple[int, int]:
    placed = [o for o in orders if _in(o.placed_at, start, end)]
    claimed = {d.order_workflow_id for d in claims if d.provider == "amazon" and d.state != "won"}
    return sum(1 for o in placed if o.workflow_id in claimed), len(placed)


def _lsr(
    orders: list[RmOrder], _: list[RmDispute], start: datetime, end: datetime
) -> tuple[int, int]:
    due = [
        o
        for o in orders
        if _in(o.ship_by, start, end) and not (o.cancelled_at and (o.shipped_at is None))
    ]
    late = [
        o
        for o in due
        if (o.shipped_at and utc(o.shipped_at) > utc(o.ship_by))
        or (o.shipped_at is None and utc(o.ship_by) < end)
    ]
    return len(late), len(due)


def _pfcr(
    orders: list[RmOrder], _: list[RmDispute], start: datetime, end: datetime
) -> tuple[int, int]:
    placed = [o for o in orders if _in(o.placed_at, start, end)]
    cancelled = [o for o in placed if o.cancelled_by == "seller" and o.shipped_at is None]
    return len(cancelled), len(placed)


def _vtr(
    orders: list[RmOrder], _: list[RmDispute], start: datetime, end: datetime
) -> tuple[int, int]:
    shipped = [o for o in orders if _in(o.shipped_at, start, end)]
    return sum(1 for o in shipped if o.valid_tracking), len(shipped)


def _otdr(
    orders: list[RmOrder], _: list[RmDispute], start: datetime, end: datetime
) -> tuple[int, int]:
    promised = [o for o in orders if o.shipped_at and _in(o.deliver_by, start, end)]
    on_time = [o for o in promised if o.delivered_at and utc(o.delivered_at) <= utc(o.deliver_by)]
    return len(on_time), len(promised)


def _closed_against(cases: list[RmDispute]) -> set[str]:
    return {d.order_workflow_id for d in cases if d.provider == "ebay-case" and d.state in LOST}


def _ebay_defect(
    orders: list[RmOrder], cases: list[RmDispute], start: datetime, end: datetime
) -> tuple[int, int]:
    placed = [o for o in orders if _in(o.placed_at, start, end)]
    against = _closed_against(cases)
    defects = [o for o in placed if o.cancelled_by == "seller" or o.workflow_id in against]
    return len(defects), len(placed)


def _ebay_late(
    orders: list[RmOrder], _: list[RmDispute], start: datetime, end: datetime
) -> tuple[int, int]:
    shipped = [o for o in orders if _in(o.shipped_at, start, end)]
    late = [
        o
        for o in shipped
        if (o.shipped_at and utc(o.shipped_at) > utc(o.ship_by))
        or (o.delivered_at and utc(o.delivered_at) > utc(o.deliver_by))
    ]
    return len(late), len(shipped)


def _ebay_cases(
    orders: list[RmOrder], cases: list[RmDispute], start: datetime, end: datetime
) -> tuple[int, int]:
    placed = [o for o in orders if _in(o.placed_at, start, end)]
    against = [
        d
        for d in cases
        if d.provider == "ebay-case" and d.state in LOST and _in(d.opened_at, start, end)
    ]
    return len(against), len(placed)


COUNTERS: dict[str, Counter] = {
    "amazon_odr": _odr,
    "amazon_lsr_10": _lsr,
    "amazon_lsr_30": _lsr,
    "amazon_pfcr": _pfcr,
    "amazon_vtr": _vtr,
    "amazon_otdr": _otdr,
    "ebay_defect": _ebay_defect,
    "ebay_late": _ebay_late,
    "ebay_cases": _ebay_cases,
}  # fmt: skip


class HealthReader:
    """Health figures from rm_orders and rm_disputes."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def figures(
        self, now: datetime, *, marketplace: str = "", by_destination: bool = False
    ) -> list[Figure]:
        """Every metric (of `marketplace`), overall or per destination country."""
        end = utc(now)
        metrics = [m for m in METRICS if not marketplace or m.marketplace == marketplace]
        longest = max((m.window_days for m in metrics), default=0)
        # Orders placed up to the longest window (and a margin for ship/deliver dates).
        since = end - timedelta(days=longest + 30)
        with self.db.session() as session:
            orders = list(session.scalars(select(RmOrder).where(RmOrder.placed_at >= since)))
            disputes = list(session.scalars(select(RmDispute)))
        found = []
        for metric in metrics:
            mine = [o for o in orders if o.channel == metric.marketplace]
            start = end - timedelta(days=metric.window_days)
            groups = {"": mine}
            if by_destination:
                groups = {}
                for o in mine:
                    groups.setdefault(o.destination, []).append(o)
            for destination, group in sorted(groups.items()):
                part, whole = COUNTERS[metric.key](group, disputes, start, end)
                found.append(Figure(metric, destination, part, whole))
        return found
