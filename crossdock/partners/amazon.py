"""Amazon Selling Partner API adapter: Orders v0 (getOrders by creation or last update,
getOrder, getOrderItems, confirmShipment), field names as in
amzn/selling-partner-api-models ordersV0.json.

A buyer's cancellation request shows on the order items (`BuyerRequestedCancel`) and
moves the order's LastUpdateDate, so it is found with `get_updated_orders`. Orders v0 has
no operation to cancel an order as the seller (that is a Feeds API order
acknowledgement), so this adapter offers none.

Responses are typed with Amazon's names as aliases; methods on the models return
Crossdock types (`Address`, `Buyer`, `Money`) so intake's translation stays short.
Failures arrive as `crossdock.partners.errors` types: 400/403/404 are `PartnerRejected`
(code from SP-API's error list, e.g. "InvalidInput"), 429 `RateLimited`, 5xx and
timeouts `PartnerUnavailable`.

Buyer and address data are read with a Restricted Data Token (Tokens API); the AWS
SigV4 signing some deployments still need is not done here.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

import httpx
from pydantic import BaseModel, ConfigDict, Field

from crossdock.models.order import Address, Buyer
from crossdock.money import Money, total
from crossdock.partners.amazon_api import PARTNER, MarketplaceApi, read_sp_api_error

# Re-exported: the Amazon clients and their tests know these as the Orders module's.
__all__ = ["PARTNER", "AmazonOrdersClient", "read_sp_api_error"]


class _SpApiModel(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore", populate_by_name=True)


class AmazonMoney(_SpApiModel):
    currency_code: str = Field(alias="CurrencyCode")
    amount: str = Field(alias="Amount")

    def money(self) -> Money:
        """As Crossdock money (exact; refuses more decimals than the currency has)."""
        return Money.parse(self.amount, self.currency_code)


class AmazonAddress(_SpApiModel):
    name: str | None = Field(default=None, alias="Name")
    address_line1: str | None = Field(default=None, alias="AddressLine1")
    address_line2: str | None = Field(default=None, alias="AddressLine2")
    address_line3: str | None = Field(default=None, alias="AddressLine3")
    city: str | None = Field(default=None, alias="City")
    state_or_region: str | None = Field(default=None, alias="StateOrRegion")
    postal_code: str | None = Field(default=None, alias="PostalCode")
    country_code: str | None = Field(default=None, alias="CountryCode")
    phone: str | None = Field(default=None, alias="Phone")


class AmazonBuyerInfo(_SpApiModel):
    buyer_email: str | None = Field(default=None, alias="BuyerEmail")
    buyer_name: str | None = Field(default=None, alias="BuyerName")


class AmazonOrder(_SpApiModel):
    """An SP-API Order (the fields Crossdock uses)."""

    amazon_order_id: str = Field(alias="AmazonOrderId")
    purchase_date: datetime = Field(alias="PurchaseDate")
    last_update_date: datetime = Field(alias="LastUpdateDate")
    order_status: str = Field(alias="OrderStatus")
    fulfillment_channel: str | None = Field(default=None, alias="FulfillmentChannel")
    marketplace_id: str | None = Field(default=None, alias="MarketplaceId")
    order_total: AmazonMoney | None = Field(default=None, alias="OrderTotal")
    number_of_items_shipped: int = Field(default=0, alias="NumberOfItemsShipped")
    number_of_items_unshipped: int = Field(default=0, alias="NumberOfItemsUnshipped")
    earliest_ship_date: datetime | None = Field(default=None, alias="EarliestShipDate")
    latest_ship_date: datetime | None = Field(default=None, alias="LatestShipDate")
    earliest_delivery_date: datetime | None = Field(default=None, alias="EarliestDeliveryDate")
    latest_delivery_date: datetime | None = Field(default=None, alias="LatestDeliveryDate")
    is_prime: bool = Field(default=False, alias="IsPrime")
    shipping_address: AmazonAddress | None = Field(default=None, alias="ShippingAddress")
    buyer_info: AmazonBuyerInfo | None = Field(default=None, alias="BuyerInfo")

    def ship_to(self) -> Address:
        """The shipping address as a Crossdock `Address`.

        Raises:
            ValueError: The order has no shipping address (restricted data not granted)
                or it lacks a name, street or city.
        """
        shipped = self.shipping_address
        if shipped is None:
            raise ValueError(f"Amazon order {self.amazon_order_id} has no ShippingAddress")
        return Address(
            name=shipped.name or "",
            line1=shipped.address_line1 or "",
            line2=" ".join(p for p in (shipped.address_line2, shipped.address_line3) if p),
            city=shipped.city or "",
            region=shipped.state_or_region or "",
            postal_code=shipped.postal_code or "",
            country=shipped.country_code or "",
            phone=shipped.phone or "",
        )

    def buyer(self) -> Buyer:
        """The buyer: BuyerInfo's name (else the recipient's) and anonymised email."""
        info = self.buyer_info or AmazonBuyerInfo()
        recipient = self.shipping_address.name if self.shipping_address else None
        return Buyer(name=info.buyer_name or recipient or "", email=info.buyer_email or "")

    def total(self) -> Money:
        """OrderTotal as Money."""
        if self.order_total is None:
            raise ValueError(f"Amazon order {self.amazon_order_id} has no OrderTotal")
        return self.order_total.money()

    @property
    def currency(self) -> str:
        return self.total().currency


class AmazonBuyerRequestedCancel(_SpApiModel):
    # SP-API sends the flag as the string "true" or "false".
    is_buyer_requested_cancel: str | None = Field(default=None, alias="IsBuyerRequestedCancel")
    buyer_cancel_reason: str | None = Field(default=None, alias="BuyerCancelReason")


class AmazonOrderItem(_SpApiModel):
    """An SP-API OrderItem. ItemPrice is for the whole quantity, not per unit."""

    order_item_id: str = Field(alias="OrderItemId")
    asin: str = Field(alias="ASIN")
    seller_sku: str | None = Field(default=None, alias="SellerSKU")
    title: str | None = Field(default=None, alias="Title")
    quantity_ordered: int = Field(alias="QuantityOrdered")
    quantity_shipped: int = Field(default=0, alias="QuantityShipped")
    item_price: AmazonMoney | None = Field(default=None, alias="ItemPrice")
    shipping_price: AmazonMoney | None = Field(default=None, alias="ShippingPrice")
    buyer_requested_cancel: AmazonBuyerRequestedCancel | None = Field(
        default=None, alias="BuyerRequestedCancel"
    )

    @property
    def cancel_requested(self) -> bool:
        """Whether the buyer asked the seller to cancel this item."""
        flag = self.buyer_requested_cancel
        return flag is not None and (flag.is_buyer_requested_cancel or "").lower() == "true"

    @property
    def buyer_cancel_reason(self) -> str:
        """The buyer's reason for the cancellation request ("" when none was given)."""
        flag = self.buyer_requested_cancel
        return (flag.buyer_cancel_reason or "") if flag is not None else ""

    def line_total(self) -> Money:
        """ItemPrice: what the buyer paid for all units of this item."""
        if self.item_price is None:
            raise ValueError(f"order item {self.order_item_id} has no ItemPrice")
        return self.item_price.money()

    def unit_price(self) -> Money:
        """ItemPrice / QuantityOrdered, exactly.

        Raises:
            ValueError: The price does not divide evenly by the quantity (a discount was
                applied); the order cannot be expressed as unit prices.
        """
        line = self.line_total()
        unit, remainder = divmod(line.amount, self.quantity_ordered)
        if remainder:
            raise ValueError(
                f"order item {self.order_item_id}: ItemPrice {line} does not divide evenly "
                f"by QuantityOrdered {self.quantity_ordered}"
            )
        return Money(amount=unit, currency=line.currency)

    def shipping(self, currency: str) -> Money:
        """ShippingPrice, or zero in `currency` when the item carries none."""
        if self.shipping_price is None:
            return Money.zero(currency)
        return self.shipping_price.money()


def shipping_total(items: list[AmazonOrderItem], currency: str) -> Money:
    """The order's shipping: Amazon spreads it over the items' ShippingPrice."""
    return total([item.shipping(currency) for item in items], currency)


class AmazonOrdersPage(BaseModel):
    orders: list[AmazonOrder]
    next_token: str | None = None
    # The window's end: CreatedBefore for a listing by creation, else LastUpdatedBefore.
    created_before: datetime | None = None
    last_updated_before: datetime | None = None


class AmazonPackage(BaseModel):
    """One shipped package, for confirmShipment. `order_items`: (OrderItemId, quantity)."""

    package_reference_id: str = Field(pattern=r"^[1-9][0-9]*$")
    carrier_code: str = Field(min_length=1)
    carrier_name: str | None = None
    shipping_method: str | None = None
    tracking_number: str = Field(min_length=1)
    ship_date: datetime
    order_items: list[tuple[str, int]] = Field(min_length=1)

    def wire(self) -> dict[str, Any]:
        """The SP-API PackageDetail."""
        detail: dict[str, Any] = {
            "packageReferenceId": self.package_reference_id,
            "carrierCode": self.carrier_code,
            "trackingNumber": self.tracking_number,
            "shipDate": _iso(self.ship_date),
            "orderItems": [{"orderItemId": i, "quantity": q} for i, q in self.order_items],
        }
        if self.carrier_name:
            detail["carrierName"] = self.carrier_name
        if self.shipping_method:
            detail["shippingMethod"] = self.shipping_method
        return detail


def _iso(moment: datetime) -> str:
    if moment.tzinfo is None:
        raise ValueError(f"{moment.isoformat()} has no time zone")
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


TOKENS_PATH = "/tokens/2021-03-01/restrictedDataToken"
RESTRICTED_ELEMENTS = ["buyerInfo", "shippingAddress"]


class AmazonOrdersClient(MarketplaceApi):
    """Async client for SP-API Orders v0 in one marketplace.

    Args:
        base_url: API root, e.g. "http://127.0.0.1:8700/amazon" or
            "https://sellingpartnerapi-eu.amazon.com".
        access_token: The LWA access token sent as `x-amz-access-token`.
        marketplace_id: The marketplace to read orders from and confirm shipments in.
        http: A shared `httpx.AsyncClient`; one is created (and owned) when omitted.
        timeout: Seconds per request.
        restricted_data: Read orders with a Restricted Data Token (Tokens API), without
            which SP-API withholds the buyer's name and the address lines that `ship_to`
            needs; off only for an application not approved for the PII roles.
    """

    def __init__(
        self,
        base_url: str,
        access_token: str,
        marketplace_id: str,
        http: httpx.AsyncClient | None = None,
        timeout: float = 10.0,
        *,
        restricted_data: bool = True,
    ) -> None:
        super().__init__(base_url, access_token, marketplace_id, http, timeout)
        self._restricted_data = restricted_data
        # Restricted Data Tokens by the (generic) path they open, with when to renew them.
        self._tokens: dict[str, tuple[str, float]] = {}

    async def _restricted(self, path: str) -> dict[str, str]:
        """Headers that open buyerInfo and shippingAddress on `path`: a Restricted Data
        Token in place of the access token, created once and renewed a minute before it
        expires."""
        if not self._restricted_data:
            return {}
        held = self._tokens.get(path)
        if held is None or held[1] <= time.monotonic():
            resource = {"method": "GET", "path": path, "dataElements": RESTRICTED_ELEMENTS}
            body = await self._json("POST", TOKENS_PATH, json={"restrictedResources": [resource]})
            lifetime = float(body.get("expiresIn") or 3600)
            held = str(body["restrictedDataToken"]), time.monotonic() + max(lifetime - 60, 1)
            self._tokens[path] = held
        return {"x-amz-access-token": held[0]}

    async def get_orders(
        self,
        created_after: datetime,
        next_token: str | None = None,
        *,
        max_results_per_page: int = 100,
    ) -> AmazonOrdersPage:
        """One page of orders created at or after `created_after`, oldest first.

        Pass the returned `next_token` to read the next page (the window is then taken
        from the token, as SP-API does).
        """
        params: dict[str, str | int] = {"MarketplaceIds": self.marketplace_id}
        if next_token:
            params["NextToken"] = next_token
        else:
            params["CreatedAfter"] = _iso(created_after)
            params["MaxResultsPerPage"] = max_results_per_page
        return await self._list(params)

    async def get_updated_orders(
        self,
        last_updated_after: datetime,
        next_token: str | None = None,
        *,
        order_statuses: tuple[str, ...] = (),
        max_results_per_page: int = 100,
    ) -> AmazonOrdersPage:
        """One page of orders changed at or after `last_updated_after`, oldest change
        first: new orders, status changes and buyers' cancellation requests.

        Args:
            last_updated_after: Start of the window (SP-API `LastUpdatedAfter`).
            next_token: The previous page's token; the window is then taken from it.
            order_statuses: Only orders in these `OrderStatus` values (all when empty).
            max_results_per_page: Page size, 1 to 100.
        """
        params: dict[str, str | int] = {"MarketplaceIds": self.marketplace_id}
        if next_token:
            params["NextToken"] = next_token
        else:
            params["LastUpdatedAfter"] = _iso(last_updated_after)
            params["MaxResultsPerPage"] = max_results_per_page
            if order_statuses:
                params["OrderStatuses"] = ",".join(order_statuses)
        return await self._list(params)

    async def _list(self, params: dict[str, str | int]) -> AmazonOrdersPage:
        headers = await self._restricted("/orders/v0/orders")
        response = await self._call("GET", "/orders/v0/orders", params=params, headers=headers)
        payload = response.json()["payload"]
        return AmazonOrdersPage(
            orders=[AmazonOrder.model_validate(o) for o in payload.get("Orders", [])],
            next_token=payload.get("NextToken") or None,
            created_before=payload.get("CreatedBefore"),
            last_updated_before=payload.get("LastUpdatedBefore"),
        )

    async def get_order(self, order_id: str) -> AmazonOrder:
        """getOrder."""
        headers = await self._restricted("/orders/v0/orders/{orderId}")
        response = await self._call("GET", f"/orders/v0/orders/{order_id}", headers=headers)
        return AmazonOrder.model_validate(response.json()["payload"])

    async def get_order_items(self, order_id: str) -> list[AmazonOrderItem]:
        """All items of the order, following NextToken through every page."""
        items: list[AmazonOrderItem] = []
        token: str | None = None
        while True:
            params = {"NextToken": token} if token else None
            response = await self._call(
                "GET", f"/orders/v0/orders/{order_id}/orderItems", params=params
            )
            payload = response.json()["payload"]
            items += [AmazonOrderItem.model_validate(i) for i in payload.get("OrderItems", [])]
            token = payload.get("NextToken") or None
            if token is None:
                return items

    async def confirm_shipment(self, order_id: str, package: AmazonPackage) -> None:
        """confirmShipment for one package. Repeating it with the same package is safe."""
        await self._call(
            "POST",
            f"/orders/v0/orders/{order_id}/shipmentConfirmation",
            json={"marketplaceId": self.marketplace_id, "packageDetail": package.wire()},
        )
