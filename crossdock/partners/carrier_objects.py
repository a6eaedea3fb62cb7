"""EasyPost's objects as its API answers them: rates, trackers, shipments, claims,
addresses and their verification (pydantic models, read leniently, typed strictly)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from crossdock.models.order import Address
from crossdock.models.shipment import ClaimKind, Label, ShipmentStatus
from crossdock.money import Money
from crossdock.partners.errors import PartnerUnavailable

PARTNER = "easypost"

CarrierStatus = Annotated[ShipmentStatus, BeforeValidator(ShipmentStatus.from_carrier)]


class Rate(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    id: str
    carrier: str
    service: str
    rate: str  # a decimal string in `currency`, e.g. "22.15" or "1500"
    currency: str
    delivery_days: int | None = None

    @property
    def money(self) -> Money:
        return Money.parse(self.rate, self.currency.upper())


class TrackingDetail(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    status: CarrierStatus
    status_detail: str | None = None
    message: str | None = None
    # EasyPost calls it `datetime`, which would shadow the type here.
    scanned_at: datetime | None = Field(default=None, alias="datetime")
    tracking_location: dict[str, Any] | None = None

    @property
    def occurred_at(self) -> datetime | None:
        """The scan time, time-zone aware (carriers that omit the zone mean UTC)."""
        if self.scanned_at is None or self.scanned_at.tzinfo is not None:
            return self.scanned_at
        return self.scanned_at.replace(tzinfo=UTC)


class Tracker(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    id: str
    tracking_code: str
    status: CarrierStatus
    status_detail: str | None = None
    carrier: str | None = None
    shipment_id: str | None = None
    tracking_details: list[TrackingDetail] = Field(default_factory=list)

    @property
    def latest(self) -> TrackingDetail | None:
        return self.tracking_details[-1] if self.tracking_details else None


class PostageLabel(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    id: str | None = None
    label_url: str


class Shipment(BaseModel):
    """An EasyPost shipment: its rates before purchase, its label and tracker after."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    id: str
    reference: str | None = None
    status: CarrierStatus = ShipmentStatus.UNKNOWN
    tracking_code: str | None = None
    rates: list[Rate] = Field(default_factory=list)
    selected_rate: Rate | None = None
    postage_label: PostageLabel | None = None
    tracker: Tracker | None = None
    refund_status: str | None = None
    insurance: str | None = None  # the insured amount, US dollars as a decimal string

    def label(self) -> Label:
        """The purchased label, or `PartnerUnavailable` if the purchase is incomplete."""
        rate, postage, tracker = self.selected_rate, self.postage_label, self.tracker
        if rate is None or postage is None or tracker is None or not self.tracking_code:
            raise PartnerUnavailable(
                PARTNER, f"shipment {self.id} has no complete label yet (rate, postage, tracker)"
            )
        return Label(
            shipment_id=self.id,
            tracking_code=self.tracking_code,
            tracker_id=tracker.id,
            carrier=rate.carrier,
            service=rate.service,
            rate=rate.money,
            label_url=postage.label_url,
        )


class Claim(BaseModel):
    """An EasyPost Claim: what was claimed for which parcel, and where it stands."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    id: str
    type: ClaimKind
    status: str  # submitted, in_review, approved, approved_partial, rejected, ...
    status_detail: str | None = None
    tracking_code: str
    shipment_id: str | None = None
    requested_amount: str  # a decimal string, e.g. "36.00"
    approved_amount: str | None = None
    # EasyPost's claim amounts are US dollars and carry no currency; the sandbox, which
    # bills in the shipper's currency, states it.
    currency: str = "USD"

    @property
    def requested(self) -> Money:
        return Money.parse(self.requested_amount, self.currency.upper())

    @property
    def approved(self) -> Money | None:
        if self.approved_amount is None:
            return None
        return Money.parse(self.approved_amount, self.currency.upper())


class VerificationError(BaseModel):
    """One problem a verification found: `{"code", "field", "message", "suggestion"}`."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    code: str | None = None
    field: str | None = None
    message: str | None = None


class Verification(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    success: bool
    errors: list[VerificationError] = Field(default_factory=list)


class CarrierAddress(BaseModel):
    """An EasyPost Address object, with its verifications when they were asked for."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    id: str
    name: str | None = None
    company: str | None = None
    street1: str | None = None
    street2: str | None = None
    city: str | None = None
    state: str | None = None
    zip: str | None = None
    country: str | None = None
    phone: str | None = None
    verifications: dict[str, Verification | None] = Field(default_factory=dict)


class AddressVerification(BaseModel):
    """The carrier's answer about an address.

    `errors` name our `Address` fields, e.g. "postal_code: Postal code is required for
    addresses in GB (E.ZIP.MISSING)"; "address: ..." is about the address as a whole. A
    deliverable address may still carry errors (corrections the carrier made).
    `normalised` is the carrier's corrected address, only when deliverable.
    """

    model_config = ConfigDict(frozen=True)

    deliverable: bool
    errors: list[str] = Field(default_factory=list)
    normalised: Address | None = None
