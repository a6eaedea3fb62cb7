"""The order contract: what every channel's order is translated into at intake."""

from __future__ import annotations

import re
from datetime import datetime
from enum import StrEnum
from typing import Annotated

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    model_validator,
)

from crossdock.models.bounds import (
    MAX_LINES,
    AddressLine,
    ChannelRef,
    Charge,
    City,
    Email,
    Name,
    OrderTime,
    Phone,
    PostalCode,
    Price,
    Quantity,
    Reference,
    Region,
    RequiredAddressLine,
    Sku,
    Title,
    TradedCurrency,
    UnitWeight,
    arrival_windows,
    at_the_door,
    customs_destination,
    within_ceiling,
)
from crossdock.models.bounds import CountryCode as CountryCode  # re-exported: its home was here
from crossdock.money import Money, total


class Channel(StrEnum):
    """Where an order was sold. Marketplaces collect payment themselves; the storefront
    is paid through our payment provider."""

    AMAZON = "amazon"
    EBAY = "ebay"
    STOREFRONT = "storefront"

    @property
    def collects_payment(self) -> bool:
        return self is not Channel.STOREFRONT


class Incoterm(StrEnum):
    """Who pays import duties and taxes: the seller up front (DDP) or the buyer on
    delivery (DAP)."""

    DDP = "DDP"
    DAP = "DAP"


# ASCII digits: `\d` would take any script's digits, which no customs system reads.
_HS_CODE = re.compile(r"^[0-9]{6,10}$")


def _hs_code(value: str) -> str:
    digits = value.replace(".", "")
    if not _HS_CODE.match(digits):
        raise ValueError(f"HS code {value!r} must have 6 to 10 digits, e.g. '6109.10'")
    return digits


def _aware(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError(f"{value.isoformat()} has no time zone; deadlines must be aware")
    return value


HsCode = Annotated[
    str,
    AfterValidator(_hs_code),
    Field(max_length=20, json_schema_extra={"pattern": r"^\.*(?:[0-9]\.*){6,10}$"}),
]
AwareDatetime = Annotated[datetime, AfterValidator(_aware)]
NonEmpty = Annotated[str, Field(min_length=1)]


class Address(BaseModel):
    model_config = ConfigDict(frozen=True)

    name: Name
    line1: RequiredAddressLine
    line2: AddressLine = ""
    city: City
    region: Region = ""
    postal_code: PostalCode = ""
    country: CountryCode
    phone: Phone = ""


class Buyer(BaseModel):
    model_config = ConfigDict(frozen=True)

    name: Name
    email: Email = ""
    # The language the buyer chose to be written in (en, de, ..., zh-Hans); None: their
    # country's (crossdock.messages.language_for). A default, so older orders decode.
    language: Annotated[str | None, Field(max_length=8, pattern=r"^[A-Za-z-]+$")] = None


class LineItem(BaseModel):
    model_config = ConfigDict(frozen=True)

    sku: Sku
    title: Title
    quantity: Quantity
    unit_price: Price
    hs_code: HsCode
    origin_country: CountryCode
    weight_grams: UnitWeight
    # The channel's own id for this line (Amazon OrderItemId, eBay lineItemId), needed to
    # confirm shipment of it; empty for the storefront.
    line_id: ChannelRef = ""

    @property
    def line_total(self) -> Money:
        return self.unit_price * self.quantity


class Order(BaseModel):
    """One order from one channel, in our terms. Invalid data is refused naming the field."""

    model_config = ConfigDict(frozen=True)

    channel: Channel
    channel_order_id: Annotated[
        str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")
    ]
    buyer: Buyer
    ship_to: Address
    items: list[LineItem] = Field(min_length=1, max_length=MAX_LINES)
    currency: TradedCurrency
    shipping: Charge
    placed_at: OrderTime
    ship_by: OrderTime
    deliver_by: OrderTime
    incoterm: Incoterm = Incoterm.DAP
    # Storefront only: the provider's payment method token (never a card number).
    payment_method: Reference | None = None
    # The payer's billing country when the channel tells it (storefront checkout, eBay's
    # buyer registration address; Amazon's Orders API does not expose it for MFN). A
    # default, so orders recorded before the field existed still decode.
    billing_country: CountryCode | None = None

    @model_validator(mode="after")
    def _consistent(self) -> Order:
        for index, item in enumerate(self.items):
            if item.unit_price.currency != self.currency:
                raise ValueError(
                    f"items[{index}].unit_price is in {item.unit_price.currency}, "
                    f"the order is in {self.currency}"
                )
        if self.shipping.currency != self.currency:
            raise ValueError(f"shipping is in {self.shipping.currency}, order in {self.currency}")
        if self.deliver_by < self.ship_by:
            raise ValueError("deliver_by is before ship_by")
        if self.channel is Channel.STOREFRONT and not self.payment_method:
            raise ValueError("payment_method is required for storefront orders")
        return self

    @model_validator(mode="after")
    def _at_the_door(self, info: ValidationInfo) -> Order:
        # Table- and clock-dependent bounds, only when an entry point validates what
        # arrives (`bounds.arriving`): a replayed order must decode whatever they say now.
        now = at_the_door(info)
        if now is None:
            return self
        problems = arrival_windows(self.placed_at, self.ship_by, now)
        try:
            within_ceiling(self.order_total)
        except ValueError as err:
            problems.append(f"order total: {err}")
        try:
            customs_destination(self.ship_to.country)
        except ValueError as err:
            problems.append(f"ship_to.country: {err}")
        if problems:
            raise ValueError("; ".join(problems))
        return self

    @property
    def workflow_id(self) -> str:
        """Order workflow id: channel and channel order id only, no personal data."""
        return order_workflow_id(self.channel, self.channel_order_id)

    @property
    def items_total(self) -> Money:
        return total([item.line_total for item in self.items], self.currency)

    @property
    def order_total(self) -> Money:
        """What the buyer paid the channel for goods and shipping (before import duties)."""
        return self.items_total + self.shipping

    @property
    def weight_grams(self) -> int:
        return sum(item.weight_grams * item.quantity for item in self.items)


def order_workflow_id(channel: Channel | str, channel_order_id: str) -> str:
    return f"order-{Channel(channel).value}-{channel_order_id}"
