"""eBay Post-Order API v2, cancellations (search, approve, reject), in eBay's field names.

    POST /ebay/post-order/v2/cancellation                        the seller cancels (201,
                                                                  {"cancelId"})
    GET  /ebay/post-order/v2/cancellation/search?creation_date_range_from=...
    POST /ebay/post-order/v2/cancellation/{cancelId}/approve     (no body, 200)
    POST /ebay/post-order/v2/cancellation/{cancelId}/reject      ({} or shipmentDate and
                                                                  trackingNumber, 200)

Buyers' requests enter through the admin route `POST /ebay/_sandbox/orders/{id}/buyer-cancel`
({"reason": a buyer's CancelReasonEnum value, "requestDate": optional}). The Post-Order API
authenticates with `Authorization: IAF <OAuth token>` (or `TOKEN <Auth'n'Auth token>`).
Dates are Post-Order DateTime objects ({"value": "2015-08-04T19:09:02.768Z"}). Since eBay's
2019 order-id format, `legacyOrderId` is the same value as the Fulfillment API's orderId.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field

from crossdock.sandbox.context import SandboxContext
from crossdock.sandbox.core.routes import Refusal
from crossdock.sandbox.ebay.cancellations import (
    BAD_REQUEST,
    SELLER_RESPONSE_TIME,
    EbayCancellations,
    refuse,
)
from crossdock.sandbox.ebay.orders import EbayOrders, post_order_error
from crossdock.sandbox.ebay.records import CancellationRecord, OrderRecord, timestamp

API = "/ebay/post-order/v2/cancellation"
AUTH_SCHEMES = ("IAF", "TOKEN")
# Search: the window runs 90 days from its start when no end is given, and may not start
# more than 18 months back; pages are numbered from 1.
DEFAULT_SPAN = timedelta(days=90)
MAX_LOOKBACK = timedelta(days=548)
DEFAULT_LIMIT, MAX_LIMIT = 25, 200
SORT_FIELDS = {
    "CANCEL_REQUEST_DATE": lambda r: (r.requested_at, r.cancel_id),
    "CANCEL_ID": lambda r: (int(r.cancel_id),),
}


def _require_token(authorization: Annotated[str | None, Header()] = None) -> None:
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.upper() not in AUTH_SCHEMES or not token.strip():
        raise Refusal(
            post_order_error(
                401,
                1001,
                "Invalid access token",
                {"Authorization": f"missing, or not {' or '.join(AUTH_SCHEMES)} <token>"},
                domain="OAuth",
            )
        )


# ---------------------------------------------------------------- wire shapes


def _date(moment: datetime | None) -> dict[str, str] | None:
    return None if moment is None else {"value": timestamp(moment)}


def cancellation_json(found: CancellationRecord) -> dict[str, Any]:
    """A CancelSummary, as search returns it (absent fields left out)."""
    summary: dict[str, Any] = {
        "cancelId": found.cancel_id,
        "marketplaceId": found.marketplace_id,
        "legacyOrderId": found.order.id,
        "requestorType": found.requestor,
        "cancelReason": found.reason,
        "cancelState": found.state,
        "cancelStatus": found.status,
        "cancelCloseReason": found.close_reason,
        "buyerLoginName": found.buyer_login_name,
        "sellerLoginName": "crossdock_seller",
        "paymentStatus": "PAID",
        "cancelRequestDate": _date(found.requested_at),
        "lastModifiedDate": _date(found.modified_at),
        "sellerResponseDueDate": _date(
            found.requested_at + SELLER_RESPONSE_TIME if found.pending else None
        ),
        "cancelCloseDate": _date(found.closed_at),
        "shipmentDate": _date(found.shipment_date),
        "lineItems": [
            {
                "itemId": line.legacy_item_id,
                "transactionId": line.line_item_id,
                "itemTitle": line.title,
                "cancelQuantity": line.quantity,
            }
            for line in found.order.lines
        ],
    }
    return {name: value for name, value in summary.items() if value is not None}


def fulfillment_cancel_status(record: OrderRecord, *, detail: bool) -> dict[str, Any]:
    """The Fulfillment API order's cancelStatus; getOrders always lists no requests."""
    requests = record.cancel_requests
    state = "NONE_REQUESTED"
    if record.canceled:
        state = "CANCELED"
    elif any(r.pending for r in requests):
        state = "IN_PROGRESS"
    shown = [_cancel_request_json(r) for r in requests] if detail else []
    return {"cancelState": state, "cancelRequests": shown}


def _cancel_request_json(found: CancellationRecord) -> dict[str, Any]:
    state = {"CANCEL_REJECTED": "REJECTED", "CANCEL_REQUESTED": "REQUESTED"}
    shaped = {
        "cancelInitiator": found.requestor.title(),
        "cancelReason": found.reason,
        "cancelRequestedDate": timestamp(found.requested_at),
        "cancelRequestId": found.cancel_id,
        "cancelRequestState": state.get(found.status, "COMPLETED"),
    }
    if found.status == "CANCEL_CLOSED_WITH_REFUND" and found.closed_at is not None:
        shaped["cancelCompletedDate"] = timestamp(found.closed_at)
    return shaped


# ---------------------------------------------------------------- request bodies


class BuyerCancelRequest(BaseModel):
    reason: str = Field(min_length=1)
    requestDate: datetime | None = None


class PostOrderDate(BaseModel):
    value: datetime


class CreateCancelRequest(BaseModel):
    """The seller's Create Cancellation Request (whole order)."""

    legacyOrderId: str = Field(min_length=1)
    cancelReason: str = Field(min_length=1)
    buyerPaid: bool | None = None
    buyerPaidDate: PostOrderDate | None = None


class RejectCancelRequest(BaseModel):
    """eBay requires a body, `{}` at the least; shipment details when it has shipped."""

    shipmentDate: PostOrderDate | None = None
    trackingNumber: str | None = Field(default=None, min_length=1)


# ---------------------------------------------------------------- search parameters


def _moment(name: str, text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        raise refuse(
            BAD_REQUEST,
            f"{name} {text!r} is not an ISO 8601 date-time with a time zone",
            400,
            **{name: text},
        )
    return moment


def _window(date_from: str | None, date_to: str | None) -> tuple[datetime, datetime] | None:
    if date_from is None:
        if date_to is not None:
            raise refuse(
                BAD_REQUEST, "creation_date_range_to needs creation_date_range_from as well"
            )
        return None
    start = _moment("creation_date_range_from", date_from)
    if start < datetime.now(UTC) - MAX_LOOKBACK:
        raise refuse(
            BAD_REQUEST,
            f"creation_date_range_from {date_from} is more than 18 months in the past",
            creation_date_range_from=date_from,
        )
    end = _moment("creation_date_range_to", date_to) if date_to else start + DEFAULT_SPAN
    if end < start:
        raise refuse(
            BAD_REQUEST,
            f"creation_date_range_to {date_to} is before creation_date_range_from {date_from}",
            creation_date_range_to=date_to or "",
        )
    return start, end


def _paging(limit: str | None, offset: str | None) -> tuple[int, int]:
    size, page = limit or str(DEFAULT_LIMIT), offset or "1"
    if not size.isdigit() or not 1 <= int(size) <= MAX_LIMIT:
        raise refuse(BAD_REQUEST, f"limit {size} must be 1 to {MAX_LIMIT}", limit=size)
    if not page.isdigit() or int(page) < 1:
        raise refuse(BAD_REQUEST, f"offset {page} must be a page number from 1", offset=page)
    return int(size), int(page)


def _sorted(found: list[CancellationRecord], sort: str | None) -> list[CancellationRecord]:
    # A "+" prefix arrives as a space when the client did not percent-encode it.
    text = (sort or "CANCEL_REQUEST_DATE").strip()
    descending = text.startswith("-")
    field = text.lstrip("+-").strip()
    if field not in SORT_FIELDS:
        raise refuse(
            BAD_REQUEST,
            f"sort {sort} is not one of {', '.join(SORT_FIELDS)} (with + or -)",
            sort=sort or "",
        )
    return sorted(found, key=SORT_FIELDS[field], reverse=descending)


def _search_body(found: list[CancellationRecord], size: int, page: int) -> dict[str, Any]:
    shown = found[(page - 1) * size : page * size]
    body: dict[str, Any] = {"cancellations": [cancellation_json(r) for r in shown]}
    if found:
        body["paginationOutput"] = {
            "limit": size,
            "offset": page,
            "totalEntries": len(found),
            "totalPages": -(-len(found) // size),
        }
    body["total"] = len(found)
    return body


def _record(ctx: SandboxContext, kind: str, found: CancellationRecord, **details: Any) -> None:
    ctx.ledger.record(
        partner="ebay", kind=kind, reference=found.cancel_id, order=found.order.id, **details
    )


# ---------------------------------------------------------------- routes


def _admin_routes(router: APIRouter, cancellations: EbayCancellations) -> None:
    @router.post("/ebay/_sandbox/orders/{order_id}/buyer-cancel")
    async def request_cancellation(order_id: str, request: BuyerCancelRequest) -> Response:
        """The buyer asks to cancel in My eBay (not a Post-Order operation for sellers)."""
        found, created = cancellations.request(order_id, request.reason, request.requestDate)
        return JSONResponse(cancellation_json(found), status_code=201 if created else 200)


def _seller_routes(
    router: APIRouter, cancellations: EbayCancellations, ctx: SandboxContext
) -> None:
    auth = [Depends(_require_token)]

    @router.get(f"{API}/search", dependencies=auth)
    async def search_cancellations(
        cancel_id: str | None = None,
        creation_date_range_from: str | None = None,
        creation_date_range_to: str | None = None,
        legacy_order_id: str | None = None,
        limit: str | None = None,
        offset: str | None = None,
        sort: str | None = None,
    ) -> Any:
        """Search Cancellations: by id, or by order and request-date window, paginated."""
        size, page = _paging(limit, offset)
        if cancel_id:  # eBay ignores every other criterion then
            found = [r for r in cancellations.requests.values() if r.cancel_id == cancel_id]
            return _search_body(found, size, page)
        window = _window(creation_date_range_from, creation_date_range_to)
        found = [
            r
            for r in cancellations.requests.values()
            if (legacy_order_id is None or r.order.id == legacy_order_id)
            and (window is None or window[0] <= r.requested_at <= window[1])
        ]
        return _search_body(_sorted(found, sort), size, page)

    _answer_routes(router, cancellations, ctx, auth)


def _answer_routes(
    router: APIRouter, cancellations: EbayCancellations, ctx: SandboxContext, auth: list[Any]
) -> None:
    """The seller's answers: cancel an order, approve or reject a buyer's request."""

    @router.post(API, status_code=201, dependencies=auth)
    async def create_cancellation(body: CreateCancelRequest) -> Any:
        """Create Cancellation Request by the seller: eBay cancels and refunds at once."""
        found = cancellations.seller_cancel(body.legacyOrderId, body.cancelReason)
        _record(ctx, "seller_cancellation", found, reason=found.reason)
        return {"cancelId": found.cancel_id}

    @router.post(f"{API}/{{cancel_id}}/approve", dependencies=auth)
    async def approve_cancellation(cancel_id: str) -> Response:
        """Approve Cancellation: eBay cancels the order and refunds the buyer (200, no body)."""
        found = cancellations.approve(cancel_id)
        _record(ctx, "cancellation_approved", found, reason=found.reason)
        return Response(status_code=200)

    @router.post(f"{API}/{{cancel_id}}/reject", dependencies=auth)
    async def reject_cancellation(cancel_id: str, body: RejectCancelRequest) -> Response:
        """Reject Cancellation: the order goes ahead (200, no body)."""
        shipped = body.shipmentDate.value if body.shipmentDate else None
        found = cancellations.reject(cancel_id, shipped, body.trackingNumber)
        _record(
            ctx,
            "cancellation_rejected",
            found,
            tracking_number=body.trackingNumber,
            shipment_date=shipped.isoformat() if shipped else None,
        )
        return Response(status_code=200)


def add_routes(router: APIRouter, orders: EbayOrders, ctx: SandboxContext) -> None:
    """Add the Post-Order cancellation routes to the eBay router (same order book)."""
    cancellations = EbayCancellations(orders)
    _admin_routes(router, cancellations)
    _seller_routes(router, cancellations, ctx)
