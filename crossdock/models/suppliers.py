"""The supplier RMA contract: a vendor credit request for dropshipped goods a buyer
returned, and what the supplier answered (activity `request_supplier_rma`).

No I/O here, so workflows import it.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from crossdock.models.order import NonEmpty
from crossdock.models.returns import InspectionVerdict, ReturnReason
from crossdock.money import Money


class SupplierRmaStatus(StrEnum):
    REQUESTED = "requested"  # the supplier reviews it by hand
    AUTHORIZED = "authorized"  # the supplier will credit `credit` once the goods reach it
    CREDITED = "credited"  # the vendor credit was issued
    REFUSED = "refused"  # nothing credited: `refusal_reason` says why


class SupplierRmaLine(BaseModel):
    model_config = ConfigDict(frozen=True)

    sku: NonEmpty
    quantity: int = Field(gt=0)
    # The warehouse's verdict on the returned goods (`inspect`); wrong items never go back.
    condition: InspectionVerdict


class SupplierRmaInput(BaseModel):
    """One RMA for one supplier: the inspected lines that came from it."""

    supplier_id: NonEmpty
    # The return workflow id: the supplier keeps it as our reference.
    order_reference: NonEmpty
    reason: ReturnReason
    lines: list[SupplierRmaLine] = Field(min_length=1)
    # When the buyer received the goods (the supplier's RMA window runs from it).
    delivered_at: datetime | None = None
    idempotency_key: NonEmpty


class SupplierRmaLineResult(BaseModel):
    sku: str
    quantity: int
    credit: Money
    refusal_reason: str = ""


class SupplierRma(BaseModel):
    """The supplier's RMA as it answered it."""

    supplier_id: str
    rma_id: str
    status: SupplierRmaStatus
    credit: Money
    lines: list[SupplierRmaLineResult] = Field(default_factory=list)
    refusal_reason: str = ""
