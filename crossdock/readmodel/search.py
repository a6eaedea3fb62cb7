"""Finding orders in the read model: filters an operator types, sorted, paged by cursor,
with counts per state and CSV (docs/readmodel.md).

A buyer is found by what the operator types (an e-mail or a name): it is turned into the
same keyed hash the rows hold, for each channel, so the database never sees it in clear.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, false, func, or_, select

from crossdock.buyers import buyer_key
from crossdock.models.order import Buyer, Channel
from crossdock.money import CURRENCY_EXPONENTS, exponent
from crossdock.readmodel.rows import utc
from crossdock.readmodel.tables import RmOrder, RmOrderLine, RmParcel
from crossdock.store import Database

MAX_PAGE = 200
# The longest value a filter takes (an e-mail address is at most 254 characters).
MAX_VALUE = 254
DEFAULT_PAGE = 50


class SortKey(StrEnum):
    PLACED = "placed_at"
    TOTAL = "total"
    SHIP_BY = "ship_by"
    DELIVER_BY = "deliver_by"
    STATE = "state"


SORT_COLUMNS = {
    SortKey.PLACED: RmOrder.placed_at,
    SortKey.TOTAL: RmOrder.total_minor,
    SortKey.SHIP_BY: RmOrder.ship_by,
    SortKey.DELIVER_BY: RmOrder.deliver_by,
    SortKey.STATE: RmOrder.state,
}


class BadFilter(ValueError):
    """A filter the search does not know or cannot read; `fields` names them."""

    def __init__(self, message: str, fields: list[str]) -> None:
        super().__init__(message)
        self.fields = fields


@dataclass
class OrderFilter:
    """What an operator narrows an order list by; empty fields do not narrow."""

    channel: str = ""
    state: str = ""
    destination: str = ""
    currency: str = ""
    channel_order_id: str = ""
    tracking: str = ""
    sku: str = ""
    buyer: str = ""
    amount: str = ""
    placed_from: datetime | None = None
    placed_to: datetime | None = None
    shipped_late: bool | None = None
    needs_attention: bool | None = None
    cancelled_by: str = ""
    sort: SortKey = SortKey.PLACED
    descending: bool = True
    limit: int = DEFAULT_PAGE
    cursor: str = ""
    workflow_ids: list[str] = field(default_factory=list)
    # The account's marketplaces and destination countries (empty: every one),
    # whatever `channel` and `destination` say.
    channels: list[str] = field(default_factory=list)
    destinations: list[str] = field(default_factory=list)


FILTER_NAMES = frozenset(
    {
        "channel",
        "state",
        "destination",
        "currency",
        "channel_order_id",
        "tracking",
        "sku",
        "buyer",
        "amount",
        "placed_from",
        "placed_to",
        "shipped_late",
        "needs_attention",
        "cancelled_by",
        "sort",
        "order",
        "limit",
        "cursor",
        "format",
    }
)


def parse_filter(params: dict[str, str]) -> OrderFilter:
    """An `OrderFilter` from query parameters.

    Raises:
        BadFilter: an unknown parameter, or a value that cannot be read (naming it).
    """
    unknown = sorted(set(params) - FILTER_NAMES)
    if unknown:
        known = ", ".join(sorted(FILTER_NAMES))
        raise BadFilter(f"unknown filter(s) {', '.join(unknown)}; known: {known}", unknown)
    too_long = sorted(name for name, value in params.items() if len(value) > MAX_VALUE)
    if too_long:
        raise BadFilter(f"{', '.join(too_long)}: at most {MAX_VALUE} characters", too_long)
    found = OrderFilter()
    plain = ("channel", "state", "destination", "currency", "channel_order_id")
    for name in (*plain, "tracking", "sku", "buyer", "amount", "cursor", "cancelled_by"):
        value = params.get(name, "").strip()
        setattr(found, name, value.upper() if name in ("destination", "currency") else value)
    found.placed_from = _when(params, "placed_from")
    found.placed_to = _when(params, "placed_to")
    found.shipped_late = _flag(params, "shipped_late")
    found.needs_attention = _flag(params, "needs_attention")
    if "sort" in params:
        try:
            found.sort = SortKey(params["sort"])
        except ValueError:
            keys = ", ".join(k.value for k in SortKey)
            raise BadFilter(f"sort {params['sort']!r}: one of {keys}", ["sort"]) from None
    if params.get("order", "desc") not in ("asc", "desc"):
        raise BadFilter(f"order {params['order']!r}: asc or desc", ["order"])
    found.descending = params.get("order", "desc") == "desc"
    found.limit = _limit(params)
    # Refused now, naming the field, whichever way the filter is used (a page or CSV).
    if found.amount:
        _amount_candidates(found.amount, found.currency)
    if found.cursor:
        _decode(found.cursor, found.sort)
    return found


def _when(params: dict[str, str], name: str) -> datetime | None:
    if not params.get(name):
        return None
    try:
        return utc(datetime.fromisoformat(params[name]))
    except ValueError:
        raise BadFilter(f"{name} {params[name]!r}: an ISO date, e.g. 2026-11-02", [name]) from None


def _flag(params: dict[str, str], name: str) -> bool | None:
    value = params.get(name, "")
    if value == "":
        return None
    if value not in ("true", "false"):
        raise BadFilter(f"{name} {value!r}: true or false", [name])
    return value == "true"


def _limit(params: dict[str, str]) -> int:
    try:
        limit = int(params.get("limit", DEFAULT_PAGE))
    except ValueError:
        raise BadFilter(f"limit {params['limit']!r}: a number", ["limit"]) from None
    if not 1 <= limit <= MAX_PAGE:
        raise BadFilter(f"limit {limit}: from 1 to {MAX_PAGE}", ["limit"])
    return limit


def _amount_candidates(text: str, currency: str) -> list[tuple[list[str], int]]:
    """(currencies, minor units) pairs an amount typed as a decimal can mean."""
    try:
        value = Decimal(text.replace(",", "."))
    except InvalidOperation:
        raise BadFilter(f"amount {text!r}: a decimal, e.g. 49.90", ["amount"]) from None
    if currency:
        if currency not in CURRENCY_EXPONENTS:
            raise BadFilter(f"currency {currency!r} is not one we trade in", ["currency"])
        currencies = [currency]
    else:
        currencies = list(CURRENCY_EXPONENTS)
    by_exponent: dict[int, list[str]] = {}
    for code in currencies:
        by_exponent.setdefault(exponent(code), []).append(code)
    found = []
    for exp, codes in by_exponent.items():
        minor = value.scaleb(exp)
        if minor == minor.to_integral_value():
            found.append((codes, int(minor)))
    return found


def buyer_keys(secret: bytes, typed: str, channel: str = "") -> list[str]:
    """The keys a typed e-mail or name has on each channel (or on `channel`)."""
    text = typed.strip()
    buyer = Buyer(name="-", email=text) if "@" in text else Buyer(name=text)
    channels = [Channel(channel)] if channel else list(Channel)
    return [buyer_key(secret, c, buyer) for c in channels]


def conditions(f: OrderFilter, secret: bytes) -> list[ColumnElement[bool]]:
    """The SQL conditions of every filter but state (counts per state share them)."""
    found: list[ColumnElement[bool]] = []
    equal = {
        RmOrder.channel: f.channel,
        RmOrder.destination: f.destination,
        RmOrder.currency: f.currency,
        RmOrder.channel_order_id: f.channel_order_id,
        RmOrder.cancelled_by: f.cancelled_by,
    }
    found += [column == value for column, value in equal.items() if value]
    if f.tracking:
        parcels = select(RmParcel.workflow_id).where(RmParcel.tracking_code == f.tracking)
        found.append(RmOrder.workflow_id.in_(parcels))
    if f.sku:
        lines = select(RmOrderLine.workflow_id).where(RmOrderLine.sku == f.sku)
        found.append(RmOrder.workflow_id.in_(lines))
    if f.buyer:
        found.append(RmOrder.buyer_key.in_(buyer_keys(secret, f.buyer, f.channel)))
    if f.amount:
        pairs = _amount_candidates(f.amount, f.currency)
        matches = [
            and_(RmOrder.currency.in_(codes), RmOrder.total_minor == minor)
            for codes, minor in pairs
        ]
        found.append(or_(*matches) if matches else false())
    if f.placed_from is not None:
        found.append(RmOrder.placed_at >= f.placed_from)
    if f.placed_to is not None:
        found.append(RmOrder.placed_at < f.placed_to)
    if f.shipped_late is not None:
        late = RmOrder.shipped_at > RmOrder.ship_by
        found.append(late if f.shipped_late else or_(RmOrder.shipped_at.is_(None), ~late))
    if f.needs_attention is not None:
        found.append(RmOrder.needs_attention == f.needs_attention)
    if f.workflow_ids:
        found.append(RmOrder.workflow_id.in_(f.workflow_ids))
    if f.channels:
        found.append(RmOrder.channel.in_(f.channels))
    if f.destinations:
        found.append(RmOrder.destination.in_(f.destinations))
    return found


@dataclass
class OrderPage:
    rows: list[RmOrder]
    total: int
    counts: dict[str, int]
    next_cursor: str


def _encode(value: Any, workflow_id: str) -> str:
    raw = value.isoformat() if isinstance(value, datetime) else value
    return base64.urlsafe_b64encode(json.dumps([raw, workflow_id]).encode()).decode()


def _decode(cursor: str, sort: SortKey) -> tuple[Any, str]:
    try:
        raw, workflow_id = json.loads(base64.urlsafe_b64decode(cursor.encode()))
        value = utc(datetime.fromisoformat(raw)) if sort in _TIMES else raw
    except (ValueError, TypeError):
        raise BadFilter("cursor is not one this list gave", ["cursor"]) from None
    return value, str(workflow_id)


_TIMES = frozenset({SortKey.PLACED, SortKey.SHIP_BY, SortKey.DELIVER_BY})


def _after(f: OrderFilter) -> ColumnElement[bool] | None:
    if not f.cursor:
        return None
    value, workflow_id = _decode(f.cursor, f.sort)
    column = SORT_COLUMNS[f.sort]
    if f.descending:
        return or_(column < value, and_(column == value, RmOrder.workflow_id < workflow_id))
    return or_(column > value, and_(column == value, RmOrder.workflow_id > workflow_id))


class OrderSearch:
    """Order lists over rm_orders."""

    def __init__(self, db: Database, secret: bytes) -> None:
        self.db = db
        self.secret = secret

    def _ordered(self, f: OrderFilter) -> Select[Any]:
        where = conditions(f, self.secret)
        if f.state:
            where.append(RmOrder.state == f.state)
        column = SORT_COLUMNS[f.sort]
        keys = (
            (column.desc(), RmOrder.workflow_id.desc())
            if f.descending
            else (column, RmOrder.workflow_id)
        )
        return select(RmOrder).where(*where).order_by(*keys)

    def page(self, f: OrderFilter) -> OrderPage:
        """One page of orders, the total matching, and counts per state."""
        base = conditions(f, self.secret)
        with self.db.session() as session:
            counted = session.execute(
                select(RmOrder.state, func.count()).where(*base).group_by(RmOrder.state)
            ).all()
            query = self._ordered(f)
            after = _after(f)
            if after is not None:
                query = query.where(after)
            found = list(session.scalars(query.limit(f.limit + 1)))
        counts = {state: int(n) for state, n in counted}
        total = counts.get(f.state, 0) if f.state else sum(counts.values())
        more = len(found) > f.limit
        rows = found[: f.limit]
        cursor = ""
        if more and rows:
            last = rows[-1]
            value = getattr(last, SORT_COLUMNS[f.sort].key)
            cursor = _encode(utc(value) if isinstance(value, datetime) else value, last.workflow_id)
        return OrderPage(rows=rows, total=total, counts=counts, next_cursor=cursor)

    def every(self, f: OrderFilter, batch: int = 1000) -> Iterator[RmOrder]:
        """Every matching order, in the list's order (exports), read in batches."""
        with self.db.session() as session:
            yield from session.scalars(self._ordered(f).execution_options(yield_per=batch))

    def skus(self, workflow_ids: Iterable[str]) -> dict[str, list[str]]:
        ids = list(workflow_ids)
        found: dict[str, list[str]] = {i: [] for i in ids}
        with self.db.session() as session:
            for wid, sku in session.execute(
                select(RmOrderLine.workflow_id, RmOrderLine.sku).where(
                    RmOrderLine.workflow_id.in_(ids)
                )
            ):
                found[wid].append(sku)
        return found
