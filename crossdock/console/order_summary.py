"""An order at a glance for its case page: what was sold (lines with SKU, HS code,
quantities and prices), what it costs in the order's own currency (goods, shipping,
duties and taxes), where it goes under which incoterm, its deadlines, its parcels with
tracking links and last scan, and the returns and disputes about it.

The order itself is the workflow's start input (the first event of its history); what
happened since comes from the `status` query the case page already holds."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import structlog
from pydantic import BaseModel
from temporalio.client import Client

from crossdock.models.order_status import OrderStatus
from crossdock.models.order_steps import OrderInput, ShippingLabel
from crossdock.money import Money

log = structlog.get_logger(__name__)

# The carrier's public tracking page (EasyPost's public_url, as the sandbox answers it).
TRACKING_PAGE = "https://track.easypost.com/{tracker_id}"


class SummaryLine(BaseModel):
    sku: str
    title: str
    hs_code: str
    origin_country: str
    quantity: int
    unit_price: Money
    total: Money


class SummaryParcel(BaseModel):
    number: int
    carrier: str
    tracking_code: str
    tracking_url: str
    status: str
    last_scan_at: datetime | None
    outcome: str = ""


class SummaryCase(BaseModel):
    kind: str
    workflow_id: str
    summary: str
    open: bool


class OrderSummary(BaseModel):
    """What an operator needs to see first about an order."""

    channel: str
    channel_order_id: str
    currency: str
    destination: str
    city: str
    incoterm: str
    placed_at: datetime
    ship_by: datetime
    deliver_by: datetime
    lines: list[SummaryLine]
    goods: Money
    shipping: Money
    duties: Money | None
    taxes: Money | None
    # What the buyer pays: goods + shipping (+ duties and taxes collected at checkout).
    total: Money
    captured: Money | None
    refunded: Money | None
    parcels: list[SummaryParcel]
    cases: list[SummaryCase]


async def order_input(client: Client, workflow_id: str) -> OrderInput | None:
    """The order the workflow was started with, or None if its history cannot be read."""
    handle = client.get_workflow_handle(workflow_id)
    try:
        async for event in handle.fetch_history_events(page_size=1):
            started = event.workflow_execution_started_event_attributes
            decoded = await client.data_converter.decode(started.input.payloads, [OrderInput])
            found = decoded[0]
            return found if isinstance(found, OrderInput) else None
    except Exception as err:  # an unreadable start must not hide the rest of the page
        log.warning("console_order_unreadable", workflow_id=workflow_id, error=str(err))
    return None


def summarise(started: OrderInput, status: OrderStatus | None) -> OrderSummary:
    """The summary of `started` as `status` (the live query answer) has it now."""
    order = started.order
    goods = Money.zero(order.currency)
    for item in order.items:
        goods = goods + item.line_total
    cost = status.landed_cost if status else None
    total = goods + order.shipping
    if cost is not None:
        total = total + cost.due_at_checkout
    return OrderSummary(
        channel=order.channel.value,
        channel_order_id=order.channel_order_id,
        currency=order.currency,
        destination=order.ship_to.country,
        city=order.ship_to.city,
        incoterm=order.incoterm.value,
        placed_at=order.placed_at,
        ship_by=order.ship_by,
        deliver_by=order.deliver_by,
        lines=[
            SummaryLine(
                sku=i.sku,
                title=i.title,
                hs_code=i.hs_code,
                origin_country=i.origin_country,
                quantity=i.quantity,
                unit_price=i.unit_price,
                total=i.line_total,
            )
            for i in order.items
        ],
        goods=goods,
        shipping=order.shipping,
        duties=cost.duties if cost else None,
        taxes=cost.taxes if cost else None,
        total=total,
        captured=status.captured if status else None,
        refunded=status.refunded if status else None,
        parcels=_parcels(status) if status else [],
        cases=[
            SummaryCase(
                kind=c.kind.value, workflow_id=c.workflow_id, summary=c.summary, open=c.open
            )
            for c in (status.cases if status else [])
        ],
    )


def _parcels(status: OrderStatus) -> list[SummaryParcel]:
    if status.parcels:
        return [
            _parcel(p.package.number, p.label, p.tracking_status, p.last_scan_at, p.outcome)
            for p in status.parcels
        ]
    if status.label is None:
        return []
    return [_parcel(1, status.label, status.tracking_status, status.last_scan_at, "")]


def _parcel(
    number: int, label: ShippingLabel, status: str, scan: datetime | None, outcome: str
) -> SummaryParcel:
    return SummaryParcel(
        number=number,
        carrier=label.carrier,
        tracking_code=label.tracking_code,
        tracking_url=TRACKING_PAGE.format(tracker_id=label.tracker_id),
        status=status,
        last_scan_at=scan,
        outcome=outcome,
    )


def summary_of(started: OrderInput | None, status: Any) -> OrderSummary | None:
    """The summary, when the case is an order whose start could be read."""
    if started is None or not isinstance(status, OrderStatus | None):
        return None
    return summarise(started, status)
