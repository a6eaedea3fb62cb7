"""eBay payment disputes (Sell Fulfillment API `payment_dispute` resource) on the sandbox's
eBay order book, with eBay's field names and enumerations:

    GET  /ebay/sell/fulfillment/v1/payment_dispute/{payment_dispute_id}
    GET  /ebay/sell/fulfillment/v1/payment_dispute_summary?order_id=&payment_dispute_status=
    POST /ebay/sell/fulfillment/v1/payment_dispute/{id}/contest   {revision, note, returnAddress}
    POST /ebay/sell/fulfillment/v1/payment_dispute/{id}/accept    {revision, returnAddress}
    POST /ebay/_sandbox/payment_disputes              the buyer disputes an order's payment
    POST /ebay/_sandbox/payment_disputes/{id}/resolve eBay decides: SELLER_WON | SELLER_LOST

Statuses are `DisputeStateEnum` (ACTION_NEEDED while the seller must answer, OPEN after,
CLOSED with `resolution.reasonForClosure` from `OutcomeEnum`), reasons `DisputeReasonEnum`.
`revision` guards every answer as at eBay: answering an older revision is refused. A
SIGNIFICANTLY_NOT_AS_DESCRIBED contest needs a return address. Evidence files
(`add_evidence`, `upload_evidence_file`) are not simulated. eBay takes no idempotency
key: an answer is once-only by the dispute's state, and the ledger proves it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import APIRouter, Query
from fastapi.params import Depends
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field

from crossdock.money import Money
from crossdock.sandbox.context import SandboxContext
from crossdock.sandbox.core.routes import Refusal
from crossdock.sandbox.core.store import Table
from crossdock.sandbox.ebay.orders import EbayOrders, ebay_error, refuse
from crossdock.sandbox.ebay.records import timestamp

PARTNER = "ebay"
REASONS = (
    "ITEM_NOT_RECEIVED",
    "SIGNIFICANTLY_NOT_AS_DESCRIBED",
    "FRAUD",
    "CREDIT_NOT_PROCESSED",
    "COUNTERFEIT",
    "DUPLICATE_AMOUNT",
    "INCORRECT_AMOUNT",
    "TRANSACTION_ISSUE",
)
OUTCOMES = ("SELLER_WON", "SELLER_LOST")


@dataclass
class PaymentDisputeRecord:
    id: str
    order_id: str
    reason: str
    amount: Money
    buyer: str
    opened: datetime
    respond_by: datetime
    status: str = "ACTION_NEEDED"
    revision: int = 1
    seller_response: str | None = None
    note: str = ""
    closed: datetime | None = None
    outcome: str | None = None


def _amount(money: Money) -> dict[str, str]:
    return {"value": money.to_decimal_string(), "currency": money.currency}


def summary_json(record: PaymentDisputeRecord) -> dict[str, Any]:
    body: dict[str, Any] = {
        "paymentDisputeId": record.id,
        "paymentDisputeStatus": record.status,
        "reason": record.reason,
        "amount": _amount(record.amount),
        "orderId": record.order_id,
        "buyerUsername": record.buyer,
        "openDate": timestamp(record.opened),
    }
    if record.status == "ACTION_NEEDED":
        body["respondByDate"] = timestamp(record.respond_by)
    if record.closed is not None:
        body["closedDate"] = timestamp(record.closed)
    return body


def dispute_json(record: PaymentDisputeRecord) -> dict[str, Any]:
    body = {**summary_json(record), "revision": record.revision}
    if record.status == "ACTION_NEEDED":
        body["availableChoices"] = ["CONTEST", "ACCEPT"]
    if record.seller_response:
        body["sellerResponse"] = record.seller_response
    if record.outcome:
        body["resolution"] = {"reasonForClosure": record.outcome}
    return body


class OpenPaymentDispute(BaseModel):
    order_id: str = Field(min_length=1)
    reason: str = "ITEM_NOT_RECEIVED"
    respond_within_days: float = Field(default=7, gt=0)


class Resolve(BaseModel):
    outcome: str


class ReturnAddress(BaseModel):
    fullName: str = ""
    addressLine1: str = ""
    city: str = ""
    postalCode: str = ""
    country: str = ""


class ContestRequest(BaseModel):
    revision: int
    note: str | None = Field(default=None, max_length=1000)
    returnAddress: ReturnAddress | None = None


class AcceptRequest(BaseModel):
    revision: int
    returnAddress: ReturnAddress | None = None


class PaymentDisputes:
    def __init__(self, ctx: SandboxContext, orders: EbayOrders) -> None:
        self.ctx = ctx
        self.orders = orders
        self.records: Table[PaymentDisputeRecord] = orders.store.table(
            "ebay", "payment_dispute", PaymentDisputeRecord
        )
        self._ids = orders.store.counter("ebay", "payment_dispute", 5_000_000_001)

    def get(self, dispute_id: str) -> PaymentDisputeRecord:
        found = self.records.get(dispute_id)
        if found is None:
            raise Refusal(
                ebay_error(
                    404, 33001, "Invalid Payment Dispute Id", {"payment_dispute_id": dispute_id}
                )
            )
        return found

    def open(self, request: OpenPaymentDispute) -> PaymentDisputeRecord:
        if request.reason not in REASONS:
            raise refuse(32600, f"reason {request.reason!r}: use one of {', '.join(REASONS)}")
        order = self.orders.get(request.order_id)
        now = datetime.now(UTC)
        record = PaymentDisputeRecord(
            id=str(next(self._ids)),
            order_id=request.order_id,
            reason=request.reason,
            amount=order.order.order_total,
            buyer=order.order.buyer.name.split()[0].lower(),
            opened=now,
            respond_by=now + timedelta(days=request.respond_within_days),
        )
        self.records[record.id] = record
        self._record("payment_dispute", record)
        return record

    def answer(self, dispute_id: str, choice: str, revision: int, has_address: bool) -> None:
        record = self.get(dispute_id)
        if record.status != "ACTION_NEEDED":
            raise refuse(
                33002,
                f"No seller action is available: the dispute is {record.status}"
                + (f" ({record.seller_response})" if record.seller_response else ""),
            )
        if revision != record.revision:
            raise refuse(
                33003,
                f"revision {revision} is not the latest ({record.revision})",
                revision=str(revision),
            )
        if (
            choice == "CONTEST"
            and record.reason == "SIGNIFICANTLY_NOT_AS_DESCRIBED"
            and not has_address
        ):
            raise refuse(
                33004,
                "returnAddress is required to contest a SNAD dispute",
                returnAddress="missing",
            )
        record.seller_response = "SELLER_CONTEST" if choice == "CONTEST" else "SELLER_ACCEPT"
        record.revision += 1
        if choice == "CONTEST":
            record.status = "OPEN"
        else:
            self._close(record, "SELLER_ACCEPT")
        self._record(f"payment_dispute_{choice.lower()}", record)

    def resolve(self, dispute_id: str, outcome: str) -> PaymentDisputeRecord:
        record = self.get(dispute_id)
        if outcome not in OUTCOMES:
            raise refuse(32600, f"outcome {outcome!r}: use {' or '.join(OUTCOMES)}")
        self._close(record, outcome)
        self._record(f"payment_dispute_{outcome.lower()}", record)
        return record

    def _close(self, record: PaymentDisputeRecord, outcome: str) -> None:
        record.status = "CLOSED"
        record.outcome = outcome
        record.closed = datetime.now(UTC)

    def search(self, order_id: str | None, status: str | None) -> list[PaymentDisputeRecord]:
        wanted = set(status.split("|")) if status else None
        return [
            r
            for r in self.records.values()
            if (order_id is None or r.order_id == order_id)
            and (wanted is None or r.status in wanted)
        ]

    def _record(self, kind: str, record: PaymentDisputeRecord) -> None:
        self.ctx.ledger.record(
            PARTNER,
            kind,
            record.id,
            money=record.amount,
            order=record.order_id,
            status=record.status,
        )


def add_routes(
    router: APIRouter,
    orders: EbayOrders,
    ctx: SandboxContext,
    auth: Sequence[Depends],
    api: str,
) -> None:
    """Payment dispute routes on the eBay router (sharing its order book)."""
    disputes = PaymentDisputes(ctx, orders)

    @router.get(f"{api}/payment_dispute/{{payment_dispute_id}}", dependencies=list(auth))
    async def get_payment_dispute(payment_dispute_id: str) -> JSONResponse:
        """getPaymentDispute."""
        return JSONResponse(dispute_json(disputes.get(payment_dispute_id)))

    @router.get(f"{api}/payment_dispute_summary", dependencies=list(auth))
    async def get_payment_dispute_summaries(
        order_id: str | None = None,
        payment_dispute_status: str | None = None,
        limit: int = Query(default=200, ge=1, le=200),
        offset: int = Query(default=0, ge=0),
    ) -> JSONResponse:
        """getPaymentDisputeSummaries (newest first)."""
        found = sorted(
            disputes.search(order_id, payment_dispute_status), key=lambda r: r.opened, reverse=True
        )
        page = [summary_json(r) for r in found[offset : offset + limit]]
        body = {"limit": limit, "offset": offset, "total": len(found)}
        return JSONResponse(body | {"paymentDisputeSummaries": page})

    @router.post(f"{api}/payment_dispute/{{payment_dispute_id}}/contest", dependencies=list(auth))
    async def contest(payment_dispute_id: str, body: ContestRequest) -> Response:
        """contestPaymentDispute: 204 once contested."""
        disputes.answer(
            payment_dispute_id, "CONTEST", body.revision, body.returnAddress is not None
        )
        return Response(status_code=204)

    @router.post(f"{api}/payment_dispute/{{payment_dispute_id}}/accept", dependencies=list(auth))
    async def accept(payment_dispute_id: str, body: AcceptRequest) -> Response:
        """acceptPaymentDispute: 204 once accepted."""
        disputes.answer(payment_dispute_id, "ACCEPT", body.revision, body.returnAddress is not None)
        return Response(status_code=204)

    _sandbox_routes(router, disputes)


def _sandbox_routes(router: APIRouter, disputes: PaymentDisputes) -> None:
    """Controls eBay does not offer sellers: the buyer disputes, eBay resolves."""

    @router.post("/ebay/_sandbox/payment_disputes")
    async def open_payment_dispute(body: OpenPaymentDispute) -> JSONResponse:
        """Sandbox: the buyer disputes the payment of an order."""
        return JSONResponse(dispute_json(disputes.open(body)))

    @router.post("/ebay/_sandbox/payment_disputes/{payment_dispute_id}/resolve")
    async def resolve(payment_dispute_id: str, body: Resolve) -> JSONResponse:
        """Sandbox: eBay closes a contested dispute (SELLER_WON or SELLER_LOST)."""
        return JSONResponse(dispute_json(disputes.resolve(payment_dispute_id, body.outcome)))
