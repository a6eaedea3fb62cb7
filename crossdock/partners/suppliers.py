"""Dropship suppliers' RMA desk adapter: request a vendor credit for returned goods.

Requesting an RMA carries the caller's idempotency key, so a retried activity replays
the supplier's first answer instead of filing a second claim. A refusal on the
supplier's terms is an RMA with status `refused`, not an error. Failures arrive as
`crossdock.partners.errors` types: 404 (unknown supplier), 422 (a SKU the supplier does
not ship; the message names the field) and 400 (a reused key) are `PartnerRejected`,
429 `RateLimited`, 5xx and timeouts `PartnerUnavailable`.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from crossdock.models.suppliers import (
    SupplierRma,
    SupplierRmaInput,
    SupplierRmaLineResult,
    SupplierRmaStatus,
)
from crossdock.money import Money
from crossdock.partners.http import ServiceApi

PARTNER = "suppliers"


class RmaLine(BaseModel):
    model_config = ConfigDict(extra="ignore")

    sku: str
    quantity: int
    condition: str
    credit_amount: str
    refusal_reason: str | None = None


class Rma(BaseModel):
    """The desk's RMA object, as it is on the wire."""

    model_config = ConfigDict(extra="ignore")

    id: str
    supplier_id: str
    status: SupplierRmaStatus
    order_reference: str
    currency: str
    credit_amount: str
    refusal_reason: str | None = None
    lines: list[RmaLine] = Field(default_factory=list)
    created_at: datetime

    def contract(self) -> SupplierRma:
        """Our contract: amounts as Money in the supplier's currency."""
        return SupplierRma(
            supplier_id=self.supplier_id,
            rma_id=self.id,
            status=self.status,
            credit=Money.parse(self.credit_amount, self.currency),
            refusal_reason=self.refusal_reason or "",
            lines=[
                SupplierRmaLineResult(
                    sku=line.sku,
                    quantity=line.quantity,
                    credit=Money.parse(line.credit_amount, self.currency),
                    refusal_reason=line.refusal_reason or "",
                )
                for line in self.lines
            ],
        )


class SuppliersClient(ServiceApi):
    """Async client for the suppliers' RMA desk."""

    service = PARTNER

    async def request_rma(self, request: SupplierRmaInput) -> Rma:
        """Request an RMA from `request.supplier_id`; the same key replays its answer."""
        body = {
            "order_reference": request.order_reference,
            "reason": request.reason.value,
            "delivered_at": request.delivered_at.isoformat() if request.delivered_at else None,
            "lines": [
                {"sku": line.sku, "quantity": line.quantity, "condition": line.condition.value}
                for line in request.lines
            ],
        }
        path = f"/v1/{request.supplier_id}/rmas"
        return Rma.model_validate(
            await self._json("POST", path, request.idempotency_key, json=body)
        )

    async def get_rma(self, supplier_id: str, rma_id: str) -> Rma:
        """One RMA as it stands (authorized RMAs become credited)."""
        return Rma.model_validate(await self._json("GET", f"/v1/{supplier_id}/rmas/{rma_id}"))
