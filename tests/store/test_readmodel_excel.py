"""The Excel workbook of the seeded read model, saved and opened again, cell by cell."""

from __future__ import annotations

import io
from datetime import datetime

import pytest
from openpyxl import load_workbook

from crossdock.readmodel.excel import workbook_bytes
from crossdock.readmodel.kpis import Period
from crossdock.readmodel.reads import ReadModel
from crossdock.store import Database
from tests.store.readmodel_seed import END, SECRET, START, seed


def test_the_workbook_reopens_with_numbers_formats_filters_and_a_chart(db: Database) -> None:
    seed(db)
    data = workbook_bytes(ReadModel.over(db, SECRET), Period(START, END), END)
    book = load_workbook(io.BytesIO(data))
    assert book.sheetnames == ["Orders (UTC)", "Returns", "Disputes", "KPIs", "Revenue chart"]

    orders = book["Orders (UTC)"]
    assert orders.freeze_panes == "A2"
    assert orders.auto_filter.ref == "A1:N7"  # a header and the six orders of the period
    assert [c.value for c in orders[1]][:4] == ["Workflow", "Channel", "Order", "State"]
    by_id = {row[0].value: row for row in orders.iter_rows(min_row=2)}
    assert list(by_id) == [
        "order-amazon-A1",
        "order-ebay-E1",
        "order-amazon-A2",
        "order-amazon-A3",
        "order-amazon-A4",
        "order-storefront-S1",
    ]
    a1_total, a1_refunded, a1_duties = by_id["order-amazon-A1"][11:14]
    assert (a1_total.value, a1_total.number_format) == (100.0, '#,##0.00 "EUR"')
    assert (a1_refunded.value, a1_duties.value) == (0.0, 19.0)
    s1_total = by_id["order-storefront-S1"][11]
    assert (s1_total.value, s1_total.number_format) == (4500.0, '#,##0 "JPY"')
    a2 = by_id["order-amazon-A2"]
    assert a2[12].value == 20.0  # refunded in part
    assert a2[4].value == datetime(2026, 11, 10, 12, 0)  # UTC wall time

    returns = book["Returns"]
    assert [c.value for c in returns[2]] == [
        "return-amazon-R1", "order-amazon-A2", "damaged", "refunded",
        returns["E2"].value, "SKU-TEE", "EUR", 20.0,
    ]  # fmt: skip
    assert returns["H2"].number_format == '#,##0.00 "EUR"'
    disputes = book["Disputes"]
    assert disputes.max_row == 5  # four opened in November, not October's
    assert disputes.freeze_panes == "A2"

    kpis = book["KPIs"]
    sales = {(r[0].value, r[1].value, r[2].value): r for r in kpis.iter_rows(min_row=2, max_row=4)}
    amazon = sales[("amazon", "DE", "EUR")]
    assert [c.value for c in amazon[3:6]] == [2, 150.0, 75.0]
    assert sales[("storefront", "JP", "JPY")][4].number_format == '#,##0 "JPY"'
    labels = {kpis.cell(row=r, column=1).value: kpis.cell(row=r, column=2) for r in range(6, 18)}
    assert labels["Refund rate"].value == pytest.approx(1 / 6)
    assert labels["Refund rate"].number_format == "0.00%"
    assert labels["Cancelled by buyer"].value == 1
    charts = [(c.title, len(c._charts)) for c in book.chartsheets]  # type: ignore[attr-defined]
    assert charts == [("Revenue chart", 1)]
