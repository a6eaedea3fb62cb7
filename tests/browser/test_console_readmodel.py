"""The read model on the whole stack: an order placed in the sandbox is projected by its
own workflow (the real worker) and found by the console's search by each key; the API
refuses unknown filters naming them and answers CSV, KPIs, health and the workbook; the
dashboard's SVG charts drill down to the orders behind them in a real browser.

`CROSSDOCK_DASHBOARD_SCREENSHOT=docs/dashboard.png` also saves the dashboard."""

from __future__ import annotations

import asyncio
import csv
import io
import os
import re
from datetime import UTC, datetime
from typing import Any

import httpx
from openpyxl import load_workbook
from playwright.async_api import Page, expect

from crossdock.models.order import Order
from crossdock.readmodel.health import METRICS
from crossdock.readmodel.tables import HealthAlert
from crossdock.store import Database
from tests.browser.conftest import Console, delivered_order
from tests.browser.test_console_cli import crossdock
from tests.browser.test_console_pages import browser, log_in, page

__all__ = ["browser", "page"]


async def found(api: httpx.AsyncClient, seconds: float = 30, **params: str) -> list[dict[str, Any]]:
    """The orders the search finds, once the projection has caught up."""
    rows: list[dict[str, Any]] = []
    for _ in range(int(seconds / 0.25)):
        answer = await api.get("/api/search/orders", params=params)
        assert answer.status_code == 200, answer.text
        rows = answer.json()["orders"]
        if rows:
            return rows
        await asyncio.sleep(0.25)
    return rows


async def _delivered(console: Console) -> Order:
    order = await delivered_order(console)
    async with console.api("view-1") as api:
        await found(api, channel_order_id=order.channel_order_id, state="delivered")
    return order


async def test_an_order_is_found_by_each_key(console: Console) -> None:
    order = await _delivered(console)
    async with console.api("view-1") as api:
        by_id = await found(api, channel_order_id=order.channel_order_id)
        assert [r["workflow_id"] for r in by_id] == [order.workflow_id]
        row = by_id[0]
        assert (row["currency"], row["total_minor"]) == (order.currency, order.order_total.amount)
        assert row["destination"] == order.ship_to.country
        detail = (await api.get(f"/api/cases/{order.workflow_id}")).json()
        code = detail["order"]["parcels"][0]["tracking_code"]
        by_code = await found(api, tracking=code)
        assert [r["workflow_id"] for r in by_code] == [order.workflow_id]
        by_sku = await found(api, sku=order.items[0].sku, limit="200")
        assert order.workflow_id in [r["workflow_id"] for r in by_sku]
        typed = f" {order.buyer.email.upper()} "
        by_buyer = await found(api, buyer=typed, channel="storefront")
        assert order.workflow_id in [r["workflow_id"] for r in by_buyer]
        amount = order.order_total.to_decimal_string()
        by_amount = await found(api, amount=amount, currency=order.currency, limit="200")
        assert order.workflow_id in [r["workflow_id"] for r in by_amount]


async def test_unknown_filters_are_refused_by_name_and_csv_lists_every_match(
    console: Console,
) -> None:
    order = await _delivered(console)
    async with console.api("view-1") as api:
        refused = await api.get("/api/search/orders", params={"colour": "red", "sku": "x"})
        assert refused.status_code == 400
        assert [f["field"] for f in refused.json()["fields"]] == ["query.colour"]
        answer = await api.get(
            "/api/search/orders",
            params={"format": "csv", "channel_order_id": order.channel_order_id},
        )
        assert answer.headers["content-type"].startswith("text/csv")
        table = list(csv.DictReader(io.StringIO(answer.text)))
        assert [r["workflow_id"] for r in table] == [order.workflow_id]
    async with httpx.AsyncClient(base_url=console.url) as anonymous:
        assert (await anonymous.get("/api/search/orders")).status_code == 401
        assert (await anonymous.get("/api/kpis")).status_code == 401


async def test_kpis_health_and_the_workbook(console: Console) -> None:
    await _delivered(console)
    async with console.api("view-1") as api:
        kpis = (await api.get("/api/kpis", params={"period": "30d"})).json()
        storefront = [r for r in kpis["sales"] if r["channel"] == "storefront"]
        assert storefront and sum(r["orders"] for r in storefront) >= 1
        health = (await api.get("/api/health")).json()
        assert {f["metric"] for f in health} == {m.key for m in METRICS}
        assert (await api.get("/api/kpis", params={"period": "0d"})).status_code == 400
        workbook = await api.get("/api/export.xlsx", params={"period": "30d"})
        book = load_workbook(io.BytesIO(workbook.content))
        assert book.sheetnames[:4] == ["Orders (UTC)", "Returns", "Disputes", "KPIs"]
        assert book["Orders (UTC)"].max_row >= 2


async def test_the_dashboard_drills_down_to_the_orders_behind_a_bar(
    page: Page, console: Console
) -> None:
    order = await _delivered(console)
    await log_in(page, "ops-1")
    await page.goto("/console/dashboard?period=30d")
    await expect(page.get_by_test_id("health").locator("tr[data-metric]")).to_have_count(
        len(METRICS)
    )
    charts = page.get_by_test_id("charts").locator("svg.chart")
    await expect(charts).to_have_count(3)
    if shot := os.environ.get("CROSSDOCK_DASHBOARD_SCREENSHOT"):
        await page.screenshot(path=shot, full_page=True)
    by_state = charts.nth(2).locator("a.chart-link").filter(has_text="delivered")
    await by_state.first.click()
    await expect(page).to_have_url(re.compile(r"/console/search\?.*state=delivered"))
    await page.get_by_label("Order number").fill(order.channel_order_id)
    await page.get_by_role("button", name="Search").click()
    await expect(page.get_by_test_id("orders").locator("tbody tr")).to_have_count(1)
    await expect(page.get_by_test_id("orders")).to_contain_text(order.channel_order_id)


async def test_a_health_alert_waits_in_the_inbox(page: Page, console: Console) -> None:
    db = Database.from_settings(console.stack.settings)
    now = datetime.now(UTC)
    with db.session() as session:
        session.merge(
            HealthAlert(
                metric="amazon_lsr_10", destination="", level="warning", rate=0.0333,
                numerator=1, denominator=30, raised_at=now, checked_at=now,
            )
        )  # fmt: skip
    db.dispose()
    async with console.api("view-1") as api:
        alerts = (await api.get("/api/health/alerts")).json()
    assert [(a["metric"], a["level"]) for a in alerts] == [("amazon_lsr_10", "warning")]
    await log_in(page, "ops-1")
    await page.goto("/console")
    alert = page.get_by_test_id("health-alerts")
    await expect(alert).to_contain_text("Late Shipment Rate (10 days)")
    await expect(alert).to_contain_text("3.33 %")


async def test_crossdock_search_from_the_terminal(console: Console) -> None:
    order = await _delivered(console)
    found_ = await crossdock(
        console, "view-1", "search", f"channel_order_id={order.channel_order_id}"
    )
    assert found_.exit_code == 0, found_.output
    assert order.workflow_id in found_.output and "delivered 1" in found_.output
    refused = await crossdock(console, "view-1", "search", "colour=red")
    assert refused.exit_code != 0
    assert "colour" in refused.output
