"""The read model's JSON API: order search (JSON or CSV), KPIs, marketplace health and
the Excel workbook (docs/readmodel.md). Authenticated like every `/api` route; a scoped
account sees its marketplaces only."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse

from crossdock.api_errors import refusals
from crossdock.console.errors import ConsoleError, not_found
from crossdock.console.state import CurrentOperator, account_scope, console_state
from crossdock.identity.scope import Scope
from crossdock.readmodel.alerts import HealthAlerts
from crossdock.readmodel.excel import workbook_bytes
from crossdock.readmodel.health import BY_KEY
from crossdock.readmodel.reads import ReadModel, period_ending
from crossdock.readmodel.records import as_csv, order_record
from crossdock.readmodel.rows import utc
from crossdock.readmodel.search import BadFilter, OrderFilter, parse_filter
from crossdock.readmodel.views import figure_record, kpi_record

api = APIRouter(prefix="/api", tags=["read model"])
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def read_model(request: Request) -> ReadModel:
    found: ReadModel = request.app.state.readmodel
    return found


async def open_alerts(request: Request, scope: Scope) -> list[dict[str, Any]]:
    """The health alerts the hourly check left open, in the account's marketplaces."""
    alerts = await asyncio.to_thread(HealthAlerts(read_model(request).search.db).open)
    found = []
    for alert in alerts:
        metric = BY_KEY.get(alert.metric)
        if metric is None or not alert_in_scope(scope, metric.marketplace, alert.destination):
            continue
        found.append(
            {
                "metric": alert.metric,
                "name": f"{metric.marketplace} · {metric.name}",
                "destination": alert.destination,
                "level": alert.level,
                "rate": alert.rate,
                "limit": metric.limit,
                "numerator": alert.numerator,
                "denominator": alert.denominator,
                "raised_at": utc(alert.raised_at).isoformat(),
            }
        )
    return found


def alert_in_scope(scope: Scope, marketplace: str, destination: str) -> bool:
    """An alert is about a marketplace, overall ("") or in one destination country."""
    if scope is None:
        return True
    if scope.marketplaces is not None and marketplace not in scope.marketplaces:
        return False
    return scope.countries is None or destination in scope.countries


def refused_filter(err: BadFilter) -> JSONResponse:
    """400 naming the filters that were wrong."""
    fields = [{"field": f"query.{name}", "message": str(err)} for name in err.fields]
    return JSONResponse(
        {"error": "bad_request", "message": str(err), "fields": fields}, status_code=400
    )


def scoped(f: OrderFilter, scope: Scope) -> OrderFilter:
    """`f` narrowed to the account's marketplaces and countries (one out of scope
    finds nothing)."""
    if scope is None:
        return f
    if scope.marketplaces is not None:
        if f.channel and f.channel not in scope.marketplaces:
            raise not_found(f"no marketplace {f.channel!r} for this account")
        f.channels = sorted(scope.marketplaces) or [""]
    if scope.countries is not None:
        if f.destination and f.destination not in scope.countries:
            raise not_found(f"no destination {f.destination!r} for this account")
        f.destinations = sorted(scope.countries) or [""]
    return f


def one_marketplace(marketplace: str, scope: Scope) -> str:
    """The marketplace figures are for: any for an unscoped account, else one of its
    own. Figures of a whole marketplace span every country, so an account scoped to
    some countries gets its orders' lists, never the marketplace's totals."""
    if scope is None:
        return marketplace
    if scope.countries is not None:
        raise ConsoleError(
            403,
            "forbidden",
            "marketplace figures cover every destination; an account scoped to countries "
            "sees its orders in the search list",
        )
    mine = sorted(scope.marketplaces or [])
    if marketplace and marketplace in mine:
        return marketplace
    if not marketplace and mine:
        return mine[0]
    raise not_found(f"no marketplace {marketplace!r} for this account")


def _parameter(name: str, schema: dict[str, Any], what: str) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "schema": schema, "description": what}


TEXT = {"type": "string", "maxLength": 254}
FLAG = {"type": "string", "enum": ["true", "false"]}
# Read from the raw query (so an unknown one is refused by name), documented here.
SEARCH_PARAMETERS = [
    _parameter("channel_order_id", TEXT, "the channel's order number"),
    _parameter("tracking", TEXT, "a parcel's tracking number"),
    _parameter("sku", TEXT, "a line's SKU"),
    _parameter("buyer", TEXT, "the buyer's e-mail or name as typed (matched by keyed hash)"),
    _parameter("amount", TEXT, "the order total as a decimal, e.g. 49.90"),
    _parameter("currency", TEXT, "ISO 4217 code"),
    _parameter("channel", {"type": "string", "enum": ["amazon", "ebay", "storefront"]}, ""),
    _parameter("state", TEXT, "an order state"),
    _parameter("destination", TEXT, "ship-to country, ISO 3166 alpha-2"),
    _parameter("cancelled_by", {"type": "string", "enum": ["buyer", "seller"]}, ""),
    _parameter("placed_from", {"type": "string", "format": "date-time"}, "inclusive"),
    _parameter("placed_to", {"type": "string", "format": "date-time"}, "exclusive"),
    _parameter("shipped_late", FLAG, ""),
    _parameter("needs_attention", FLAG, ""),
    _parameter(
        "sort",
        {"type": "string", "enum": ["placed_at", "total", "ship_by", "deliver_by", "state"]},
        "",
    ),
    _parameter("order", {"type": "string", "enum": ["asc", "desc"]}, ""),
    _parameter("limit", {"type": "integer", "minimum": 1, "maximum": 200}, "page size"),
    _parameter("cursor", TEXT, "`next_cursor` of the previous page"),
    _parameter("format", {"type": "string", "enum": ["json", "csv"]}, ""),
]


@api.get(
    "/search/orders",
    openapi_extra={"parameters": SEARCH_PARAMETERS},
    responses={
        **refusals(400, 401, 403, 404),
        200: {
            "content": {
                "application/json": {"schema": {"type": "object"}},
                "text/csv": {"schema": {"type": "string"}},
            },
            "description": "A page of orders, or with `format=csv` every match",
        },
    },
)
async def search_orders(request: Request, operator: CurrentOperator) -> Response:
    """Orders by channel order id, tracking, SKU, buyer, amount, state...; `format=csv`
    for every match as CSV."""
    params = dict(request.query_params)
    try:
        f = parse_filter(params)
    except BadFilter as err:
        return refused_filter(err)
    f = scoped(f, await account_scope(console_state(request), operator))
    reads = read_model(request)
    if params.get("format") == "csv":
        rows = await asyncio.to_thread(lambda: list(as_csv(reads.search.every(f))))
        disposition = {"Content-Disposition": 'attachment; filename="orders.csv"'}
        return StreamingResponse(iter(rows), media_type="text/csv", headers=disposition)
    try:
        page = await asyncio.to_thread(reads.search.page, f)
    except BadFilter as err:
        return refused_filter(err)
    return JSONResponse(
        {
            "total": page.total,
            "counts": page.counts,
            "next_cursor": page.next_cursor,
            "orders": [order_record(r) for r in page.rows],
        }
    )


async def _figures(
    request: Request, operator: Any, period: str, marketplace: str
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    now = datetime.now(UTC)
    try:
        window = period_ending(period, now)
    except BadFilter as err:
        raise ConsoleError(400, "bad_request", str(err)) from err
    channel = one_marketplace(marketplace, await account_scope(console_state(request), operator))
    reads = read_model(request)
    kpis = await asyncio.to_thread(reads.kpis.compute, window, now, channel=channel)
    figures = await asyncio.to_thread(reads.health.figures, now, marketplace=channel)
    return kpi_record(kpis), [figure_record(f) for f in figures]


Period = Annotated[str, Query(max_length=5, description="trailing days, e.g. 30d")]
Marketplace = Annotated[str, Query(max_length=16, pattern=r"^(|amazon|ebay|storefront)$")]


@api.get("/kpis", responses=refusals(400, 401, 403, 404, 422))
async def kpis(
    request: Request,
    operator: CurrentOperator,
    period: Period = "30d",
    marketplace: Marketplace = "",
) -> dict[str, Any]:
    """Orders, revenue, fulfilment, refunds, returns, disputes, duties, approvals, holds."""
    figures, _ = await _figures(request, operator, period, marketplace)
    return figures


@api.get("/health", responses=refusals(400, 401, 403, 404, 422))
async def health(
    request: Request, operator: CurrentOperator, marketplace: Marketplace = ""
) -> list[dict[str, Any]]:
    """Amazon and eBay account-health figures against their limits, with definitions."""
    _, figures = await _figures(request, operator, "30d", marketplace)
    return figures


@api.get("/health/alerts", responses=refusals(401, 403))
async def health_alerts(request: Request, operator: CurrentOperator) -> list[dict[str, Any]]:
    """Health figures past their pre-breach level at the last hourly check."""
    return await open_alerts(request, await account_scope(console_state(request), operator))


@api.get(
    "/export.xlsx",
    response_class=Response,
    responses={
        **refusals(400, 401, 403, 404, 422),
        200: {
            "content": {XLSX: {"schema": {"type": "string", "format": "binary"}}},
            "description": "The workbook",
        },
    },
)
async def export_workbook(
    request: Request,
    operator: CurrentOperator,
    period: Period = "30d",
    marketplace: Marketplace = "",
) -> Response:
    """Orders, returns, disputes and KPIs of the period as an Excel workbook."""
    now = datetime.now(UTC)
    try:
        window = period_ending(period, now)
    except BadFilter as err:
        raise ConsoleError(400, "bad_request", str(err)) from err
    channel = one_marketplace(marketplace, await account_scope(console_state(request), operator))
    reads = read_model(request)
    data = await asyncio.to_thread(workbook_bytes, reads, window, now, channel)
    disposition = {"Content-Disposition": f'attachment; filename="crossdock-{period}.xlsx"'}
    return Response(data, media_type=XLSX, headers=disposition)
