"""Amazon A-to-z Guarantee claims, as they reach a seller, on the sandbox's Amazon order book.

SP-API publishes no claims API: sellers see A-to-z claims in Seller Central (and by
e-mail), with a claim id, the order id, the claim type, the amount, the buyer's reason
and a respond-by date, and answer there with a representation (tracking, a note) or a
refund. This module *models* that surface as a small JSON API in SP-API's conventions
(`x-amz-access-token`, `{"errors": [...]}`, Money as CurrencyCode/Amount, ISO dates):

    GET  /amazon/atoz/v0/claims?claimStatuses=             the seller's claims, newest first
    GET  /amazon/atoz/v0/claims/{claimId}
    POST /amazon/atoz/v0/claims/{claimId}/representation   {carrierCode, trackingNumber, note}
    POST /amazon/atoz/v0/claims/{claimId}/refund           {note}
    POST /amazon/_sandbox/claims                 a buyer files a claim on a shipped order
    POST /amazon/_sandbox/claims/{claimId}/decide  Amazon decides: SELLER or BUYER

Statuses: ACTION_REQUIRED (the seller must answer by `respondByDate`), UNDER_REVIEW
(answered, Amazon investigating), CLOSED with `decision` GRANTED (the buyer is paid,
charged to the seller: lost), DENIED (seller won) or WITHDRAWN. A claim left unanswered
past its respond-by date is granted. Answers are once-only by the claim's state.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from crossdock.money import Money
from crossdock.sandbox.amazon.orders import AmazonOrders, invalid, iso, sp_api_error
from crossdock.sandbox.context import SandboxContext
from crossdock.sandbox.core.routes import Refusal
from crossdock.sandbox.core.store import Table

PARTNER = "amazon"
API = "/amazon/atoz/v0/claims"
CLAIM_TYPES = ("ITEM_NOT_RECEIVED", "NOT_AS_DESCRIBED", "RETURN_NOT_REFUNDED")


@dataclass
class ClaimRecord:
    claim_id: str
    order_id: str
    marketplace_id: str
    claim_type: str
    reason: str
    amount: Money
    filed: datetime
    respond_by: datetime
    status: str = "ACTION_REQUIRED"
    seller_response: str = ""
    tracking: str = ""
    carrier: str = ""
    decision: str = ""


def _money(money: Money) -> dict[str, str]:
    return {"CurrencyCode": money.currency, "Amount": money.to_decimal_string()}


def claim_json(claim: ClaimRecord) -> dict[str, Any]:
    body: dict[str, Any] = {
        "ClaimId": claim.claim_id,
        "AmazonOrderId": claim.order_id,
        "MarketplaceId": claim.marketplace_id,
        "ClaimType": claim.claim_type,
        "ClaimReason": claim.reason,
        "ClaimAmount": _money(claim.amount),
        "FiledDate": iso(claim.filed),
        "RespondByDate": iso(claim.respond_by),
        "ClaimStatus": claim.status,
    }
    if claim.seller_response:
        body["SellerResponse"] = {
            "ResponseType": claim.seller_response,
            "CarrierCode": claim.carrier,
            "TrackingNumber": claim.tracking,
        }
    if claim.decision:
        body["Decision"] = claim.decision
    return body


class FileClaim(BaseModel):
    order_id: str = Field(min_length=1)
    claim_type: str = "ITEM_NOT_RECEIVED"
    reason: str = "The buyer reports the package never arrived."
    respond_within_days: float = Field(default=3, gt=0)


class Decide(BaseModel):
    winner: str


class Representation(BaseModel):
    carrierCode: str = Field(min_length=1)
    trackingNumber: str = Field(min_length=1)
    note: str = Field(default="", max_length=2000)


class RefundNote(BaseModel):
    note: str = Field(default="", max_length=2000)


def _not_found(claim_id: str) -> Refusal:
    return Refusal(sp_api_error(404, "NotFound", f"No A-to-z claim with ClaimId {claim_id!r}"))


class AtozClaims:
    def __init__(self, ctx: SandboxContext, orders: AmazonOrders) -> None:
        self.ctx = ctx
        self.orders = orders
        self.records: Table[ClaimRecord] = ctx.store.table("amazon", "atoz_claim", ClaimRecord)
        self._ids = ctx.store.counter("amazon", "atoz_claim", 70_000_001)

    def get(self, claim_id: str) -> ClaimRecord:
        claim = self.records.get(claim_id)
        if claim is None:
            raise _not_found(claim_id)
        if claim.status == "ACTION_REQUIRED" and datetime.now(UTC) > claim.respond_by:
            claim.status, claim.decision = "CLOSED", "GRANTED"  # unanswered: the buyer is paid
        return claim

    def file(self, request: FileClaim) -> ClaimRecord:
        if request.claim_type not in CLAIM_TYPES:
            raise invalid(f"claim_type {request.claim_type!r}: use one of {', '.join(CLAIM_TYPES)}")
        record = self.orders.get(request.order_id)
        if record.status not in ("Shipped", "PartiallyShipped"):
            raise invalid(f"Order {request.order_id!r} is {record.status}: no claim on it yet")
        now = datetime.now(UTC)
        claim = ClaimRecord(
            claim_id=f"AZ-{next(self._ids)}",
            order_id=record.id,
            marketplace_id=record.marketplace_id,
            claim_type=request.claim_type,
            reason=request.reason,
            amount=record.order.order_total,
            filed=now,
            respond_by=now + timedelta(days=request.respond_within_days),
        )
        self.records[claim.claim_id] = claim
        self._record("atoz_claim_filed", claim)
        return claim

    def _awaiting_seller(self, claim: ClaimRecord) -> None:
        if claim.status != "ACTION_REQUIRED":
            raise invalid(
                f"Claim {claim.claim_id} is {claim.status}"
                + (f" ({claim.seller_response or claim.decision})" if claim.decision else "")
                + ": no seller response is possible"
            )

    def represent(self, claim_id: str, body: Representation) -> ClaimRecord:
        claim = self.get(claim_id)
        self._awaiting_seller(claim)
        claim.seller_response, claim.status = "REPRESENTATION", "UNDER_REVIEW"
        claim.carrier, claim.tracking = body.carrierCode, body.trackingNumber
        self._record("atoz_representation", claim, tracking=body.trackingNumber)
        return claim

    def refund(self, claim_id: str) -> ClaimRecord:
        claim = self.get(claim_id)
        self._awaiting_seller(claim)
        claim.seller_response = "REFUND"
        claim.status, claim.decision = "CLOSED", "GRANTED"
        self._record("atoz_refund", claim)
        return claim

    def decide(self, claim_id: str, winner: str) -> ClaimRecord:
        claim = self.get(claim_id)
        if winner not in ("SELLER", "BUYER"):
            raise invalid(f"winner {winner!r}: use SELLER or BUYER")
        if claim.status != "UNDER_REVIEW":
            raise invalid(f"Amazon decides after the seller answers; the claim is {claim.status}")
        claim.status, claim.decision = "CLOSED", "DENIED" if winner == "SELLER" else "GRANTED"
        self._record(f"atoz_{winner.lower()}_won", claim)
        return claim

    def listed(self, statuses: str | None) -> list[ClaimRecord]:
        wanted = set(statuses.split(",")) if statuses else None
        found = [self.get(claim_id) for claim_id in self.records]
        return sorted(
            (c for c in found if wanted is None or c.status in wanted),
            key=lambda c: c.filed,
            reverse=True,
        )

    def _record(self, kind: str, claim: ClaimRecord, **details: Any) -> None:
        self.ctx.ledger.record(
            PARTNER,
            kind,
            claim.claim_id,
            money=claim.amount,
            order=claim.order_id,
            status=claim.status,
            **details,
        )


def add_routes(
    router: APIRouter, orders: AmazonOrders, ctx: SandboxContext, auth: list[Any]
) -> None:
    """The modelled A-to-z claim routes on the Amazon router (sharing its order book)."""
    claims = AtozClaims(ctx, orders)
    deps = [Depends(dep) for dep in auth]

    @router.get(API, dependencies=deps)
    async def list_claims(claimStatuses: str | None = None) -> JSONResponse:
        """The seller's A-to-z claims, newest first."""
        return JSONResponse(
            {"payload": {"Claims": [claim_json(c) for c in claims.listed(claimStatuses)]}}
        )

    @router.get(f"{API}/{{claim_id}}", dependencies=deps)
    async def get_claim(claim_id: str) -> JSONResponse:
        """One claim."""
        return JSONResponse({"payload": claim_json(claims.get(claim_id))})

    @router.post(f"{API}/{{claim_id}}/representation", dependencies=deps)
    async def represent(claim_id: str, body: Representation) -> JSONResponse:
        """The seller represents (contests) with tracking; Amazon reviews."""
        return JSONResponse({"payload": claim_json(claims.represent(claim_id, body))})

    @router.post(f"{API}/{{claim_id}}/refund", dependencies=deps)
    async def refund(claim_id: str, body: RefundNote) -> JSONResponse:
        """The seller refunds the buyer; the claim closes granted."""
        return JSONResponse({"payload": claim_json(claims.refund(claim_id))})

    @router.post("/amazon/_sandbox/claims")
    async def file_claim(body: FileClaim) -> JSONResponse:
        """Sandbox: a buyer files an A-to-z claim on a shipped order."""
        return JSONResponse({"payload": claim_json(claims.file(body))})

    @router.post("/amazon/_sandbox/claims/{claim_id}/decide")
    async def decide(claim_id: str, body: Decide) -> JSONResponse:
        """Sandbox: Amazon decides a claim the seller has answered."""
        return JSONResponse({"payload": claim_json(claims.decide(claim_id, body.winner))})
