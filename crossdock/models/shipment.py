"""The shipment contracts: what we ask a carrier for, what it sold us, what it reports.

Carrier statuses are normalised into `ShipmentStatus` (EasyPost's tracker vocabulary,
which aggregates the carriers' own), so workflows never see a carrier-specific string.
These models carry no I/O, so workflow code can import them.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, model_validator

from crossdock.models.order import Address, AwareDatetime, LineItem, NonEmpty
from crossdock.money import CurrencyCode, Money


class ShipmentStatus(StrEnum):
    """A parcel's status as the carrier reports it (EasyPost tracker statuses)."""

    UNKNOWN = "unknown"
    PRE_TRANSIT = "pre_transit"
    IN_TRANSIT = "in_transit"
    OUT_FOR_DELIVERY = "out_for_delivery"
    DELIVERED = "delivered"
    AVAILABLE_FOR_PICKUP = "available_for_pickup"
    RETURN_TO_SENDER = "return_to_sender"
    FAILURE = "failure"
    CANCELLED = "cancelled"
    ERROR = "error"

    @classmethod
    def from_carrier(cls, value: str | None) -> ShipmentStatus:
        """Normalise a carrier status; anything unrecognised is `UNKNOWN`, never an error,
        because carriers add statuses without notice and a tracking update must not fail."""
        try:
            return cls((value or "").strip().lower())
        except ValueError:
            return cls.UNKNOWN

    @property
    def is_final(self) -> bool:
        """No further movement is expected (the parcel arrived, came back or is gone)."""
        return self in _FINAL


_FINAL = frozenset(
    {ShipmentStatus.DELIVERED, ShipmentStatus.RETURN_TO_SENDER, ShipmentStatus.CANCELLED}
)


class ShipmentException(StrEnum):
    """What went wrong with a parcel, read from one tracking update.

    A lost parcel mostly goes silent rather than saying so; `LOST` is only for carriers
    that report it. Silence is for the workflow's timers to notice.
    """

    DELAYED = "delayed"
    CUSTOMS_HOLD = "customs_hold"
    LOST = "lost"
    DAMAGED = "damaged"
    RETURN_TO_SENDER = "return_to_sender"
    ADDRESS_PROBLEM = "address_problem"
    DELIVERY_FAILED = "delivery_failed"


# EasyPost status_detail values that name an exception whatever the status. EasyPost has
# no customs-specific detail: carriers report a parcel held at customs as `held`.
_EXCEPTION_BY_DETAIL = {
    "weather_delay": ShipmentException.DELAYED,
    "delayed": ShipmentException.DELAYED,
    "transit_exception": ShipmentException.DELAYED,
    "missorted": ShipmentException.DELAYED,
    "held": ShipmentException.CUSTOMS_HOLD,
    "lost": ShipmentException.LOST,
    "damaged": ShipmentException.DAMAGED,
    "address_correction": ShipmentException.ADDRESS_PROBLEM,
}


def shipment_exception(
    status: ShipmentStatus, status_detail: str | None
) -> ShipmentException | None:
    """The exception a tracking update reports, or None for normal progress.

    Examples: in_transit/weather_delay is DELAYED, in_transit/held is CUSTOMS_HOLD,
    return_to_sender/* is RETURN_TO_SENDER, failure/address_correction is
    ADDRESS_PROBLEM, any other failure or error is DELIVERY_FAILED.
    """
    if status is ShipmentStatus.RETURN_TO_SENDER:
        return ShipmentException.RETURN_TO_SENDER
    found = _EXCEPTION_BY_DETAIL.get((status_detail or "").strip().lower())
    if found is not None:
        return found
    if status in (ShipmentStatus.FAILURE, ShipmentStatus.ERROR):
        return ShipmentException.DELIVERY_FAILED
    return None


class ClaimKind(StrEnum):
    """Why a carrier claim is filed (EasyPost's claim `type`)."""

    LOSS = "loss"
    DAMAGE = "damage"
    THEFT = "theft"


class LabelRequest(BaseModel):
    """One parcel to ship: who to, from where, what is inside (for customs)."""

    model_config = ConfigDict(frozen=True)

    # Our reference for the shipment (e.g. the order workflow id); the carrier echoes it.
    reference: NonEmpty
    to_address: Address
    from_address: Address
    items: list[LineItem] = Field(min_length=1)
    weight_grams: int = Field(gt=0)
    # The currency the contents are declared in for customs (the items' currency).
    currency: CurrencyCode
    # A return label (EasyPost `is_return`): the carrier swaps to and from on the label.
    is_return: bool = False

    @model_validator(mode="after")
    def _one_currency(self) -> LabelRequest:
        for index, item in enumerate(self.items):
            if item.unit_price.currency != self.currency:
                raise ValueError(
                    f"items[{index}].unit_price is in {item.unit_price.currency}, "
                    f"the label request declares {self.currency}"
                )
        return self

    @property
    def international(self) -> bool:
        return self.to_address.country != self.from_address.country


class Label(BaseModel):
    """A purchased label: what was bought, at what price, and how to track it."""

    model_config = ConfigDict(frozen=True)

    shipment_id: str
    tracking_code: str
    tracker_id: str
    carrier: str
    service: str
    rate: Money
    label_url: str


class TrackerEvent(BaseModel):
    """One tracking update pushed by the carrier (webhook), as intake signals it."""

    model_config = ConfigDict(frozen=True)

    # The carrier's event id: the same update may arrive more than once, so consumers
    # de-duplicate on it.
    event_id: str
    description: str  # e.g. "tracker.updated"
    tracker_id: str
    shipment_id: str | None
    tracking_code: str
    carrier: str | None = None
    status: ShipmentStatus
    status_detail: str | None = None
    message: str | None = None
    # When the carrier scanned the latest status (not when we were told).
    occurred_at: AwareDatetime | None = None

    @property
    def exception(self) -> ShipmentException | None:
        """What went wrong, if this update reports a problem (see `shipment_exception`)."""
        return shipment_exception(self.status, self.status_detail)
