"""Orders as the API and CSV show them: money as a decimal string beside its code
(docs/readmodel.md)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from decimal import Decimal
from typing import Any

from crossdock.money import exponent
from crossdock.readmodel.rows import utc
from crossdock.readmodel.tables import RmOrder

CSV_COLUMNS = (
    "workflow_id",
    "channel",
    "channel_order_id",
    "state",
    "currency",
    "total",
    "items",
    "destination",
    "placed_at",
    "ship_by",
    "deliver_by",
    "shipped_at",
    "delivered_at",
    "needs_attention",
)


def order_record(row: RmOrder) -> dict[str, Any]:
    """One order as the API and CSV show it (money as a decimal string beside its code)."""
    return {
        "workflow_id": row.workflow_id,
        "channel": row.channel,
        "channel_order_id": row.channel_order_id,
        "state": row.state,
        "currency": row.currency,
        "total": decimal_text(row.total_minor, row.currency),
        "total_minor": row.total_minor,
        "items": row.items,
        "destination": row.destination,
        "placed_at": utc(row.placed_at).isoformat(),
        "ship_by": utc(row.ship_by).isoformat(),
        "deliver_by": utc(row.deliver_by).isoformat(),
        "shipped_at": utc(row.shipped_at).isoformat() if row.shipped_at else "",
        "delivered_at": utc(row.delivered_at).isoformat() if row.delivered_at else "",
        "needs_attention": row.needs_attention,
        "on_hold": row.on_hold,
        "cancelled_by": row.cancelled_by,
        "refunded": decimal_text(row.refunded_minor, row.currency),
    }


def decimal_text(minor: int, currency: str) -> str:
    exp = exponent(currency)
    return f"{Decimal(minor).scaleb(-exp):.{exp}f}"


def as_csv(rows: Iterable[RmOrder]) -> Iterator[str]:
    """The orders as CSV text, a header first, streamed a line at a time."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    for row in rows:
        record = order_record(row)
        writer.writerow([record[c] for c in CSV_COLUMNS])
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
    if buffer.getvalue():
        yield buffer.getvalue()
