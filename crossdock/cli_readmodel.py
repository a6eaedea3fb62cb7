"""`crossdock readmodel rebuild`, `crossdock search` and `crossdock report`: the read
model from a terminal (docs/readmodel.md). Rebuild and report read Crossdock's database
and Temporal directly, as whoever runs the installation does; search goes through the
console's API with an operator's token, as the other operator commands do."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import Progress
from rich.table import Table

from crossdock.cli_console import ConsoleApi, TokenOption, UrlOption, console
from crossdock.config import get_settings
from crossdock.keys import buyer_key
from crossdock.readmodel.excel import build_workbook
from crossdock.readmodel.health import Figure
from crossdock.readmodel.kpis import Kpis
from crossdock.readmodel.reads import ReadModel, period_ending
from crossdock.readmodel.rebuild import rebuild
from crossdock.readmodel.records import decimal_text
from crossdock.readmodel.search import BadFilter, OrderFilter
from crossdock.readmodel.store import ReadModelStore
from crossdock.store import Database, upgrade
from crossdock.temporal import connect

readmodel_app = typer.Typer(help="The read model: SQL tables the workflows project into.")


def _database() -> Database:
    db = Database.from_settings(get_settings())
    upgrade(db)
    return db


@readmodel_app.command("rebuild")
def rebuild_command(
    narrow: Annotated[str, typer.Option(help='A visibility clause, e.g. TaskQueue = "q"')] = "",
) -> None:
    """Empty the rm_* tables and write them again from every workflow's status."""
    settings = get_settings()
    db = _database()

    async def run() -> None:
        client = await connect(settings)
        with Progress(console=console) as progress:
            task = progress.add_task("workflows", total=None)
            report = await rebuild(
                client,
                ReadModelStore(db),
                buyer_key(settings),
                narrow=narrow,
                progress=lambda _: progress.advance(task),
            )
        for kind, n in sorted(report.written.items()):
            console.print(f"{kind}: {n} rebuilt")
        for problem in report.unreadable:
            console.print(f"[yellow]unreadable[/yellow] {problem}", markup=True)

    asyncio.run(run())


def search(
    filters: Annotated[list[str] | None, typer.Argument(help="KEY=VALUE, e.g. sku=MUG-1")] = None,
    token: TokenOption = "",
    url: UrlOption = "",
) -> None:
    """Find orders: channel_order_id=, tracking=, sku=, buyer= (e-mail or name), amount=..."""
    params: dict[str, str] = {}
    for text in filters or []:
        key, sep, value = text.partition("=")
        if not sep:
            raise typer.BadParameter(f"{text!r}: write KEY=VALUE, e.g. tracking=EZ1000000001")
        params[key] = value
    answer = ConsoleApi(token, url).get("/api/search/orders", **params)
    table = Table(title=f"Orders ({answer['total']})")
    for column in ("order", "state", "total", "destination", "placed", "ship by"):
        table.add_column(column)
    for row in answer["orders"]:
        table.add_row(
            row["workflow_id"],
            row["state"],
            f"{row['total']} {row['currency']}",
            row["destination"],
            row["placed_at"][:16],
            row["ship_by"][:16],
        )
    console.print(table)
    console.print(" · ".join(f"{state} {n}" for state, n in answer["counts"].items()))
    if answer["next_cursor"]:
        console.print(f"more: cursor={answer['next_cursor']}")


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value * 100:.2f} %"


def _health_table(figures: list[Figure]) -> Table:
    table = Table(title="Marketplace health")
    for column in ("metric", "window", "orders", "rate", "limit", "level"):
        table.add_column(column)
    colours = {"ok": "green", "warning": "yellow", "breach": "red", "no_data": "dim"}
    for f in figures:
        level = f.level.value
        table.add_row(
            f"{f.metric.marketplace} {f.metric.name}",
            f"{f.metric.window_days} d",
            f"{f.numerator}/{f.denominator}",
            _pct(f.rate),
            _pct(f.metric.limit),
            f"[{colours[level]}]{level}[/{colours[level]}]",
        )
    return table


def _sales_table(k: Kpis) -> Table:
    table = Table(title=f"Sales {k.period.start:%Y-%m-%d} to {k.period.end:%Y-%m-%d}")
    for column in ("channel", "country", "orders", "revenue", "average", k.reporting_currency):
        table.add_column(column, justify="right" if column != "channel" else "left")
    for r in k.sales:
        table.add_row(
            r.channel,
            r.country,
            str(r.orders),
            f"{decimal_text(r.revenue_minor, r.currency)} {r.currency}",
            f"{decimal_text(r.aov_minor, r.currency)} {r.currency}",
            decimal_text(r.converted_minor, k.reporting_currency),
        )
    return table


def _operations_table(k: Kpis) -> Table:
    table = Table(title="Operations")
    table.add_column("figure")
    table.add_column("value", justify="right")
    rows = [
        ("hours to ship p50 / p90", f"{k.hours_to_ship['p50']} / {k.hours_to_ship['p90']}"),
        (
            "hours to deliver p50 / p90",
            f"{k.hours_to_deliver['p50']} / {k.hours_to_deliver['p90']}",
        ),
        ("cancelled by buyer / by us", f"{k.cancelled_by_buyer} / {k.cancelled_by_seller}"),
        ("refund rate", _pct(k.refund_rate)),
        ("dispute rate", _pct(k.dispute_rate)),
        ("approvals waiting", str(k.approvals_waiting)),
        ("customs holds open", str(k.customs_holds_open)),
        ("first response p50 (min)", str(k.first_response_minutes["p50"])),
    ]
    for label, value in rows:
        table.add_row(label, value)
    return table


def report(
    period: Annotated[str, typer.Option(help="Trailing days, e.g. 30d")] = "30d",
    marketplace: Annotated[str, typer.Option(help="amazon, ebay or storefront")] = "",
    excel: Annotated[Path | None, typer.Option(help="Also write the workbook here")] = None,
    until: Annotated[
        datetime | None, typer.Option(help="The period's end (UTC), e.g. 2026-12-01; now")
    ] = None,
) -> None:
    """Marketplace health and the period's KPIs as tables (and an Excel workbook)."""
    settings = get_settings()
    now = until.replace(tzinfo=UTC) if until else datetime.now(UTC)
    try:
        window = period_ending(period, now)
    except BadFilter as err:
        raise typer.BadParameter(str(err)) from None
    reads = ReadModel.over(_database(), buyer_key(settings))
    kpis = reads.kpis.compute(window, now, channel=marketplace)
    console.print(_health_table(reads.health.figures(now, marketplace=marketplace)))
    console.print(_sales_table(kpis))
    console.print(_operations_table(kpis))
    if excel is None:
        return
    f = OrderFilter(channel=marketplace, placed_from=window.start, placed_to=window.end)
    total = reads.search.page(f).total
    with Progress(console=console) as progress:
        task = progress.add_task("orders", total=total)
        book = build_workbook(reads, window, now, marketplace, lambda: progress.advance(task))
    book.save(excel)
    console.print(f"wrote {excel}")
