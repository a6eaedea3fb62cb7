"""getOrders query parameters, as SP-API Orders v0 reads them: a time window by creation
(CreatedAfter/CreatedBefore) or by last update (LastUpdatedAfter/LastUpdatedBefore, never
both), marketplaces, order statuses, page size, and the opaque NextToken that carries
them from page to page.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from crossdock.sandbox.amazon.orders import CREATED, UPDATED, invalid, iso

ORDER_STATUSES = frozenset(
    {
        "PendingAvailability",
        "Pending",
        "Unshipped",
        "PartiallyShipped",
        "Shipped",
        "InvoiceUnconfirmed",
        "Canceled",
        "Unfulfillable",
    }
)


@dataclass(frozen=True)
class OrdersQuery:
    """getOrders parameters of a first page (a NextToken carries them afterwards)."""

    created_after: str | None = None
    created_before: str | None = None
    last_updated_after: str | None = None
    last_updated_before: str | None = None
    max_results: int | None = None
    statuses: list[str] | None = None


def encode_token(state: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(state).encode()).decode()


def decode_token(token: str, required: set[str]) -> dict[str, Any]:
    try:
        state = json.loads(base64.urlsafe_b64decode(token.encode()))
    except (binascii.Error, ValueError):
        state = None
    if not isinstance(state, dict) or not required <= state.keys():
        raise invalid(f"NextToken {token!r} is not a token this operation returned")
    return state


def parse_time(name: str, value: str) -> datetime:
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise invalid(f"{name} {value!r} is not an ISO 8601 date-time") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def marketplaces(values: list[str] | None) -> set[str]:
    """MarketplaceIds; SP-API clients send arrays comma-separated, repeats are accepted."""
    ids = _split(values)
    if not ids:
        raise invalid("MarketplaceIds is required")
    return set(ids)


def _split(values: list[str] | None) -> list[str]:
    return [part for value in values or [] for part in value.split(",") if part]


def _statuses(values: list[str] | None) -> list[str] | None:
    wanted = _split(values)
    unknown = sorted(set(wanted) - ORDER_STATUSES)
    if unknown:
        allowed = ", ".join(sorted(ORDER_STATUSES))
        raise invalid(f"OrderStatuses {', '.join(unknown)} is not one of: {allowed}")
    return sorted(set(wanted)) or None


def _window(query: OrdersQuery) -> tuple[str, str, str | None]:
    """(by, after, before) as ISO strings; refuses the combinations SP-API refuses."""
    created = query.created_after is not None or query.created_before is not None
    updated = query.last_updated_after is not None or query.last_updated_before is not None
    if created and updated:
        raise invalid(
            "LastUpdatedAfter and LastUpdatedBefore cannot be set when CreatedAfter or "
            "CreatedBefore is set"
        )
    if query.last_updated_after is not None:
        after = parse_time("LastUpdatedAfter", query.last_updated_after)
        given = query.last_updated_before
        # Fixed at the first page, so orders updated while a client pages through move
        # out of this window (into the next poll's) instead of shifting pages.
        before = parse_time("LastUpdatedBefore", given) if given else datetime.now(UTC)
        return UPDATED, *_ordered(after, before, "LastUpdatedBefore", "LastUpdatedAfter")
    if query.created_after is None:
        raise invalid("Either CreatedAfter or LastUpdatedAfter is required")
    after = parse_time("CreatedAfter", query.created_after)
    if query.created_before is None:
        return CREATED, iso(after), None
    before = parse_time("CreatedBefore", query.created_before)
    return CREATED, *_ordered(after, before, "CreatedBefore", "CreatedAfter")


def _ordered(after: datetime, before: datetime, later: str, earlier: str) -> tuple[str, str]:
    if before < after:
        raise invalid(f"{later} {iso(before)!r} is before {earlier} {iso(after)!r}")
    return iso(after), iso(before)


def list_state(query: OrdersQuery) -> dict[str, Any]:
    """The listing state of a first page; later pages decode it from their NextToken."""
    size = 100 if query.max_results is None else query.max_results
    if not 1 <= size <= 100:
        raise invalid(f"MaxResultsPerPage {size} must be between 1 and 100")
    by, after, before = _window(query)
    return {
        "by": by,
        "after": after,
        "before": before,
        "size": size,
        "statuses": _statuses(query.statuses),
    }
