"""Inputs and outputs of the carrier activities for parcel exceptions (claims), one model
each, so fields can be added without breaking running workflows."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from crossdock.models.bounds import PositiveMoney
from crossdock.models.order import NonEmpty
from crossdock.models.shipment import ClaimKind
from crossdock.money import Money


class FileClaimInput(BaseModel):
    """A claim against the carrier for a parcel it lost or damaged."""

    model_config = ConfigDict(frozen=True)

    tracking_code: NonEmpty
    # What is claimed: usually the goods' value, in the order's currency.
    amount: PositiveMoney
    kind: ClaimKind
    description: NonEmpty
    idempotency_key: NonEmpty


class CarrierClaim(BaseModel):
    """A claim the carrier accepted for review."""

    model_config = ConfigDict(frozen=True)

    claim_id: str
    tracking_code: str
    shipment_id: str | None = None
    kind: ClaimKind
    status: str  # the carrier's: submitted, in_review, approved, rejected, ...
    requested: Money
    approved: Money | None = None
    # Anything the carrier said about the claim's status (EasyPost's status_detail).
    detail: str = ""
