"""The read model as an Excel workbook (openpyxl): orders, returns, disputes and the
period's KPIs, money as numbers in their currency's format, headers frozen, filters on,
and a chart sheet of revenue per channel."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable
from datetime import datetime
from decimal import Decimal
from typing import Any

from openpyxl import Workbook
from openpyxl.chart import BarChart, Reference
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet
from sqlalchemy import select

from crossdock.money import exponent
from crossdock.readmodel.kpis import Kpis, Period
from crossdock.readmodel.reads import ReadModel
from crossdock.readmodel.rows import utc
from crossdock.readmodel.search import OrderFilter
from crossdock.readmodel.tables import RmDispute, RmOrder, RmReturn

ORDER_HEADERS = (
    "Workflow", "Channel", "Order", "State", "Placed", "Ship by", "Shipped", "Delivered",
    "Destination", "Items", "Currency", "Total", "Refunded", "Duties and taxes",
)  # fmt: skip
RETURN_HEADERS = (
    "Workflow",
    "Order",
    "Reason",
    "State",
    "Requested",
    "SKUs",
    "Currency",
    "Refunded",
)
DISPUTE_HEADERS = (
    "Workflow",
    "Provider",
    "Order",
    "Reason",
    "State",
    "Opened",
    "Currency",
    "Amount",
)


def money_format(currency: str) -> str:
    """An Excel number format showing `currency`'s minor digits and its code."""
    digits = exponent(currency)
    return ("#,##0." + "0" * digits if digits else "#,##0") + f' "{currency}"'


def amount(minor: int, currency: str) -> float:
    """Minor units as the number Excel stores (exact for every amount we trade)."""
    return float(Decimal(minor).scaleb(-exponent(currency)))


def _naive(at: datetime | None) -> datetime | None:
    # Excel has no time zones: UTC wall time, said so in the header row's sheet title.
    return utc(at).replace(tzinfo=None) if at else None


def _sheet(book: Workbook, title: str, headers: Iterable[str]) -> Worksheet:
    sheet: Worksheet = book.create_sheet(title)
    sheet.append(list(headers))
    sheet.freeze_panes = "A2"
    return sheet


def _finish(sheet: Worksheet) -> None:
    sheet.auto_filter.ref = sheet.dimensions
    for index in range(1, sheet.max_column + 1):
        sheet.column_dimensions[get_column_letter(index)].width = 16


def _money_cell(sheet: Worksheet, row: int, col: int, minor: int, currency: str) -> None:
    cell = sheet.cell(row=row, column=col, value=amount(minor, currency))
    cell.number_format = money_format(currency)


def _orders(book: Workbook, orders: Iterable[RmOrder], tick: Callable[[], None]) -> None:
    sheet = _sheet(book, "Orders (UTC)", ORDER_HEADERS)
    for n, o in enumerate(orders, start=2):
        sheet.append([
            o.workflow_id, o.channel, o.channel_order_id, o.state, _naive(o.placed_at),
            _naive(o.ship_by), _naive(o.shipped_at), _naive(o.delivered_at), o.destination,
            o.items, o.currency,
        ])  # fmt: skip
        _money_cell(sheet, n, 12, o.total_minor, o.currency)
        _money_cell(sheet, n, 13, o.refunded_minor, o.currency)
        _money_cell(sheet, n, 14, o.duties_minor + o.taxes_minor, o.currency)
        tick()
    _finish(sheet)


def _returns(book: Workbook, returns: list[RmReturn]) -> None:
    sheet = _sheet(book, "Returns", RETURN_HEADERS)
    for n, r in enumerate(returns, start=2):
        sheet.append(
            [
                r.workflow_id,
                r.order_workflow_id,
                r.reason,
                r.state,
                _naive(r.requested_at),
                r.skus,
                r.currency,
            ]
        )
        if r.currency:
            _money_cell(sheet, n, 8, r.refunded_minor, r.currency)
    _finish(sheet)


def _disputes(book: Workbook, disputes: list[RmDispute]) -> None:
    sheet = _sheet(book, "Disputes", DISPUTE_HEADERS)
    for n, d in enumerate(disputes, start=2):
        sheet.append(
            [
                d.workflow_id,
                d.provider,
                d.order_workflow_id,
                d.reason,
                d.state,
                _naive(d.opened_at),
                d.currency,
            ]
        )
        _money_cell(sheet, n, 8, d.amount_minor, d.currency)
    _finish(sheet)


def _kpis(book: Workbook, k: Kpis) -> Worksheet:
    sheet = _sheet(
        book,
        "KPIs",
        (
            "Channel",
            "Country",
            "Currency",
            "Orders",
            "Revenue",
            "Average order",
            f"Revenue in {k.reporting_currency}",
        ),
    )
    for n, r in enumerate(k.sales, start=2):
        sheet.append([r.channel, r.country, r.currency, r.orders])
        _money_cell(sheet, n, 5, r.revenue_minor, r.currency)
        _money_cell(sheet, n, 6, r.aov_minor, r.currency)
        _money_cell(sheet, n, 7, r.converted_minor, k.reporting_currency)
    _finish(sheet)
    figures: list[tuple[str, Any]] = [
        ("Refund rate", k.refund_rate),
        ("Dispute rate", k.dispute_rate),
        ("Hours to ship, p50", k.hours_to_ship.get("p50")),
        ("Hours to ship, p90", k.hours_to_ship.get("p90")),
        ("Hours to deliver, p50", k.hours_to_deliver.get("p50")),
        ("Hours to deliver, p90", k.hours_to_deliver.get("p90")),
        ("Cancelled by buyer", k.cancelled_by_buyer),
        ("Cancelled by seller", k.cancelled_by_seller),
        ("Approvals waiting", k.approvals_waiting),
        ("Customs holds open", k.customs_holds_open),
        ("First response, p50 minutes", k.first_response_minutes.get("p50")),
    ]
    start = sheet.max_row + 2
    for offset, (label, value) in enumerate(figures):
        sheet.cell(row=start + offset, column=1, value=label)
        cell = sheet.cell(row=start + offset, column=2, value=value)
        if "rate" in label and value is not None:
            cell.number_format = "0.00%"
    return sheet


def _chart(book: Workbook, kpis_sheet: Worksheet, rows: int) -> None:
    chart = BarChart()
    chart.title = "Revenue per channel and country (reporting currency)"
    chart.y_axis.title = "Revenue"
    data = Reference(kpis_sheet, min_col=7, min_row=1, max_row=rows + 1)
    labels = Reference(kpis_sheet, min_col=1, max_col=2, min_row=2, max_row=rows + 1)
    chart.add_data(data, titles_from_data=True)
    chart.set_categories(labels)
    sheet = book.create_chartsheet("Revenue chart")
    sheet.add_chart(chart)


def build_workbook(
    reads: ReadModel,
    period: Period,
    now: datetime,
    channel: str = "",
    tick: Callable[[], None] = lambda: None,
) -> Workbook:
    """The workbook of `period` (orders placed in it; returns and disputes about them)."""
    book = Workbook()
    assert book.active is not None
    book.remove(book.active)
    f = OrderFilter(channel=channel, placed_from=period.start, placed_to=period.end, limit=1)
    f.descending = False
    _orders(book, reads.search.every(f), tick)
    with reads.search.db.session() as session:
        returns = list(
            session.scalars(
                select(RmReturn)
                .where(RmReturn.requested_at >= period.start, RmReturn.requested_at < period.end)
                .order_by(RmReturn.requested_at)
            )
        )
        disputes = list(
            session.scalars(
                select(RmDispute)
                .where(RmDispute.opened_at >= period.start, RmDispute.opened_at < period.end)
                .order_by(RmDispute.opened_at)
            )
        )
    _returns(book, [r for r in returns if not channel or r.channel == channel])
    _disputes(book, disputes)
    kpis = reads.kpis.compute(period, now, channel=channel)
    sheet = _kpis(book, kpis)
    _chart(book, sheet, len(kpis.sales))
    return book


def workbook_bytes(reads: ReadModel, period: Period, now: datetime, channel: str = "") -> bytes:
    buffer = io.BytesIO()
    build_workbook(reads, period, now, channel).save(buffer)
    return buffer.getvalue()
