"""The order contract: what every channel's order is translated into at intake."""

from __future__ import annotations

import re
from datetime import datetime
from enum import StrEnum
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from crossdock.money import CurrencyCode, Money, total


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


_COUNTRY = re.compile(r"^[A-Z]{2}$")
_HS_CODE = re.compile(r"^\d{6,10}$")


def _country_code(value: str) -> str:
    if not _COUNTRY.match(value):
        raise ValueError(f"{value!r} is not an ISO 3166 alpha-2 country code such as 'DE'")
    return value


def _hs_code(value: str) -> str:
    digits = value.replace(".", "")
    if not _HS_CODE.match(digits):
        raise ValueError(f"HS code {value!r} must have 6 to 10 digits, e.g. '6109.10'")
    return digits


def _aware(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError(f"{value.isoformat()} has no time zone; deadlines must be aware")
    return value


CountryCode = Annotated[str, AfterValidator(_country_code)]
HsCode = Annotated[str, AfterValidator(_hs_code)]
AwareDatetime = Annotated[datetime, AfterValidator(_aware)]
NonEmpty = Annotated[str, Field(min_length=1)]


class Address(BaseModel):
    model_config = ConfigDict(frozen=True)

    name: NonEmpty
    line1: NonEmpty
    line2: str = ""
    city: NonEmpty
    region: str = ""
    postal_code: str = ""
    country: CountryCode
    phone: str = ""


class Buyer(BaseModel):
    model_config = ConfigDict(frozen=True)

    name: NonEmpty
    email: str = ""


class LineItem(BaseModel):
    model_config = ConfigDict(frozen=True)

    sku: NonEmpty
    title: NonEmpty
    quantity: int = Field(gt=0)
    unit_price: Money
    hs_code: HsCode
    origin_country: CountryCode
    weight_grams: int = Field(gt=0)
    # The channel's own id for this line (Amazon OrderItemId, eBay lineItemId), needed to
    # confirm shipment of it; empty for the storefront.
    line_id: str = ""

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
    items: list[LineItem] = Field(min_length=1)
    currency: CurrencyCode
    shipping: Money
    placed_at: AwareDatetime
    ship_by: AwareDatetime
    deliver_by: AwareDatetime
    incoterm: Incoterm = Incoterm.DAP
    # Storefront only: the provider's payment method token (never a card number).
    payment_method: str | None = None
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
