"""Stripe disputes in their real shape, opened on captured charges, with signed webhooks.

    GET  /stripe/v1/disputes/{id}            retrieve
    POST /stripe/v1/disputes/{id}            evidence[...] (Stripe's field names), submit=true
    POST /stripe/v1/disputes/{id}/close      accept: the dispute is lost
    POST /stripe/_sandbox/disputes           open one on a captured PaymentIntent (or order)
    POST /stripe/_sandbox/disputes/{id}/resolve   the issuer decides: won, lost, escalate
                                             (inquiry → chargeback), reopen (pre-arbitration)

Statuses move as at Stripe: an inquiry (`warning_needs_response`) is answered into
`warning_under_review` and ends `warning_closed` or escalates to `needs_response`; a
chargeback is answered into `under_review` and ends `won` or `lost`; past `due_by`
without an answer it is lost. Every change is a `charge.dispute.*` event POSTed to the
configured URL with a `Stripe-Signature`, at least once: failed deliveries are retried,
some are duplicated or held back so they arrive out of order (seeded). The ledger
records openings, each submission (`submission_count`), acceptances and outcomes.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from dataclasses import dataclass, field
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from crossdock.models.dispute import EVIDENCE_FIELDS, DisputeReason
from crossdock.sandbox.context import SandboxContext
from crossdock.sandbox.core.store import Table
from crossdock.sandbox.stripe.endpoints import get, post
from crossdock.sandbox.stripe.files import FileStore
from crossdock.sandbox.stripe.payments import Payments
from crossdock.sandbox.stripe.shapes import (
    PARTNER,
    InvalidRequest,
    Params,
    StripeError,
)
from crossdock.sandbox.stripe.webhooks import WebhookSender

Json = dict[str, Any]
ANSWERABLE = {"warning_needs_response": "warning_under_review", "needs_response": "under_review"}
_UPDATE_PARAMS = frozenset({"evidence", "metadata", "submit", "expand"})
# Evidence fields that take a File id (`file_...`, uploaded with purpose
# dispute_evidence), not text: the ones Stripe's dispute_evidence type expands to a file.
FILE_EVIDENCE = frozenset(
    """cancellation_policy customer_communication customer_signature
    duplicate_charge_documentation receipt refund_policy service_documentation
    shipping_documentation uncategorized_file""".split()
)


@dataclass
class Dispute:
    id: str
    amount: int
    currency: str
    charge: str
    payment_intent: str
    reason: str
    status: str
    due_by: int
    created: int = field(default_factory=lambda: int(time.time()))
    evidence: dict[str, str] = field(default_factory=dict)
    submission_count: int = 0
    under_review_since: float | None = None
    # Event timestamps only move forward per dispute, as Stripe's do.
    last_event: int = 0

    def to_json(self) -> Json:
        evidence = {name: self.evidence.get(name) for name in sorted(EVIDENCE_FIELDS)}
        return {
            "id": self.id,
            "object": "dispute",
            "amount": self.amount,
            "balance_transactions": [],
            "charge": self.charge,
            "created": self.created,
            "currency": self.currency,
            "evidence": evidence,
            "evidence_details": {
                "due_by": self.due_by,
                "has_evidence": bool(self.evidence),
                "past_due": time.time() > self.due_by,
                "submission_count": self.submission_count,
            },
            "is_charge_refundable": False,
            "livemode": False,
            "metadata": {},
            "payment_intent": self.payment_intent,
            "reason": self.reason,
            "status": self.status,
        }


class OpenDispute(BaseModel):
    """Sandbox control: open a dispute on a captured PaymentIntent, or the one of an order."""

    payment_intent: str | None = None
    order: str | None = None
    reason: DisputeReason = DisputeReason.PRODUCT_NOT_RECEIVED
    inquiry: bool = False
    amount: int | None = None


class Resolve(BaseModel):
    outcome: str  # won | lost | escalate | reopen


class DisputeDesk:
    """Disputes on the payments' captured charges, every change pushed as an event."""

    def __init__(self, ctx: SandboxContext, payments: Payments, files: FileStore) -> None:
        self.ctx = ctx
        self.files = files
        self.config = ctx.config.disputes
        self.payments = payments
        self.disputes: Table[Dispute] = ctx.store.table(PARTNER, "dispute", Dispute)
        self.random = ctx.store.random(ctx.config.seed)
        self.webhooks = WebhookSender(ctx, self.config)

    def get(self, dispute_id: str) -> Dispute:
        found = self.disputes.get(dispute_id)
        if found is None:
            raise InvalidRequest(
                404, f"No such dispute: '{dispute_id}'", code="resource_missing", param="dispute"
            )
        return found

    def _intent_for(self, request: OpenDispute) -> str:
        if request.payment_intent:
            return request.payment_intent
        for intent in self.payments.intents.peek():
            if request.order and intent.order == request.order and intent.amount_received:
                return intent.id
        raise InvalidRequest(404, f"No captured payment for order {request.order!r}", param="order")

    def open(self, request: OpenDispute) -> Dispute:
        intent = self.payments.intent(self._intent_for(request), param="payment_intent")
        if intent.amount_received == 0 or intent.latest_charge is None:
            raise InvalidRequest(
                400, f"{intent.id} has no captured charge to dispute", param="payment_intent"
            )
        amount = request.amount or intent.amount_received - intent.amount_refunded
        dispute = Dispute(
            id=f"dp_{secrets.token_hex(12)}",
            amount=amount,
            currency=intent.currency,
            charge=intent.latest_charge,
            payment_intent=intent.id,
            reason=request.reason.value,
            status="warning_needs_response" if request.inquiry else "needs_response",
            due_by=int(time.time() + self.config.due_seconds),
        )
        self.disputes[dispute.id] = dispute
        self._record("dispute", dispute, None)
        self._emit(dispute, "charge.dispute.created")
        if not request.inquiry:
            self._emit(dispute, "charge.dispute.funds_withdrawn")
        return dispute

    def update(self, dispute_id: str, params: Params, key: str | None) -> Json:
        for name in params:
            if name not in _UPDATE_PARAMS:
                raise InvalidRequest(
                    400,
                    f"Received unknown parameter: {name}",
                    code="parameter_unknown",
                    param=name,
                )
        dispute = self.get(dispute_id)
        evidence = params.get("evidence", {})
        if not isinstance(evidence, dict):
            raise InvalidRequest(
                400, "Invalid evidence: use evidence[field]=value.", param="evidence"
            )
        for name in evidence:
            if name not in EVIDENCE_FIELDS:
                raise InvalidRequest(
                    400,
                    f"Received unknown parameter: evidence[{name}]",
                    code="parameter_unknown",
                    param=f"evidence[{name}]",
                )
        self._answerable(dispute)
        for name in sorted(FILE_EVIDENCE & set(evidence)):
            self._evidence_file(name, str(evidence[name]))
        dispute.evidence.update({k: str(v) for k, v in evidence.items()})
        if params.get("submit") == "true":
            dispute.submission_count += 1
            dispute.status = ANSWERABLE[dispute.status]
            dispute.under_review_since = time.time()
            self._record(
                "dispute_submission", dispute, key, submission_count=dispute.submission_count
            )
        self._emit(dispute, "charge.dispute.updated")
        return dispute.to_json()

    def close(self, dispute_id: str, key: str | None) -> Json:
        dispute = self.get(dispute_id)
        self._answerable(dispute)
        dispute.status = "warning_closed" if dispute.status.startswith("warning_") else "lost"
        self._record("dispute_accepted", dispute, key)
        self._emit(dispute, "charge.dispute.closed")
        return dispute.to_json()

    def _evidence_file(self, name: str, value: str) -> None:
        """Refuse `value` for the file field `name` unless it is an uploaded evidence file
        (Stripe answers prose there as an unknown file upload)."""
        param = f"evidence[{name}]"
        stored = self.files.get(value, param=param)
        if stored.purpose != "dispute_evidence":
            raise InvalidRequest(
                400,
                f"The file {value} has purpose {stored.purpose}, not dispute_evidence.",
                param=param,
            )

    def _answerable(self, dispute: Dispute) -> None:
        if dispute.status not in ANSWERABLE:
            raise StripeError(
                400,
                f"This dispute is {dispute.status} and no longer accepts evidence or closing.",
                code="dispute_not_answerable" if dispute.status.endswith("review") else None,
            )
        if time.time() > dispute.due_by:
            raise StripeError(400, "This dispute is past due and can no longer be answered.")

    def resolve(self, dispute_id: str, outcome: str) -> Dispute:
        """The issuer's move: won, lost, escalate (inquiry → chargeback), reopen."""
        dispute = self.get(dispute_id)
        inquiry = dispute.status.startswith("warning_")
        if outcome == "won":
            dispute.status = "warning_closed" if inquiry else "won"
        elif outcome == "lost":
            dispute.status = "lost"
        elif outcome in ("escalate", "reopen"):
            # A chargeback after an inquiry, or pre-arbitration after a win: a new answer
            # is due, with a new deadline.
            dispute.status = "needs_response"
            dispute.due_by = int(time.time() + self.config.due_seconds)
            dispute.under_review_since = None
        else:
            raise InvalidRequest(400, f"outcome {outcome!r}: use won, lost, escalate or reopen")
        self._record(f"dispute_{outcome}", dispute, None)
        final = dispute.status in ("won", "lost", "warning_closed")
        self._emit(dispute, "charge.dispute.closed" if final else "charge.dispute.updated")
        if dispute.status == "won":
            self._emit(dispute, "charge.dispute.funds_reinstated")
        return dispute

    async def issuer(self) -> None:
        """Background: decide disputes under review after `review_seconds`, and lose the
        ones nobody answered by `due_by`."""
        while True:
            await asyncio.sleep(0.2)
            with self.ctx.store.unit():
                self._decide_due(time.time())

    def _decide_due(self, now: float) -> None:
        for dispute in self.disputes.peek():
            since = dispute.under_review_since
            if dispute.status in ANSWERABLE and now > dispute.due_by:
                self.resolve(dispute.id, "lost")
            elif since and self.config.review_seconds and now - since > self.config.review_seconds:
                dispute.under_review_since = None
                won = self.random.random() < self.config.win_rate
                # An issuer unconvinced by the answer to an inquiry files a chargeback.
                lost = "escalate" if dispute.status.startswith("warning_") else "lost"
                self.resolve(dispute.id, "won" if won else lost)

    def _record(self, kind: str, dispute: Dispute, key: str | None, **details: Any) -> None:
        intent = self.payments.intents.get(dispute.payment_intent)
        self.ctx.ledger.record(
            PARTNER,
            kind,
            dispute.id,
            idempotency_key=key,
            amount=dispute.amount,
            currency=dispute.currency.upper(),
            order=intent.order if intent else None,
            status=dispute.status,
            **details,
        )

    def _emit(self, dispute: Dispute, kind: str) -> None:
        dispute.last_event = max(int(time.time()), dispute.last_event + 1)
        self.webhooks.send(
            {
                "id": f"evt_{secrets.token_hex(12)}",
                "object": "event",
                "api_version": "2024-06-20",
                "created": dispute.last_event,
                "data": {"object": dispute.to_json()},
                "livemode": False,
                "pending_webhooks": 1,
                "request": {"id": None, "idempotency_key": None},
                "type": kind,
            }
        )


def build(ctx: SandboxContext, payments: Payments, files: FileStore) -> APIRouter:
    """Dispute routes, included in the Stripe router (under /stripe)."""
    desk = DisputeDesk(ctx, payments, files)
    ctx.background.append(desk.issuer)
    router = APIRouter(tags=["stripe"])

    @router.get("/v1/disputes/{dispute_id}")
    async def retrieve(dispute_id: str, request: Request) -> JSONResponse:
        """Retrieve a dispute."""
        return get(request, lambda: desk.get(dispute_id).to_json())

    @router.post("/v1/disputes/{dispute_id}")
    async def update(dispute_id: str, request: Request) -> JSONResponse:
        """Add evidence; with submit=true send it to the issuer (once per dispute round)."""
        return await post(ctx, request, lambda p, k: desk.update(dispute_id, p, k))

    @router.post("/v1/disputes/{dispute_id}/close")
    async def close(dispute_id: str, request: Request) -> JSONResponse:
        """Accept the dispute: it is lost."""
        return await post(ctx, request, lambda p, k: desk.close(dispute_id, k))

    @router.post("/_sandbox/disputes")
    async def open_dispute(body: OpenDispute) -> JSONResponse:
        """Sandbox: the cardholder disputes a captured charge."""
        try:
            return JSONResponse(desk.open(body).to_json())
        except StripeError as exc:
            return exc.response()

    @router.post("/_sandbox/disputes/{dispute_id}/resolve")
    async def resolve(dispute_id: str, body: Resolve) -> JSONResponse:
        """Sandbox: the issuer decides (won, lost), escalates or reopens a dispute."""
        try:
            return JSONResponse(desk.resolve(dispute_id, body.outcome).to_json())
        except StripeError as exc:
            return exc.response()

    return router
