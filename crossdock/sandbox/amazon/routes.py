"""Amazon Selling Partner API, Orders v0 (getOrders, getOrder, getOrderItems,
confirmShipment), with the field names of amzn/selling-partner-api-models ordersV0.json.

Orders enter through the admin route `POST /amazon/_sandbox/orders` (a Crossdock `Order`),
as a buyer's checkout on Amazon would create them; `POST .../{id}/buyer-cancel` is the
buyer asking the seller to cancel (items get `BuyerRequestedCancel`, LastUpdateDate moves).
Every SP-API route needs an `x-amz-access-token` header. getOrders lists by creation or by
last update; NextTokens are opaque keyset cursors (PurchaseDate or LastUpdateDate, order
id), so orders placed while a client pages through cannot shift or repeat a page.

Orders v0 (and the read-only 2026-01-01 Orders API) has no operation for the seller to
cancel an order: sellers do that with an order-acknowledgement feed (Feeds API), simulated
in `amazon/feeds.py` on the same order book. Buyers' return requests and the returns
report that sellers read them from (Reports API) are in `amazon/reports.py`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Query
from fastapi.responses import Response
from pydantic import BaseModel, Field

from crossdock.models.order import Order
from crossdock.money import Money
from crossdock.sandbox.amazon.claims import add_routes as add_claim_routes
from crossdock.sandbox.amazon.feeds import add_routes as add_feed_routes
from crossdock.sandbox.amazon.messaging import add_routes as add_messaging_routes
from crossdock.sandbox.amazon.orders import (
    CREATED,
    UPDATED,
    AmazonOrders,
    ConfirmShipmentRequest,
    ItemRecord,
    OrderRecord,
    invalid,
    iso,
    sp_api_error,
)
from crossdock.sandbox.amazon.query import (
    OrdersQuery,
    decode_token,
    encode_token,
    list_state,
    marketplaces,
)
from crossdock.sandbox.amazon.reports import add_routes as add_report_routes
from crossdock.sandbox.amazon.tokens import RestrictedData, add_token_routes, require_access_token
from crossdock.sandbox.context import SandboxContext
from crossdock.sandbox.core.routes import partner_route

DEFAULT_MARKETPLACE = "A1PA6795UKMFR9"
ITEMS_PAGE_SIZE = 10
SALES_CHANNELS = {
    "ATVPDKIKX0DER": "Amazon.com",
    "A2EUQ1WTGCTBG2": "Amazon.ca",
    "A1PA6795UKMFR9": "Amazon.de",
    "A1F83G8C2ARO7P": "Amazon.co.uk",
    "A13V1IB3VIYZZH": "Amazon.fr",
    "APJ6JRA9NG5V4": "Amazon.it",
    "A1RKKUPIHCS9HS": "Amazon.es",
    "A1805IZSGTT6HS": "Amazon.nl",
    "A1VC38T7YXB528": "Amazon.co.jp",
    "A39IBJ37TRP1C6": "Amazon.com.au",
}


# ---------------------------------------------------------------- wire shapes


def _money(money: Money) -> dict[str, str]:
    return {"CurrencyCode": money.currency, "Amount": money.to_decimal_string()}


def _address(record: OrderRecord, restricted: bool) -> dict[str, str]:
    address = record.order.ship_to
    shown = {
        "City": address.city,
        "StateOrRegion": address.region,
        "PostalCode": address.postal_code,
        "CountryCode": address.country,
        "AddressType": "Residential",
    }
    if restricted:
        shown |= {
            "Name": address.name,
            "AddressLine1": address.line1,
            "AddressLine2": address.line2,
            "Phone": address.phone,
        }
    return shown


ALL_DATA = frozenset({"buyerInfo", "shippingAddress"})


def _order_json(record: OrderRecord, opened: frozenset[str] = ALL_DATA) -> dict[str, Any]:
    """An Order; the restricted fields only for the data elements `opened` (a Restricted
    Data Token's), as SP-API withholds them otherwise."""
    order = record.order
    shipped = sum(item.shipped for item in record.items)
    canceled = sum(item.quantity for item in record.items if item.seller_cancel_reason)
    return {
        "AmazonOrderId": record.id,
        "PurchaseDate": iso(order.placed_at),
        "LastUpdateDate": iso(record.last_update),
        "OrderStatus": record.status,
        "FulfillmentChannel": "MFN",
        "SalesChannel": SALES_CHANNELS.get(record.marketplace_id, "Amazon"),
        "ShipServiceLevel": "Standard",
        "OrderTotal": _money(order.order_total),
        "NumberOfItemsShipped": shipped,
        "NumberOfItemsUnshipped": sum(item.quantity for item in record.items) - shipped - canceled,
        "PaymentMethod": "Other",
        "PaymentMethodDetails": ["Standard"],
        "MarketplaceId": record.marketplace_id,
        "ShipmentServiceLevelCategory": "Standard",
        "OrderType": "StandardOrder",
        "EarliestShipDate": iso(order.placed_at),
        "LatestShipDate": iso(order.ship_by),
        "EarliestDeliveryDate": iso(order.ship_by),
        "LatestDeliveryDate": iso(order.deliver_by),
        "IsBusinessOrder": False,
        "IsPrime": False,
        "IsPremiumOrder": False,
        "IsGlobalExpressEnabled": False,
        "IsReplacementOrder": False,
        "IsSoldByAB": False,
        "IsISPU": False,
        "IsAccessPointOrder": False,
        "ShippingAddress": _address(record, "shippingAddress" in opened),
        "BuyerInfo": (
            {"BuyerEmail": order.buyer.email, "BuyerName": order.buyer.name}
            if "buyerInfo" in opened
            else {}
        ),
    }


def _item_json(item: ItemRecord) -> dict[str, Any]:
    shaped: dict[str, Any] = {
        "ASIN": item.asin,
        "SellerSKU": item.sku,
        "OrderItemId": item.order_item_id,
        "Title": item.title,
        "QuantityOrdered": item.quantity,
        "QuantityShipped": item.shipped,
        "ProductInfo": {"NumberOfItems": "1"},
        "ItemPrice": _money(item.item_price),
        "ItemTax": _money(Money.zero(item.item_price.currency)),
        "IsGift": "false",
        "ConditionId": "New",
        "IsTransparency": False,
    }
    if item.shipping_price is not None:
        shaped["ShippingPrice"] = _money(item.shipping_price)
    if item.buyer_cancel_reason is not None:
        shaped["BuyerRequestedCancel"] = {
            "IsBuyerRequestedCancel": "true",
            "BuyerCancelReason": item.buyer_cancel_reason,
        }
    return shaped


# ---------------------------------------------------------------- listing


def _orders_payload(
    orders: AmazonOrders, markets: set[str], state: dict[str, Any], opened: frozenset[str]
) -> Any:
    key = tuple(state["key"]) if state.get("key") else None
    matching = orders.listed(markets, state, key)
    page = matching[: state["size"]]
    payload: dict[str, Any] = {"Orders": [_order_json(r, opened) for r in page]}
    # The answer names the window's end by the kind of window asked for.
    if state.get("by") == UPDATED:
        payload["LastUpdatedBefore"] = state["before"]
    else:
        payload["CreatedBefore"] = state.get("before") or iso(datetime.now(UTC))
    if len(matching) > len(page):
        cursor = page[-1].key(state.get("by", CREATED))
        payload["NextToken"] = encode_token({**state, "key": list(cursor)})
    return {"payload": payload}


# ---------------------------------------------------------------- routes


class BuyerCancelRequest(BaseModel):
    """What a buyer types when asking for a cancellation (free text on Amazon)."""

    reason: str = Field(min_length=1, max_length=500)


def _admin_routes(router: APIRouter, orders: AmazonOrders) -> None:
    @router.post("/amazon/_sandbox/orders", status_code=201)
    async def create_order(order: Order, marketplace_id: str = DEFAULT_MARKETPLACE) -> Any:
        """Place an order on Amazon as a buyer would (not an SP-API operation)."""
        record = orders.create(order, marketplace_id)
        return _order_json(record) | {"OrderItems": [_item_json(i) for i in record.items]}

    @router.post("/amazon/_sandbox/orders/{order_id}/cancel")
    async def cancel_order(order_id: str) -> Any:
        """The buyer cancels an unshipped order."""
        return _order_json(orders.cancel(order_id))

    @router.post("/amazon/_sandbox/orders/{order_id}/buyer-cancel")
    async def request_cancellation(order_id: str, request: BuyerCancelRequest) -> Any:
        """The buyer asks the seller to cancel (Amazon's "Request cancellation")."""
        record = orders.request_cancel(order_id, request.reason)
        return _order_json(record) | {"OrderItems": [_item_json(i) for i in record.items]}


# The access token a request came with: a Restricted Data Token opens restricted fields.
Token = Annotated[str | None, Header(alias="x-amz-access-token")]


def _order_routes(router: APIRouter, orders: AmazonOrders, tokens: RestrictedData) -> None:
    auth = [Depends(require_access_token)]

    @router.get("/amazon/orders/v0/orders", dependencies=auth)
    async def get_orders(
        marketplace_ids: Annotated[list[str] | None, Query(alias="MarketplaceIds")] = None,
        created_after: Annotated[str | None, Query(alias="CreatedAfter")] = None,
        created_before: Annotated[str | None, Query(alias="CreatedBefore")] = None,
        last_updated_after: Annotated[str | None, Query(alias="LastUpdatedAfter")] = None,
        last_updated_before: Annotated[str | None, Query(alias="LastUpdatedBefore")] = None,
        order_statuses: Annotated[list[str] | None, Query(alias="OrderStatuses")] = None,
        max_results: Annotated[int | None, Query(alias="MaxResultsPerPage")] = None,
        next_token: Annotated[str | None, Query(alias="NextToken")] = None,
        token: Token = None,
    ) -> Any:
        """getOrders: orders created (or last updated) in a window, oldest first."""
        markets = marketplaces(marketplace_ids)
        if next_token:
            state = decode_token(next_token, {"after", "size", "key"})
        else:
            query = OrdersQuery(
                created_after=created_after,
                created_before=created_before,
                last_updated_after=last_updated_after,
                last_updated_before=last_updated_before,
                max_results=max_results,
                statuses=order_statuses,
            )
            state = list_state(query)
        opened = tokens.opened(token, "/orders/v0/orders")
        return _orders_payload(orders, markets, state, opened)

    @router.get("/amazon/orders/v0/orders/{order_id}", dependencies=auth)
    async def get_order(order_id: str, token: Token = None) -> Any:
        """getOrder."""
        opened = tokens.opened(token, f"/orders/v0/orders/{order_id}")
        return {"payload": _order_json(orders.get(order_id), opened)}

    @router.get("/amazon/orders/v0/orders/{order_id}/orderItems", dependencies=auth)
    async def get_order_items(
        order_id: str, next_token: Annotated[str | None, Query(alias="NextToken")] = None
    ) -> Any:
        """getOrderItems, NextToken-paginated."""
        return {"payload": _items_page(orders.get(order_id), next_token)}


def _items_page(record: OrderRecord, next_token: str | None) -> dict[str, Any]:
    """One page of an order's items, from where `next_token` says, with the next token."""
    order_id = record.id
    start = 0
    if next_token:
        state = decode_token(next_token, {"order", "start"})
        if state["order"] != order_id or not isinstance(state["start"], int):
            raise invalid(f"NextToken {next_token!r} is not a token for order {order_id!r}")
        start = state["start"]
    end = start + ITEMS_PAGE_SIZE
    payload: dict[str, Any] = {
        "AmazonOrderId": order_id,
        "OrderItems": [_item_json(i) for i in record.items[start:end]],
    }
    if end < len(record.items):
        payload["NextToken"] = encode_token({"order": order_id, "start": end})
    return payload


def _shipment_routes(router: APIRouter, orders: AmazonOrders, ctx: SandboxContext) -> None:
    @router.post(
        "/amazon/orders/v0/orders/{order_id}/shipmentConfirmation",
        dependencies=[Depends(require_access_token)],
    )
    async def confirm_shipment(order_id: str, request: ConfirmShipmentRequest) -> Response:
        """confirmShipment: one package of the order has shipped (204, no body)."""
        record = orders.get(order_id)
        if orders.confirm(record, request):
            package = request.packageDetail
            ctx.ledger.record(
                partner="amazon",
                kind="confirmation",
                reference=order_id,
                tracking_number=package.trackingNumber,
                package=package.packageReferenceId,
                carrier_code=package.carrierCode,
                items={line.orderItemId: line.quantity for line in package.orderItems},
            )
        return Response(status_code=204)


def _render_invalid(field: str, message: str) -> Response:
    return sp_api_error(400, "InvalidInput", f"{field}: {message}")


def build(ctx: SandboxContext) -> APIRouter:
    """The Amazon SP-API Orders v0 simulator under /amazon."""
    router = APIRouter(route_class=partner_route(_render_invalid), tags=["amazon"])
    orders = AmazonOrders(ctx.store)
    _admin_routes(router, orders)
    tokens = RestrictedData(ctx.store)
    add_token_routes(router, tokens, [require_access_token])
    _order_routes(router, orders, tokens)
    _shipment_routes(router, orders, ctx)
    add_feed_routes(router, orders, ctx)
    add_claim_routes(router, orders, ctx, [require_access_token])
    add_report_routes(router, orders, ctx)
    add_messaging_routes(router, orders, ctx, [require_access_token])
    return router
