"""eBay Sell Fulfillment API v1 adapter: getOrders, getOrder, createShippingFulfillment,
getShippingFulfillment, with eBay's field names as aliases.

Methods on the models return Crossdock types (`Address`, `Buyer`, `Money`) so intake's
translation stays short. Failures arrive as `crossdock.partners.errors` types with
eBay's errorId as the code (e.g. "32200" for an unknown line item); 401 (bad token) is
`PartnerRejected`, 429 `RateLimited`, 5xx and timeouts `PartnerUnavailable`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

from pydantic import BaseModel, ConfigDict, Field

from crossdock.models.order import Address, Buyer
from crossdock.money import Money
from crossdock.partners.ebay_api import PARTNER, SELL_FULFILLMENT, EbayApi, read_ebay_error

# Re-exported: the eBay clients and their tests know these as the Fulfillment module's.
__all__ = ["PARTNER", "EbayFulfillmentClient", "read_ebay_error"]


class _EbayModel(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore", populate_by_name=True)


class EbayAmount(_EbayModel):
    value: str
    currency: str

    def money(self) -> Money:
        """As Crossdock money (exact; refuses more decimals than the currency has)."""
        return Money.parse(self.value, self.currency)


class EbayAddress(_EbayModel):
    address_line1: str | None = Field(default=None, alias="addressLine1")
    address_line2: str | None = Field(default=None, alias="addressLine2")
    city: str | None = None
    state_or_province: str | None = Field(default=None, alias="stateOrProvince")
    postal_code: str | None = Field(default=None, alias="postalCode")
    country_code: str | None = Field(default=None, alias="countryCode")


class EbayPhone(_EbayModel):
    phone_number: str | None = Field(default=None, alias="phoneNumber")


class EbayContact(_EbayModel):
    full_name: str | None = Field(default=None, alias="fullName")
    contact_address: EbayAddress | None = Field(default=None, alias="contactAddress")
    primary_phone: EbayPhone | None = Field(default=None, alias="primaryPhone")
    email: str | None = None


class EbayBuyer(_EbayModel):
    username: str | None = None
    buyer_registration_address: EbayContact | None = Field(
        default=None, alias="buyerRegistrationAddress"
    )


class EbayShippingStep(_EbayModel):
    ship_to: EbayContact | None = Field(default=None, alias="shipTo")
    shipping_carrier_code: str | None = Field(default=None, alias="shippingCarrierCode")
    shipping_service_code: str | None = Field(default=None, alias="shippingServiceCode")


class EbayFulfillmentInstruction(_EbayModel):
    fulfillment_instructions_type: str | None = Field(
        default=None, alias="fulfillmentInstructionsType"
    )
    min_estimated_delivery_date: datetime | None = Field(
        default=None, alias="minEstimatedDeliveryDate"
    )
    max_estimated_delivery_date: datetime | None = Field(
        default=None, alias="maxEstimatedDeliveryDate"
    )
    shipping_step: EbayShippingStep | None = Field(default=None, alias="shippingStep")


class EbayPricingSummary(_EbayModel):
    price_subtotal: EbayAmount | None = Field(default=None, alias="priceSubtotal")
    delivery_cost: EbayAmount | None = Field(default=None, alias="deliveryCost")
    total: EbayAmount | None = None


class EbayLineItemInstructions(_EbayModel):
    ship_by_date: datetime | None = Field(default=None, alias="shipByDate")
    min_estimated_delivery_date: datetime | None = Field(
        default=None, alias="minEstimatedDeliveryDate"
    )
    max_estimated_delivery_date: datetime | None = Field(
        default=None, alias="maxEstimatedDeliveryDate"
    )


class EbayLineItem(_EbayModel):
    """A line item. lineItemCost is for the whole quantity, not per unit."""

    line_item_id: str = Field(alias="lineItemId")
    # The listing; with lineItemId (the legacy transaction id) it names the line the
    # way Post-Order's cases do (itemId + transactionId).
    legacy_item_id: str | None = Field(default=None, alias="legacyItemId")
    sku: str | None = None
    title: str | None = None
    quantity: int
    line_item_cost: EbayAmount = Field(alias="lineItemCost")
    total: EbayAmount | None = None
    line_item_fulfillment_status: str | None = Field(
        default=None, alias="lineItemFulfillmentStatus"
    )
    line_item_fulfillment_instructions: EbayLineItemInstructions | None = Field(
        default=None, alias="lineItemFulfillmentInstructions"
    )

    def line_total(self) -> Money:
        """lineItemCost: what the buyer paid for all units, before shipping."""
        return self.line_item_cost.money()

    def unit_price(self) -> Money:
        """lineItemCost / quantity, exactly.

        Raises:
            ValueError: The cost does not divide evenly by the quantity.
        """
        line = self.line_total()
        unit, remainder = divmod(line.amount, self.quantity)
        if remainder:
            raise ValueError(
                f"line item {self.line_item_id}: lineItemCost {line} does not divide evenly "
                f"by quantity {self.quantity}"
            )
        return Money(amount=unit, currency=line.currency)


class EbayOrder(_EbayModel):
    """An eBay order (the fields Crossdock uses)."""

    order_id: str = Field(alias="orderId")
    creation_date: datetime = Field(alias="creationDate")
    last_modified_date: datetime | None = Field(default=None, alias="lastModifiedDate")
    order_fulfillment_status: str = Field(alias="orderFulfillmentStatus")
    order_payment_status: str = Field(alias="orderPaymentStatus")
    buyer: EbayBuyer | None = None
    pricing_summary: EbayPricingSummary | None = Field(default=None, alias="pricingSummary")
    fulfillment_start_instructions: list[EbayFulfillmentInstruction] = Field(
        default_factory=list, alias="fulfillmentStartInstructions"
    )
    line_items: list[EbayLineItem] = Field(default_factory=list, alias="lineItems")

    def _ship_to_contact(self) -> EbayContact:
        for instruction in self.fulfillment_start_instructions:
            step = instruction.shipping_step
            if step is not None and step.ship_to is not None:
                return step.ship_to
        raise ValueError(f"eBay order {self.order_id} has no shippingStep.shipTo")

    def ship_to(self) -> Address:
        """The first fulfillment instruction's shipTo as a Crossdock `Address`."""
        contact = self._ship_to_contact()
        address = contact.contact_address or EbayAddress()
        return Address(
            name=contact.full_name or "",
            line1=address.address_line1 or "",
            line2=address.address_line2 or "",
            city=address.city or "",
            region=address.state_or_province or "",
            postal_code=address.postal_code or "",
            country=address.country_code or "",
            phone=(contact.primary_phone or EbayPhone()).phone_number or "",
        )

    def buyer_contact(self) -> Buyer:
        """The buyer: registration name (else recipient, else username) and email."""
        buyer = self.buyer or EbayBuyer()
        registered = buyer.buyer_registration_address or EbayContact()
        recipient = self._ship_to_contact()
        name = registered.full_name or recipient.full_name or buyer.username or ""
        return Buyer(name=name, email=registered.email or recipient.email or "")

    def billing_country(self) -> str | None:
        """buyer.buyerRegistrationAddress.contactAddress.countryCode: the buyer's registered
        country, the nearest eBay tells a seller to a billing country (None if absent)."""
        registered = (self.buyer or EbayBuyer()).buyer_registration_address or EbayContact()
        return (registered.contact_address or EbayAddress()).country_code or None

    def _summary(self, name: str, amount: EbayAmount | None) -> Money:
        if amount is None:
            raise ValueError(f"eBay order {self.order_id} has no pricingSummary.{name}")
        return amount.money()

    def shipping(self) -> Money:
        """pricingSummary.deliveryCost."""
        summary = self.pricing_summary or EbayPricingSummary()
        return self._summary("deliveryCost", summary.delivery_cost)

    def total(self) -> Money:
        """pricingSummary.total."""
        summary = self.pricing_summary or EbayPricingSummary()
        return self._summary("total", summary.total)

    @property
    def currency(self) -> str:
        return self.total().currency

    def ship_by(self) -> datetime:
        """The earliest shipByDate over the line items (the binding deadline)."""
        dates = [
            line.line_item_fulfillment_instructions.ship_by_date
            for line in self.line_items
            if line.line_item_fulfillment_instructions is not None
            and line.line_item_fulfillment_instructions.ship_by_date is not None
        ]
        if not dates:
            raise ValueError(f"eBay order {self.order_id} has no shipByDate")
        return min(dates)

    def deliver_by(self) -> datetime:
        """The latest estimated delivery date the seller committed to."""
        dates = [
            i.max_estimated_delivery_date
            for i in self.fulfillment_start_instructions
            if i.max_estimated_delivery_date is not None
        ]
        if not dates:
            raise ValueError(f"eBay order {self.order_id} has no maxEstimatedDeliveryDate")
        return max(dates)


class EbayOrdersPage(BaseModel):
    orders: list[EbayOrder]
    total: int
    next_offset: int | None = None


class EbayShippingFulfillment(_EbayModel):
    fulfillment_id: str = Field(alias="fulfillmentId")
    shipment_tracking_number: str | None = Field(default=None, alias="shipmentTrackingNumber")
    shipping_carrier_code: str | None = Field(default=None, alias="shippingCarrierCode")
    shipped_date: datetime | None = Field(default=None, alias="shippedDate")
    line_items: list[dict[str, Any]] = Field(default_factory=list, alias="lineItems")


def _timestamp(moment: datetime) -> str:
    if moment.tzinfo is None:
        raise ValueError(f"{moment.isoformat()} has no time zone")
    utc = moment.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def _next_offset(body: dict[str, Any], offset: int, returned: int) -> int | None:
    link = body.get("next")
    if not link:
        return None
    found = parse_qs(urlsplit(link).query).get("offset")
    return int(found[0]) if found and found[0].isdigit() else offset + returned


class EbayFulfillmentClient(EbayApi):
    """Async client for the eBay Sell Fulfillment API v1.

    Args:
        base_url: API root, e.g. "http://127.0.0.1:8700/ebay" or "https://api.ebay.com".
        access_token: The OAuth user access token (sent as a Bearer token).
        http: A shared `httpx.AsyncClient`; one is created (and owned) when omitted.
        timeout: Seconds per request.
    """

    root = SELL_FULFILLMENT

    async def get_orders(
        self, created_after: datetime, offset: int = 0, limit: int = 50
    ) -> EbayOrdersPage:
        """One page of orders created at or after `created_after`, oldest first."""
        params = {
            "filter": f"creationdate:[{_timestamp(created_after)}..]",
            "offset": str(offset),
            "limit": str(limit),
        }
        body = (await self._call("GET", "/order", params=params)).json()
        orders = [EbayOrder.model_validate(o) for o in body.get("orders", [])]
        return EbayOrdersPage(
            orders=orders,
            total=body.get("total", len(orders)),
            next_offset=_next_offset(body, offset, len(orders)),
        )

    async def get_order(self, order_id: str) -> EbayOrder:
        """getOrder."""
        response = await self._call("GET", f"/order/{order_id}")
        return EbayOrder.model_validate(response.json())

    async def create_shipping_fulfillment(
        self,
        order_id: str,
        line_items: list[tuple[str, int]],
        tracking_number: str,
        carrier_code: str,
        shipped_at: datetime,
    ) -> str:
        """Mark line items shipped in one package; returns the fulfillment id.

        Repeating the call with the same tracking number and line items returns the same
        fulfillment without shipping anything twice.
        """
        response = await self._call(
            "POST",
            f"/order/{order_id}/shipping_fulfillment",
            json={
                "lineItems": [{"lineItemId": i, "quantity": q} for i, q in line_items],
                "shippedDate": _timestamp(shipped_at),
                "shippingCarrierCode": carrier_code,
                "trackingNumber": tracking_number,
            },
        )
        location: str = response.headers.get("Location", "")
        fulfillment_id = location.rstrip("/").rsplit("/", 1)[-1]
        if not fulfillment_id:
            raise ValueError(f"eBay answered {response.status_code} without a Location")
        return fulfillment_id

    async def get_shipping_fulfillment(
        self, order_id: str, fulfillment_id: str
    ) -> EbayShippingFulfillment:
        """getShippingFulfillment."""
        response = await self._call(
            "GET", f"/order/{order_id}/shipping_fulfillment/{fulfillment_id}"
        )
        return EbayShippingFulfillment.model_validate(response.json())
