"""eBay getOrders query parameters: the `filter` mini-language and limit/offset paging.

    filter=creationdate:[2016-03-21T08:25:43.511Z..2016-04-21T08:25:43.511Z],
           lastmodifieddate:[2016-05-15T08:25:43.511Z..],
           orderfulfillmentstatus:{NOT_STARTED|IN_PROGRESS}

Ranges are inclusive and the end is optional. Errors carry eBay's own error ids.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from crossdock.sandbox.ebay.orders import refuse
from crossdock.sandbox.ebay.records import OrderRecord

FULFILLMENT_STATUSES = frozenset({"NOT_STARTED", "IN_PROGRESS", "FULFILLED"})
MAX_LIMIT = 200


@dataclass(frozen=True)
class DateRange:
    start: datetime
    end: datetime | None

    def contains(self, moment: datetime) -> bool:
        return self.start <= moment and (self.end is None or moment <= self.end)


@dataclass(frozen=True)
class OrderFilter:
    created: DateRange | None = None
    modified: DateRange | None = None
    statuses: frozenset[str] | None = None

    def matches(self, record: OrderRecord) -> bool:
        # eBay: when both date filters are given, only creationdate is used.
        if self.created is not None:
            if not self.created.contains(record.order.placed_at):
                return False
        elif self.modified is not None and not self.modified.contains(record.last_modified):
            return False
        return self.statuses is None or record.status in self.statuses


def _split(text: str) -> list[str]:
    """Split on commas outside [...] and {...}."""
    parts, depth, current = [], 0, ""
    for char in text:
        depth += char in "[{"
        depth -= char in "]}"
        if char == "," and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += char
    return [*parts, current]


def _moment(name: str, text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise refuse(30810, "Invalid date format", fieldname=name, fieldvalue=text) from None
    if moment.tzinfo is None:
        raise refuse(30810, "Invalid date format", fieldname=name, fieldvalue=text)
    return moment


def _range(name: str, value: str) -> DateRange:
    if not (value.startswith("[") and value.endswith("]") and ".." in value):
        raise refuse(
            30800,
            f"Invalid filter value {value} for filter {name}",
            fieldname=name,
            fieldvalue=value,
        )
    start_text, _, end_text = value[1:-1].partition("..")
    if not start_text:
        raise refuse(30820, "Start date is missing", fieldname=name)
    start = _moment(name, start_text)
    end = _moment(name, end_text) if end_text else None
    if end is not None and end < start:
        raise refuse(30840, "Start date should be before end date", fieldname=name)
    return DateRange(start, end)


def _statuses(value: str) -> frozenset[str]:
    statuses = frozenset(value.strip("{}").split("|"))
    if not (value.startswith("{") and value.endswith("}")) or not statuses <= FULFILLMENT_STATUSES:
        raise refuse(
            30800,
            f"Invalid filter value {value} for filter orderfulfillmentstatus",
            fieldname="orderfulfillmentstatus",
            fieldvalue=value,
        )
    return statuses


def parse_filter(text: str | None) -> OrderFilter:
    """The `filter` parameter as an OrderFilter (no filter: every order)."""
    result = OrderFilter()
    for part in _split(text or ""):
        name, _, value = part.strip().partition(":")
        if not name:
            continue
        if name == "creationdate":
            result = replace(result, created=_range(name, value))
        elif name == "lastmodifieddate":
            result = replace(result, modified=_range(name, value))
        elif name == "orderfulfillmentstatus":
            result = replace(result, statuses=_statuses(value))
        else:
            raise refuse(30700, f"Invalid filter name: {name}", fieldname=name)
    return result


def parse_paging(offset: str | None, limit: str | None) -> tuple[int, int]:
    """(offset, limit) with eBay's defaults (0, 50) and bounds (limit 1..200)."""
    offset, limit = offset or "0", limit or "50"
    if not offset.isdigit():
        raise refuse(31000, f"Invalid offset: {offset}", offset=offset)
    if not limit.isdigit() or not 1 <= int(limit) <= MAX_LIMIT:
        raise refuse(31100, f"Invalid limit: {limit}", limit=limit)
    return int(offset), int(limit)
