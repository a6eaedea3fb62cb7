"""How long the read model's reads take over a seeded data set: an order list page (the
first and one deep in by cursor), a buyer search, the dashboard's KPI and health figures,
and exports of every order of the period as CSV and as an Excel workbook.

    .venv/bin/python -m bench.readmodel_reads               # 10,000 orders on SQLite
    .venv/bin/python -m bench.readmodel_reads --orders 2000 --database-url postgresql://...

Seeds rm_* rows directly (no workflows), prints a table, writes
bench/results/readmodel_reads.json and returns the figures as a dict. Figures are for
this machine at this moment.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from crossdock.buyers import buyer_key
from crossdock.models.order import Buyer, Channel
from crossdock.readmodel.excel import workbook_bytes
from crossdock.readmodel.kpis import Period
from crossdock.readmodel.reads import ReadModel
from crossdock.readmodel.records import as_csv
from crossdock.readmodel.search import parse_filter
from crossdock.readmodel.tables import RmDispute, RmOrder, RmOrderLine, RmParcel
from crossdock.store import Base, Database, upgrade

RESULTS = Path(__file__).parent / "results" / "readmodel_reads.json"
SECRET = b"bench-read-model-secret-0123456789"
NOW = datetime(2026, 12, 1, tzinfo=UTC)
CHANNELS = ("amazon", "ebay", "storefront")
MARKETS = (("DE", "EUR"), ("FR", "EUR"), ("GB", "GBP"), ("US", "USD"), ("JP", "JPY"))
STATES = ("completed", "delivered", "in_transit", "cancelled", "payment_captured")


def _order(n: int, rng: random.Random) -> list[Base]:
    channel = CHANNELS[n % 3]
    country, currency = MARKETS[n % len(MARKETS)]
    placed = NOW - timedelta(minutes=rng.randrange(30 * 24 * 60))
    shipped = placed + timedelta(hours=rng.randrange(4, 72))
    state = STATES[n % len(STATES)]
    workflow_id = f"order-{channel}-B{n:06d}"
    buyer = buyer_key(
        SECRET, Channel(channel), Buyer(name="-", email=f"buyer-{n % 3000}@example.com")
    )
    head = RmOrder(
        workflow_id=workflow_id, seq=1, channel=channel, channel_order_id=f"B{n:06d}",
        buyer_key=buyer, state=state, currency=currency, total_minor=rng.randrange(500, 50000),
        shipping_minor=490, items=1 + n % 3, destination=country, incoterm="DAP",
        placed_at=placed, ship_by=placed + timedelta(days=2), deliver_by=placed + timedelta(days=8),
        shipped_at=None if state == "cancelled" else shipped,
        delivered_at=shipped + timedelta(days=3) if state in ("completed", "delivered") else None,
        cancelled_at=placed + timedelta(hours=1) if state == "cancelled" else None,
        cancelled_by=("buyer" if n % 2 else "seller") if state == "cancelled" else "",
        captured_minor=0, refunded_minor=0, duties_minor=0, taxes_minor=rng.randrange(0, 900),
        valid_tracking=n % 20 != 0, needs_attention=n % 50 == 0, on_hold=False,
        customs_hold_seconds=0.0, replacement_of="", updated_at=shipped,
    )  # fmt: skip
    line = RmOrderLine(
        workflow_id=workflow_id, line=0, sku=f"SKU-{n % 40:02d}", title="Item", quantity=1,
        unit_minor=head.total_minor, currency=currency,
    )  # fmt: skip
    parcel = RmParcel(
        workflow_id=workflow_id, package=1, carrier="USPS", tracking_code=f"EZ{n:010d}",
        tracking_status="delivered", outcome="", last_scan_at=shipped,
    )  # fmt: skip
    rows: list[Base] = [head, line, parcel]
    if n % 97 == 0:
        rows.append(_dispute(n, workflow_id, currency, shipped))
    return rows


def _dispute(n: int, workflow_id: str, currency: str, opened: datetime) -> RmDispute:
    """A won Stripe dispute on order `n` (about one order in a hundred has one)."""
    return RmDispute(
        workflow_id=f"dispute-stripe-B{n}",
        seq=1,
        provider="stripe",
        dispute_id=f"B{n}",
        order_workflow_id=workflow_id,
        reason="fraudulent",
        state="won",
        amount_minor=1000,
        currency=currency,
        opened_at=opened,
        decided_by="",
        rounds=1,
        updated_at=opened,
    )


def seed(db: Database, orders: int) -> float:
    """Write `orders` orders (with a line and a parcel each) in one go; seconds taken."""
    rng = random.Random(13)
    started = time.perf_counter()
    with db.session() as session:
        for n in range(orders):
            session.add_all(_order(n, rng))
    return time.perf_counter() - started


def _timed(work: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    """The fastest of `repeat` runs, in milliseconds, and the last answer."""
    best, answer = float("inf"), None
    for _ in range(repeat):
        started = time.perf_counter()
        answer = work()
        best = min(best, time.perf_counter() - started)
    return best * 1000, answer


def measure(db: Database, orders: int, repeat: int = 3) -> dict[str, Any]:
    reads = ReadModel.over(db, SECRET)
    period = Period(NOW - timedelta(days=30), NOW)
    first = parse_filter({"limit": "50"})
    ms: dict[str, float] = {}
    ms["list page (50, first)"], page = _timed(lambda: reads.search.page(first), repeat)
    deep = parse_filter({"limit": "50", "cursor": page.next_cursor})
    ms["list page (50, by cursor)"], _ = _timed(lambda: reads.search.page(deep), repeat)
    buyer = parse_filter({"buyer": "buyer-42@example.com"})
    ms["search by buyer"], _ = _timed(lambda: reads.search.page(buyer), repeat)
    tracking = parse_filter({"tracking": "EZ0000004242"})
    ms["search by tracking"], _ = _timed(lambda: reads.search.page(tracking), repeat)
    ms["KPIs (30 days)"], _ = _timed(lambda: reads.kpis.compute(period, NOW), repeat)
    ms["health figures"], _ = _timed(lambda: reads.health.figures(NOW), repeat)
    everything = parse_filter({"limit": "1"})
    ms[f"CSV export ({orders} orders)"], csv = _timed(
        lambda: "".join(as_csv(reads.search.every(everything))), 1
    )
    ms[f"Excel export ({orders} orders)"], book = _timed(
        lambda: workbook_bytes(reads, Period(NOW - timedelta(days=31), NOW), NOW), 1
    )
    return {
        "orders": orders,
        "backend": db.engine.dialect.name,
        "milliseconds": {k: round(v, 1) for k, v in ms.items()},
        "csv_bytes": len(csv),
        "xlsx_bytes": len(book),
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
        "load_average": os.getloadavg()[0],
    }


def run(orders: int = 10_000, database_url: str = "") -> dict[str, Any]:
    """Seed a fresh database (a temporary SQLite file unless `database_url`), time the
    reads, print the table, write the JSON; the figures."""
    with tempfile.TemporaryDirectory() as scratch:
        db = Database(database_url or f"sqlite:///{scratch}/bench.db")
        upgrade(db)
        seconds = seed(db, orders)
        figures = measure(db, orders)
        db.dispose()
    figures["seed_seconds"] = round(seconds, 2)
    table = Table(title=f"Read model reads over {orders} orders ({figures['backend']})")
    table.add_column("read")
    table.add_column("ms", justify="right")
    for name, value in figures["milliseconds"].items():
        table.add_row(name, f"{value:.1f}")
    Console().print(table)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(figures, indent=2) + "\n")
    print(f"written to {RESULTS}")
    return figures


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=10_000)
    parser.add_argument("--database-url", default="", help="PostgreSQL URL of an empty database")
    arguments = parser.parse_args()
    run(arguments.orders, arguments.database_url)
