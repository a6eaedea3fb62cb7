"""eBay Post-Order API v2, returns: buyers' return requests as the seller searches them.

    GET /ebay/post-order/v2/return/search?creation_date_range_from=...&offset=&limit=
        -> {"members": [ReturnSummary...], "paginationOutput": {...}}

Buyers open returns through the admin route `POST /ebay/_sandbox/orders/{id}/buyer-return`
({"lineItemId", "quantity", "reason": a ReturnReasonEnum value, "comments"}). A summary's
`creationInfo.item` names the listing (`itemId`) and the order line (`transactionId`, the
Fulfillment API's lineItemId in this sandbox). Same `IAF <token>` authentication and
Post-Order DateTime objects as the cancellations. The seller's answers (approve, issue
refund, return label through eBay) are not simulated: Crossdock refunds through the
Fulfillment API's issueRefund and labels through its own carrier.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

from crossdock.sandbox.context import SandboxContext
from crossdock.sandbox.core.store import Table
from crossdock.sandbox.ebay.orders import EbayOrders
from crossdock.sandbox.ebay.orders import refuse_post_order as refuse
from crossdock.sandbox.ebay.post_order import _require_token
from crossdock.sandbox.ebay.records import timestamp

API = "/ebay/post-order/v2/return"
# ReturnReasonEnum values buyers pick most.
RETURN_REASONS = frozenset(
    {
        "ARRIVED_DAMAGED",
        "DEFECTIVE_ITEM",
        "NOT_AS_DESCRIBED",
        "WRONG_ITEM",
        "MISSING_PARTS",
        "NO_LONGER_NEED",
        "ORDERED_ACCIDENTALLY",
        "FOUND_BETTER_PRICE",
        "DOES_NOT_FIT",
    }
)
INVALID_RETURN = 32900  # this simulator's error id for a return eBay would refuse
DEFAULT_LIMIT, MAX_LIMIT = 25, 200


class BuyerReturn(BaseModel):
    lineItemId: str = Field(min_length=1)
    quantity: int = Field(default=1, gt=0)
    reason: str = Field(min_length=1)
    comments: str = Field(default="", max_length=1000)


@dataclass
class ReturnRecord:
    return_id: str
    order_id: str
    item_id: str
    transaction_id: str
    quantity: int
    reason: str
    comments: str
    created_at: datetime
    buyer: str

    def as_json(self) -> dict[str, Any]:
        remorse = self.reason in {"NO_LONGER_NEED", "ORDERED_ACCIDENTALLY", "FOUND_BETTER_PRICE"}
        return {
            "returnId": self.return_id,
            "orderId": self.order_id,
            "buyerLoginName": self.buyer,
            "sellerLoginName": "crossdock_seller",
            "currentType": "MONEY_BACK",
            "state": "RETURN_REQUESTED",
            "status": "RETURN_REQUESTED",
            "creationInfo": {
                "item": {
                    "itemId": self.item_id,
                    "transactionId": self.transaction_id,
                    "returnQuantity": self.quantity,
                },
                "type": "MONEY_BACK",
                "reason": self.reason,
                "reasonType": "REMORSE" if remorse else "SNAD",
                "comments": {"content": self.comments},
                "creationDate": {"value": timestamp(self.created_at)},
            },
        }


class EbayReturnRequests:
    def __init__(self, orders: EbayOrders) -> None:
        self.orders = orders
        self.returns: Table[ReturnRecord] = orders.store.table("ebay", "return", ReturnRecord)
        self._ids = orders.store.counter("ebay", "return", 5_000_000_001)

    def open(self, order_id: str, request: BuyerReturn) -> ReturnRecord:
        record = self.orders.get(order_id)
        if request.reason not in RETURN_REASONS:
            raise refuse(
                INVALID_RETURN,
                f"reason {request.reason!r} is not one of {', '.join(sorted(RETURN_REASONS))}",
                reason=request.reason,
            )
        line = next((x for x in record.lines if x.line_item_id == request.lineItemId), None)
        if line is None or request.quantity > line.quantity:
            raise refuse(
                INVALID_RETURN,
                f"lineItemId {request.lineItemId} with quantity {request.quantity} is not a "
                f"line of order {order_id}",
                lineItemId=request.lineItemId,
            )
        found = ReturnRecord(
            return_id=str(next(self._ids)),
            order_id=order_id,
            item_id=line.legacy_item_id,
            transaction_id=line.line_item_id,
            quantity=request.quantity,
            reason=request.reason,
            comments=request.comments,
            created_at=datetime.now(UTC),
            buyer=f"buyer_{order_id.replace('-', '')[-6:]}",
        )
        self.returns[found.return_id] = found
        return found

    def search(self, created_from: datetime | None, offset: int, limit: int) -> dict[str, Any]:
        matching = [
            r
            for r in sorted(self.returns.peek(), key=lambda r: r.return_id)
            if created_from is None or r.created_at >= created_from
        ]
        page = matching[offset : offset + limit]
        return {
            "members": [r.as_json() for r in page],
            "paginationOutput": {
                "offset": offset,
                "limit": limit,
                "totalEntries": len(matching),
                "totalPages": max(1, -(-len(matching) // limit)),
            },
        }


def _when(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise refuse(
            INVALID_RETURN,
            f"creation_date_range_from {value!r} is not an ISO 8601 time such as "
            "2026-11-02T09:30:00.000Z",
            creation_date_range_from=value,
        ) from None


def add_routes(router: APIRouter, orders: EbayOrders, ctx: SandboxContext) -> None:
    """Add the Post-Order return routes to the eBay router (same order book)."""
    requests = EbayReturnRequests(orders)

    @router.post("/ebay/_sandbox/orders/{order_id}/buyer-return", status_code=201)
    async def buyer_return(order_id: str, request: BuyerReturn) -> Any:
        """A buyer asks to return a line (not a Post-Order operation)."""
        found = requests.open(order_id, request)
        ctx.ledger.record(
            partner="ebay",
            kind="return_requested",
            reference=order_id,
            return_id=found.return_id,
            line_item_id=found.transaction_id,
            quantity=found.quantity,
            reason=found.reason,
        )
        return found.as_json()

    @router.get(f"{API}/search", dependencies=[Depends(_require_token)])
    async def search_returns(
        creation_date_range_from: str | None = None,
        offset: int = 0,
        limit: int = DEFAULT_LIMIT,
    ) -> Any:
        """Search returns, oldest first, by creation date."""
        return requests.search(
            _when(creation_date_range_from), max(offset, 0), min(max(limit, 1), MAX_LIMIT)
        )
