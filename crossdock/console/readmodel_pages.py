"""The dashboard (health, KPIs, charts) and the order search page over the read model;
every figure links to the filtered order list behind it."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response, StreamingResponse

from crossdock.console.charts import Bar, bar_chart
from crossdock.console.readmodel_api import one_marketplace, read_model, scoped
from crossdock.console.state import account_scope, console_state
from crossdock.console.web import Operator, render, require
from crossdock.readmodel.health import Figure
from crossdock.readmodel.kpis import Kpis, Period
from crossdock.readmodel.reads import period_ending
from crossdock.readmodel.records import as_csv, decimal_text, order_record
from crossdock.readmodel.search import BadFilter, parse_filter

pages = APIRouter(prefix="/console", include_in_schema=False)
PERIODS = ("7d", "30d", "90d")
SEARCH_FIELDS = (
    "channel_order_id",
    "tracking",
    "sku",
    "buyer",
    "amount",
    "currency",
    "channel",
    "state",
    "destination",
)
# The orders behind each health figure, as search filters.
DRILL: dict[str, dict[str, str]] = {
    "amazon_lsr_10": {"channel": "amazon", "shipped_late": "true"},
    "amazon_lsr_30": {"channel": "amazon", "shipped_late": "true"},
    "amazon_pfcr": {"channel": "amazon", "cancelled_by": "seller"},
    "amazon_vtr": {"channel": "amazon"},
    "amazon_otdr": {"channel": "amazon"},
    "amazon_odr": {"channel": "amazon"},
    "ebay_defect": {"channel": "ebay", "cancelled_by": "seller"},
    "ebay_late": {"channel": "ebay", "shipped_late": "true"},
    "ebay_cases": {"channel": "ebay"},
}


def search_link(period: Period | None = None, **filters: str) -> str:
    params = dict(filters)
    if period is not None:
        params["placed_from"] = period.start.isoformat()
        params["placed_to"] = period.end.isoformat()
    return "/console/search?" + urlencode(params)


def _charts(k: Kpis, counts: dict[str, int]) -> list[object]:
    by_channel: dict[str, int] = {}
    for row in k.sales:
        by_channel[row.channel] = by_channel.get(row.channel, 0) + row.converted_minor
    revenue = [
        Bar(
            channel,
            minor,
            f"{decimal_text(minor, k.reporting_currency)} {k.reporting_currency}",
            search_link(k.period, channel=channel),
        )
        for channel, minor in sorted(by_channel.items())
    ]
    orders = [
        Bar(
            f"{r.channel} {r.country} {r.currency}",
            r.orders,
            str(r.orders),
            search_link(k.period, channel=r.channel, destination=r.country, currency=r.currency),
        )
        for r in k.sales
    ]
    states = [
        Bar(state, n, str(n), search_link(k.period, state=state))
        for state, n in sorted(counts.items(), key=lambda item: -item[1])
    ]
    return [
        bar_chart(f"Revenue per channel ({k.reporting_currency})", revenue),
        bar_chart("Orders per channel, country and currency", orders),
        bar_chart("Orders per state", states),
    ]


@pages.get("/dashboard", response_class=HTMLResponse)
async def dashboard(
    request: Request, who: Operator, period: str = "30d", marketplace: str = ""
) -> Response:
    """Marketplace health and the period's KPIs, with charts."""
    session = require(who)
    now = datetime.now(UTC)
    try:
        window = period_ending(period if period in PERIODS else "30d", now)
    except BadFilter:
        window = period_ending("30d", now)
    scope = await account_scope(console_state(request), session.principal)
    channel = one_marketplace(marketplace, scope)
    reads = read_model(request)
    kpis = await asyncio.to_thread(reads.kpis.compute, window, now, channel=channel)
    figures: list[Figure] = await asyncio.to_thread(reads.health.figures, now, marketplace=channel)
    f = scoped(
        parse_filter(
            {
                "placed_from": window.start.isoformat(),
                "placed_to": window.end.isoformat(),
                "channel": channel,
                "limit": "1",
            }
        ),
        scope,
    )
    counts = (await asyncio.to_thread(reads.search.page, f)).counts
    return await render(
        request,
        "dashboard.html",
        who,
        kpis=kpis,
        figures=figures,
        charts=_charts(kpis, counts),
        period=period,
        periods=PERIODS,
        marketplace=channel,
        drill={k: search_link(None, **v) for k, v in DRILL.items()},
        decimal_text=decimal_text,
    )


@pages.get("/search", response_class=HTMLResponse)
async def search_page(request: Request, who: Operator) -> Response:
    """Orders found by what the operator typed, with counts per state."""
    session = require(who)
    params = {k: v for k, v in request.query_params.items() if v != ""}
    error = ""
    page = None
    try:
        f = scoped(
            parse_filter(params), await account_scope(console_state(request), session.principal)
        )
        page = await asyncio.to_thread(read_model(request).search.page, f)
    except BadFilter as err:
        error = str(err)
    rows = [order_record(r) for r in page.rows] if page else []
    more = {**params, "cursor": page.next_cursor} if page and page.next_cursor else None
    csv_params = {k: v for k, v in params.items() if k not in ("cursor", "limit")}
    return await render(
        request,
        "search.html",
        who,
        form={name: params.get(name, "") for name in SEARCH_FIELDS},
        rows=rows,
        error=error,
        total=page.total if page else 0,
        counts=page.counts if page else {},
        next_link=("/console/search?" + urlencode(more)) if more else "",
        csv_link="/console/search.csv?" + urlencode(csv_params),
    )


@pages.get("/search.csv")
async def search_csv(request: Request, who: Operator) -> Response:
    """Every order the search finds, as CSV."""
    session = require(who)
    params = {k: v for k, v in request.query_params.items() if v != ""}
    try:
        f = scoped(
            parse_filter(params), await account_scope(console_state(request), session.principal)
        )
    except BadFilter as err:
        return Response(str(err), status_code=400, media_type="text/plain")
    search = read_model(request).search
    lines = await asyncio.to_thread(lambda: list(as_csv(search.every(f))))
    disposition = {"Content-Disposition": 'attachment; filename="orders.csv"'}
    return StreamingResponse(iter(lines), media_type="text/csv", headers=disposition)
