"""Dropship suppliers' RMA desk: vendor credit requests for goods our buyers returned
(our own JSON API, in the style of the customs service). Each supplier's terms (RMA
window, whether damaged goods are credited, unit costs) are crossdock/data/suppliers.json.

    POST /suppliers/v1/{supplier_id}/rmas           request an RMA (Idempotency-Key)
    GET  /suppliers/v1/{supplier_id}/rmas/{id}
    POST /suppliers/_sandbox/rmas/{id}/credit       the supplier issues the vendor credit

An RMA is decided when requested: each line is credited at the unit cost (resellable in
full, used at half), or refused (outside the window, damaged goods the supplier does not
credit); the RMA is `authorized` if any line is credited, else `refused`. Errors:
{"error": {"code", "message", "field"}}; every one names the field.
"""

from __future__ import annotations

import string
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Header, Request
from fastapi.responses import JSONResponse, Response
from pydantic import AwareDatetime, BaseModel, Field

from crossdock.money import Money
from crossdock.policies.suppliers import SUPPLIERS, Supplier, SupplierTable
from crossdock.sandbox.context import SandboxContext
from crossdock.sandbox.core.idempotency import reused_key
from crossdock.sandbox.core.routes import Refusal, partner_route
from crossdock.sandbox.core.store import Table

PARTNER = "suppliers"
IdempotencyKey = Annotated[str | None, Header(alias="Idempotency-Key")]
# Used goods (an inspection's partial verdict) are credited at this share of the cost.
USED_CREDIT_PERCENT = 50
Condition = Literal["accepted", "partial", "damaged"]


def supplier_error(status: int, code: str, message: str, field_name: str) -> JSONResponse:
    """The desk's error body; `field` is the request field that was wrong."""
    error = {"code": code, "message": message, "field": field_name}
    return JSONResponse({"error": error}, status_code=status)


class RmaLineInput(BaseModel):
    sku: str = Field(min_length=1)
    quantity: int = Field(gt=0)
    condition: Condition


class RmaInput(BaseModel):
    order_reference: str = Field(min_length=1, max_length=200)
    reason: str = Field(min_length=1, max_length=200)
    delivered_at: AwareDatetime | None = None
    lines: list[RmaLineInput] = Field(min_length=1)


@dataclass
class RmaLine:
    sku: str
    quantity: int
    condition: str
    credit: Money
    refusal_reason: str = ""

    def as_json(self) -> dict[str, Any]:
        return {
            "sku": self.sku,
            "quantity": self.quantity,
            "condition": self.condition,
            "credit_amount": self.credit.to_decimal_string(),
            "refusal_reason": self.refusal_reason or None,
        }


@dataclass
class Rma:
    id: str
    supplier: Supplier
    order_reference: str
    reason: str
    lines: list[RmaLine]
    created_at: datetime
    status: str = "authorized"
    updated_at: datetime | None = None
    refusal_reason: str = ""
    credited_at: datetime | None = None

    @property
    def credit(self) -> Money:
        return Money(
            amount=sum(line.credit.amount for line in self.lines),
            currency=self.supplier.currency,
        )

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "object": "supplier_rma",
            "supplier_id": self.supplier.id,
            "status": self.status,
            "order_reference": self.order_reference,
            "reason": self.reason,
            "currency": self.supplier.currency,
            "credit_amount": self.credit.to_decimal_string(),
            "refusal_reason": self.refusal_reason or None,
            "lines": [line.as_json() for line in self.lines],
            "created_at": self.created_at.isoformat(),
            "updated_at": (self.updated_at or self.created_at).isoformat(),
            "credited_at": self.credited_at.isoformat() if self.credited_at else None,
        }


class RmaDesk:
    """Every supplier's RMAs, decided by the supplier's terms when requested."""

    def __init__(self, ctx: SandboxContext, table: SupplierTable = SUPPLIERS) -> None:
        self.ctx = ctx
        self.table = table
        self.random = ctx.store.random(ctx.config.seed)
        self.rmas: Table[Rma] = ctx.store.table("suppliers", "rma", Rma)

    def supplier(self, supplier_id: str) -> Supplier:
        supplier = self.table.suppliers.get(supplier_id)
        if supplier is None:
            message = f"no supplier {supplier_id!r}"
            raise Refusal(supplier_error(404, "not_found", message, "supplier_id"))
        return supplier

    def open(self, supplier: Supplier, body: RmaInput) -> Rma:
        now = datetime.now(UTC)
        late = _outside_window(supplier, body.delivered_at, now)
        lines = [self._line(supplier, index, line, late) for index, line in enumerate(body.lines)]
        token = "".join(
            self.random.choice(string.digits + string.ascii_uppercase) for _ in range(10)
        )
        rma = Rma(
            id=f"rma_{token}",
            supplier=supplier,
            order_reference=body.order_reference,
            reason=body.reason,
            lines=lines,
            created_at=now,
        )
        if all(line.refusal_reason for line in lines):
            rma.status = "refused"
            rma.refusal_reason = "; ".join(sorted({line.refusal_reason for line in lines}))
        self.rmas[rma.id] = rma
        return rma

    def _line(self, supplier: Supplier, index: int, line: RmaLineInput, late: str) -> RmaLine:
        entry = self.table.skus.get(line.sku)
        if entry is None or entry.supplier != supplier.id:
            raise Refusal(
                supplier_error(
                    422,
                    "unknown_sku",
                    f"{supplier.id} does not supply {line.sku!r}",
                    f"lines[{index}].sku",
                )
            )
        refusal = late
        if not refusal and line.condition == "damaged" and not supplier.credits_damaged:
            refusal = f"{supplier.name} does not credit damaged goods"
        percent = 0 if refusal else (USED_CREDIT_PERCENT if line.condition == "partial" else 100)
        amount = entry.unit_cost.amount * line.quantity * percent // 100
        credit = Money(amount=amount, currency=supplier.currency)
        return RmaLine(line.sku, line.quantity, line.condition, credit, refusal)

    def get(self, supplier_id: str, rma_id: str) -> Rma:
        rma = self.rmas.get(rma_id)
        if rma is None or rma.supplier.id != supplier_id:
            raise Refusal(supplier_error(404, "not_found", f"no RMA {rma_id!r}", "id"))
        return rma


def _outside_window(supplier: Supplier, delivered_at: datetime | None, now: datetime) -> str:
    if delivered_at is None:
        return ""
    ends = delivered_at + timedelta(days=supplier.rma_window_days)
    if now <= ends:
        return ""
    return (
        f"outside the {supplier.rma_window_days}-day RMA window "
        f"(delivered {delivered_at.date().isoformat()})"
    )


def _conflict(key: str) -> JSONResponse:
    return supplier_error(400, "idempotency_error", reused_key(key), "Idempotency-Key")


def _require_key(key: str | None) -> str:
    # A new RMA is a claim on the supplier: a retry must not file it twice.
    if not key:
        message = "send an Idempotency-Key"
        raise Refusal(supplier_error(400, "idempotency_key_required", message, "Idempotency-Key"))
    return key


def _rma_routes(router: APIRouter, desk: RmaDesk) -> None:
    ctx = desk.ctx

    @router.post("/suppliers/v1/{supplier_id}/rmas", status_code=201)
    async def request_rma(
        supplier_id: str, body: RmaInput, request: Request, key: IdempotencyKey = None
    ) -> Response:
        """Request an RMA for returned goods; the same key replays the same RMA."""
        supplier = desk.supplier(supplier_id)
        idempotency_key = _require_key(key)

        async def handler() -> JSONResponse:
            rma = desk.open(supplier, body)
            ctx.ledger.record(
                PARTNER,
                "rma",
                rma.order_reference,
                idempotency_key=idempotency_key,
                money=rma.credit,
                supplier_id=supplier.id,
                rma_id=rma.id,
                status=rma.status,
                lines=[line.as_json() for line in rma.lines],
            )
            return JSONResponse(rma.as_json(), status_code=201)

        params = body.model_dump(mode="json")
        return await ctx.idempotency.once(
            PARTNER, request, idempotency_key, params, handler, _conflict
        )

    @router.get("/suppliers/v1/{supplier_id}/rmas/{rma_id}")
    async def get_rma(supplier_id: str, rma_id: str) -> Any:
        """One RMA and its status."""
        return desk.get(desk.supplier(supplier_id).id, rma_id).as_json()

    _sandbox_routes(router, desk)


def _sandbox_routes(router: APIRouter, desk: RmaDesk) -> None:
    """The supplier side: goods arriving at the supplier are credited."""
    ctx = desk.ctx

    @router.post("/suppliers/_sandbox/rmas/{rma_id}/credit")
    async def credit(rma_id: str) -> Any:
        """The goods reached the supplier: an authorized RMA's vendor credit is issued."""
        rma = desk.rmas.get(rma_id)
        if rma is None:
            raise Refusal(supplier_error(404, "not_found", f"no RMA {rma_id!r}", "id"))
        if rma.status != "authorized":
            message = f"RMA {rma_id} is {rma.status}; only an authorized RMA is credited"
            raise Refusal(supplier_error(400, "invalid_state", message, "status"))
        rma.status, rma.credited_at = "credited", datetime.now(UTC)
        rma.updated_at = rma.credited_at
        ctx.ledger.record(
            PARTNER,
            "vendor_credit",
            rma.order_reference,
            money=rma.credit,
            supplier_id=rma.supplier.id,
            rma_id=rma.id,
        )
        return rma.as_json()


def _render_invalid(field_name: str, message: str) -> Response:
    return supplier_error(422, "invalid_request", f"{field_name}: {message}", field_name)


def build(ctx: SandboxContext) -> APIRouter:
    """The suppliers' RMA desk under /suppliers."""
    router = APIRouter(route_class=partner_route(_render_invalid), tags=["suppliers"])
    _rma_routes(router, RmaDesk(ctx))
    return router
