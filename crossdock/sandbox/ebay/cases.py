"""eBay Post-Order API v2 case management: INR and return (SNAD) cases against the seller,
in eBay's field names, on the sandbox's eBay order book:

    GET  /ebay/post-order/v2/casemanagement/search?case_status_filter=&limit=&offset=
    GET  /ebay/post-order/v2/casemanagement/{caseId}
    POST /ebay/post-order/v2/casemanagement/{caseId}/provide_shipment_info
         {shippingCarrierName, trackingNumber}                      the seller's tracking
    POST /ebay/post-order/v2/casemanagement/{caseId}/issue_refund   {comments: {content}}
    POST /ebay/post-order/v2/casemanagement/{caseId}/appeal         {comments: {content}}
    POST /ebay/_sandbox/cases                   a buyer opens a case on a shipped order
    POST /ebay/_sandbox/cases/{caseId}/decide   eBay decides: SELLER or BUYER

A case waits for the seller (`OPEN`, `respondByDate`); after the seller's shipment info
it waits for eBay (`WAITING_CS`), which decides (`CLOSED`, the closure reason from
CaseCloseReasonEnum). A case left unanswered past its `respondByDate` closes for the
buyer. `issue_refund` refunds the claim amount and closes the case; `appeal` reopens a
case closed for the buyer, once. eBay takes no idempotency key here: an answer is
once-only by the case's state, and the ledger proves it.

eBay's case shape names the line (`itemId`, `transactionId`), not the order, and so does
the sandbox's: a client finds the order through the line (Fulfillment `legacyItemId`,
`lineItemId`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import APIRouter, Depends, Query
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from crossdock.money import Money
from crossdock.sandbox.context import SandboxContext
from crossdock.sandbox.core.routes import Refusal
from crossdock.sandbox.core.store import Table
from crossdock.sandbox.ebay.orders import EbayOrders, post_order_error
from crossdock.sandbox.ebay.orders import refuse_post_order as refuse
from crossdock.sandbox.ebay.post_order import _require_token
from crossdock.sandbox.ebay.records import timestamp

PARTNER = "ebay"
API = "/ebay/post-order/v2/casemanagement"
CASE_TYPES = ("ITEM_NOT_RECEIVED", "RETURN")
# CaseCloseReasonEnum values the sandbox closes with, by who won.
SELLER_WINS = "AGENT_CLOSE_FOR_SELLER"
BUYER_WINS = "AGENT_CLOSE_FOR_BUYER"
REFUNDED = "BUYER_REFUNDED"
EXPIRED = "AUTO_DISPOSE_BUYER_WIN_NO_SELLER_FAULT"


@dataclass
class CaseRecord:
    case_id: str
    case_type: str
    order_id: str
    item_id: str
    transaction_id: str
    buyer: str
    amount: Money
    opened: datetime
    respond_by: datetime
    status: str = "OPEN"
    carrier: str = ""
    tracking: str = ""
    seller_responded: datetime | None = None
    closure_reason: str = ""
    appealed: bool = False


def _amount(money: Money) -> dict[str, Any]:
    """A Post-Order Amount: its `value` is a JSON number (typed double on eBay's Amount
    page), unlike the Sell APIs' decimal strings."""
    exact = money.to_decimal()
    value = int(exact) if exact == exact.to_integral_value() else float(exact)
    return {"value": value, "currency": money.currency}


def _date(moment: datetime) -> dict[str, str]:
    return {"value": timestamp(moment)}


def summary_json(case: CaseRecord) -> dict[str, Any]:
    """A CaseSummaryType, as search returns it."""
    body: dict[str, Any] = {
        "caseId": case.case_id,
        "caseType": case.case_type,
        "caseStatusEnum": case.status,
        "buyer": case.buyer,
        "itemId": case.item_id,
        "transactionId": case.transaction_id,
        "claimAmount": _amount(case.amount),
        "creationDate": _date(case.opened),
        "lastModifiedDate": _date(case.seller_responded or case.opened),
    }
    if case.status == "OPEN":
        body["respondByDate"] = _date(case.respond_by)
    return body


def case_json(case: CaseRecord) -> dict[str, Any]:
    """A CaseDetailsResponse (the fields the sandbox keeps)."""
    body = summary_json(case)
    body["status"] = body.pop("caseStatusEnum")
    details: dict[str, Any] = {
        "creationDate": _date(case.opened),
        "expirationDate": _date(case.respond_by),
    }
    if case.seller_responded is not None:
        details["lastSellerRespDate"] = _date(case.seller_responded)
    body["caseDetails"] = details
    if case.tracking:
        body["shipmentTrackingDetails"] = {"carrier": case.carrier, "trackingNumber": case.tracking}
    if case.closure_reason:
        body["buyerClosureReason"] = case.closure_reason
    if case.appealed:
        body["appealDetails"] = {"appealStatusEnum": "WAITING_FOR_DECISION"}
    return body


class OpenCase(BaseModel):
    order_id: str = Field(min_length=1)
    case_type: str = "ITEM_NOT_RECEIVED"
    respond_within_days: float = Field(default=3, gt=0)


class Decide(BaseModel):
    winner: str


class Comments(BaseModel):
    content: str = Field(default="", max_length=1000)


class ShipmentInfo(BaseModel):
    shippingCarrierName: str = Field(min_length=1)
    trackingNumber: str = Field(min_length=1)


class CommentsRequest(BaseModel):
    comments: Comments | None = None


class EbayCases:
    def __init__(self, ctx: SandboxContext, orders: EbayOrders) -> None:
        self.ctx = ctx
        self.orders = orders
        self.records: Table[CaseRecord] = orders.store.table("ebay", "case", CaseRecord)
        self._ids = orders.store.counter("ebay", "case", 5_100_000_001)

    def get(self, case_id: str) -> CaseRecord:
        case = self.records.get(case_id)
        if case is None:
            raise Refusal(
                post_order_error(404, 1701, "The case ID is invalid", {"caseId": case_id})
            )
        self._expire(case)
        return case

    def _expire(self, case: CaseRecord) -> None:
        """eBay closes a case for the buyer when the seller lets its respond-by date pass."""
        if case.status == "OPEN" and datetime.now(UTC) > case.respond_by:
            self._close(case, EXPIRED)

    def open(self, request: OpenCase) -> CaseRecord:
        if request.case_type not in CASE_TYPES:
            raise refuse(1702, f"case_type {request.case_type!r}: use {' or '.join(CASE_TYPES)}")
        record = self.orders.get(request.order_id)
        if record.status == "NOT_STARTED":
            raise refuse(1703, f"order {request.order_id} has not shipped: no case can be opened")
        now = datetime.now(UTC)
        line = record.lines[0]
        case = CaseRecord(
            case_id=str(next(self._ids)),
            case_type=request.case_type,
            order_id=record.id,
            item_id=line.legacy_item_id,
            transaction_id=line.line_item_id,
            buyer=record.order.buyer.name.split()[0].lower(),
            amount=record.order.order_total,
            opened=now,
            respond_by=now + timedelta(days=request.respond_within_days),
        )
        self.records[case.case_id] = case
        self._record("case_opened", case)
        return case

    def _awaiting_seller(self, case: CaseRecord, action: str) -> None:
        if case.status != "OPEN":
            raise refuse(
                1704,
                f"{action} is not available: the case is {case.status}"
                + (f" ({case.closure_reason})" if case.closure_reason else ""),
                caseId=case.case_id,
            )

    def provide_shipment_info(self, case_id: str, info: ShipmentInfo) -> None:
        case = self.get(case_id)
        self._awaiting_seller(case, "provide_shipment_info")
        case.carrier, case.tracking = info.shippingCarrierName, info.trackingNumber
        case.seller_responded, case.status = datetime.now(UTC), "WAITING_CS"
        self._record("case_shipment_info", case, tracking=info.trackingNumber)

    def issue_refund(self, case_id: str) -> None:
        case = self.get(case_id)
        self._awaiting_seller(case, "issue_refund")
        case.seller_responded = datetime.now(UTC)
        self._close(case, REFUNDED)
        self._record("case_refund", case)

    def appeal(self, case_id: str) -> None:
        case = self.get(case_id)
        if case.status != "CLOSED" or case.closure_reason == SELLER_WINS or case.appealed:
            raise refuse(1705, f"the case is not eligible for appeal ({case.closure_reason})")
        case.appealed, case.status, case.closure_reason = True, "WAITING_CS", ""
        self._record("case_appeal", case)

    def decide(self, case_id: str, winner: str) -> CaseRecord:
        case = self.get(case_id)
        if winner not in ("SELLER", "BUYER"):
            raise refuse(1702, f"winner {winner!r}: use SELLER or BUYER")
        if case.status != "WAITING_CS":
            raise refuse(1704, f"eBay decides after the seller answers; the case is {case.status}")
        self._close(case, SELLER_WINS if winner == "SELLER" else BUYER_WINS)
        self._record(f"case_{winner.lower()}_won", case)
        return case

    def _close(self, case: CaseRecord, reason: str) -> None:
        case.status, case.closure_reason = "CLOSED", reason

    def search(self, status: str | None) -> list[CaseRecord]:
        wanted = set(status.split(",")) if status else None
        found = [self.get(case_id) for case_id in self.records]
        return [c for c in found if wanted is None or c.status in wanted]

    def _record(self, kind: str, case: CaseRecord, **details: Any) -> None:
        self.ctx.ledger.record(
            PARTNER,
            kind,
            case.case_id,
            money=case.amount,
            order=case.order_id,
            status=case.status,
            **details,
        )


def _search_json(found: list[CaseRecord], limit: int, offset: int) -> dict[str, Any]:
    """One page (numbered from 1) of a case search's results."""
    page = found[(offset - 1) * limit : offset * limit]
    return {
        "members": [summary_json(c) for c in page],
        "paginationOutput": {
            "limit": limit,
            "offset": offset,
            "totalEntries": len(found),
            "totalPages": max(1, -(-len(found) // limit)),
        },
        "totalNumberOfCases": len(found),
    }


def add_routes(router: APIRouter, orders: EbayOrders, ctx: SandboxContext) -> None:
    """Case management routes on the eBay router (sharing its order book)."""
    cases = EbayCases(ctx, orders)
    auth = [Depends(_require_token)]

    @router.get(f"{API}/search", dependencies=auth)
    async def search_cases(
        case_status_filter: str | None = None,
        limit: int = Query(default=25, ge=1, le=200),
        offset: int = Query(default=1, ge=1),
    ) -> JSONResponse:
        """Search cases (newest first); pages are numbered from 1."""
        found = sorted(cases.search(case_status_filter), key=lambda c: c.opened, reverse=True)
        return JSONResponse(_search_json(found, limit, offset))

    @router.get(f"{API}/{{case_id}}", dependencies=auth)
    async def get_case(case_id: str) -> JSONResponse:
        """Get Case."""
        return JSONResponse(case_json(cases.get(case_id)))

    @router.post(f"{API}/{{case_id}}/provide_shipment_info", dependencies=auth)
    async def provide_shipment_info(case_id: str, body: ShipmentInfo) -> JSONResponse:
        """Provide Case Shipment Info: the seller's tracking as evidence."""
        cases.provide_shipment_info(case_id, body)
        return JSONResponse({})

    @router.post(f"{API}/{{case_id}}/issue_refund", dependencies=auth)
    async def issue_refund(case_id: str, body: CommentsRequest) -> JSONResponse:
        """Issue Case Refund: the buyer gets the claim amount back; the case closes."""
        cases.issue_refund(case_id)
        return JSONResponse({"refundResult": {"refundSource": "EBAY", "refundStatus": "SUCCESS"}})

    @router.post(f"{API}/{{case_id}}/appeal", dependencies=auth)
    async def appeal(case_id: str, body: CommentsRequest) -> JSONResponse:
        """Appeal Case Decision (a case closed for the buyer, once)."""
        cases.appeal(case_id)
        return JSONResponse({})

    _sandbox_routes(router, cases)


def _sandbox_routes(router: APIRouter, cases: EbayCases) -> None:
    """Controls eBay does not offer sellers: the buyer opens a case, eBay decides it."""

    @router.post("/ebay/_sandbox/cases")
    async def open_case(body: OpenCase) -> JSONResponse:
        """Sandbox: the buyer opens an INR or return case on a shipped order."""
        return JSONResponse(case_json(cases.open(body)))

    @router.post("/ebay/_sandbox/cases/{case_id}/decide")
    async def decide(case_id: str, body: Decide) -> JSONResponse:
        """Sandbox: eBay decides a case the seller has answered."""
        return JSONResponse(case_json(cases.decide(case_id, body.winner)))
