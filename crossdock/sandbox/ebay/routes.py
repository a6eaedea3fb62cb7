"""eBay Sell Fulfillment API v1 (getOrders, getOrder, createShippingFulfillment,
getShippingFulfillment(s), issueRefund in `ebay/refunds.py`), with the field names of
eBay's published OpenAPI contract, and the Post-Order API's cancellations
(`ebay/post_order.py`) on the same order book.

Orders enter through the admin route `POST /ebay/_sandbox/orders` (a Crossdock `Order`).
Every API route needs `Authorization: Bearer <token>`. getOrders supports the
`creationdate`, `lastmodifieddate` and `orderfulfillmentstatus` filters and
limit/offset paging, oldest order first, as eBay does.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Query, Request
from fastapi.responses import Response

from crossdock.models.order import Address, Order
from crossdock.money import Money
from crossdock.sandbox.context import SandboxContext
from crossdock.sandbox.core.routes import Refusal, partner_route
from crossdock.sandbox.ebay.cases import add_routes as add_case_routes
from crossdock.sandbox.ebay.filter import OrderFilter, parse_filter, parse_paging
from crossdock.sandbox.ebay.messages import add_routes as add_message_routes
from crossdock.sandbox.ebay.orders import (
    EbayOrders,
    ShippingFulfillmentDetails,
    buyer_username,
    ebay_error,
    marketplace_of,
    post_order_error,
    refuse,
)
from crossdock.sandbox.ebay.payment_disputes import add_routes as add_payment_dispute_routes
from crossdock.sandbox.ebay.post_order import add_routes as add_post_order_routes
from crossdock.sandbox.ebay.post_order import fulfillment_cancel_status
from crossdock.sandbox.ebay.records import (
    FulfillmentRecord,
    LineRecord,
    OrderRecord,
    RefundRecord,
    timestamp,
)
from crossdock.sandbox.ebay.refunds import add_routes as add_refund_routes
from crossdock.sandbox.ebay.refunds import refunded
from crossdock.sandbox.ebay.return_requests import add_routes as add_return_routes

API = "/ebay/sell/fulfillment/v1"


def _require_bearer(authorization: Annotated[str | None, Header()] = None) -> None:
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Refusal(
            ebay_error(
                401,
                1001,
                "Invalid access token",
                {"Authorization": "missing or not a Bearer token"},
                domain="OAuth",
            )
        )


# ---------------------------------------------------------------- wire shapes


def _amount(money: Money) -> dict[str, str]:
    return {"value": money.to_decimal_string(), "currency": money.currency}


def _contact(address: Address, email: str) -> dict[str, Any]:
    return {
        "fullName": address.name,
        "contactAddress": {
            "addressLine1": address.line1,
            "addressLine2": address.line2,
            "city": address.city,
            "stateOrProvince": address.region,
            "postalCode": address.postal_code,
            "countryCode": address.country,
        },
        "primaryPhone": {"phoneNumber": address.phone},
        "email": email,
    }


def _registration(order: Order) -> dict[str, Any]:
    """The buyer's registration address: the ship-to, in the billing country when the
    placed order names another one (the sandbox knows no other address of the buyer)."""
    contact = _contact(order.ship_to, order.buyer.email)
    if order.billing_country is not None:
        contact["contactAddress"]["countryCode"] = order.billing_country
    return contact


def _line_json(
    line: LineRecord, order: Order, marketplace: str, refunds: list[RefundRecord]
) -> dict[str, Any]:
    return {
        "lineItemId": line.line_item_id,
        "legacyItemId": line.legacy_item_id,
        "sku": line.sku,
        "title": line.title,
        "quantity": line.quantity,
        "lineItemCost": _amount(line.line_cost),
        "deliveryCost": {"shippingCost": _amount(line.shipping)},
        "total": _amount(line.line_cost + line.shipping),
        "soldFormat": "FIXED_PRICE",
        "listingMarketplaceId": marketplace,
        "purchaseMarketplaceId": marketplace,
        "lineItemFulfillmentStatus": line.status,
        "lineItemFulfillmentInstructions": {
            "guaranteedDelivery": False,
            "shipByDate": timestamp(order.ship_by),
            "minEstimatedDeliveryDate": timestamp(order.ship_by),
            "maxEstimatedDeliveryDate": timestamp(order.deliver_by),
        },
        "appliedPromotions": [],
        "taxes": [],
        "refunds": [
            shaped
            for refund in refunds
            if (shaped := refund.line_json(line.line_item_id)) is not None
        ],
    }


def _order_json(record: OrderRecord, base_url: str, *, detail: bool = True) -> dict[str, Any]:
    order = record.order
    marketplace = marketplace_of(order)
    return {
        # No legacyOrderId: Fulfillment v1 (1.20) dropped it from the Order type.
        "orderId": record.id,
        "creationDate": timestamp(order.placed_at),
        "lastModifiedDate": timestamp(record.last_modified),
        "orderFulfillmentStatus": record.status,
        "orderPaymentStatus": _payment_status(record),
        "sellerId": "crossdock_seller",
        "buyer": {
            "username": buyer_username(order),
            "buyerRegistrationAddress": _registration(order),
        },
        "pricingSummary": {
            "priceSubtotal": _amount(order.items_total),
            "deliveryCost": _amount(order.shipping),
            "total": _amount(order.order_total),
        },
        "cancelStatus": fulfillment_cancel_status(record, detail=detail),
        "paymentSummary": {
            "totalDueSeller": _amount(order.order_total),
            "refunds": [refund.as_json() for refund in record.refunds],
        },
        "fulfillmentStartInstructions": [
            {
                "fulfillmentInstructionsType": "SHIP_TO",
                "ebaySupportedFulfillment": False,
                "minEstimatedDeliveryDate": timestamp(order.ship_by),
                "maxEstimatedDeliveryDate": timestamp(order.deliver_by),
                "shippingStep": {
                    "shipTo": _contact(order.ship_to, order.buyer.email),
                    "shippingServiceCode": "StandardInternational",
                },
            }
        ],
        "fulfillmentHrefs": [
            f"{base_url}{API}/order/{record.id}/shipping_fulfillment/{f}"
            for f in record.fulfillments
        ],
        "lineItems": [
            _line_json(line, order, marketplace, record.refunds) for line in record.lines
        ],
    }


def _payment_status(record: OrderRecord) -> str:
    if record.canceled or refunded(record) >= record.order.order_total.amount:
        return "FULLY_REFUNDED"
    return "PARTIALLY_REFUNDED" if record.refunds else "PAID"


def _fulfillment_json(fulfillment: FulfillmentRecord) -> dict[str, Any]:
    return {
        "fulfillmentId": fulfillment.fulfillment_id,
        "shipmentTrackingNumber": fulfillment.fulfillment_id,
        "shippingCarrierCode": fulfillment.carrier_code,
        "shippedDate": timestamp(fulfillment.shipped_at),
        "lineItems": [{"lineItemId": k, "quantity": v} for k, v in fulfillment.lines.items()],
    }


def _base(request: Request) -> str:
    return str(request.base_url).rstrip("/")


# ---------------------------------------------------------------- routes


def _search(orders: EbayOrders, criteria: OrderFilter, order_ids: str | None) -> list[OrderRecord]:
    if order_ids:
        wanted = [i for i in order_ids.split(",") if i]
        if len(wanted) > 50:
            raise refuse(30900, "Exceeded maximum number of order IDs (the current limit is 50)")
        return [orders.orders[i] for i in wanted if i in orders.orders]
    return sorted(
        (r for r in orders.orders.peek() if criteria.matches(r)),
        key=lambda r: (r.order.placed_at, r.id),
    )


def _page_url(request: Request, offset: int) -> str:
    return str(request.url.include_query_params(offset=offset))


def _admin_routes(router: APIRouter, orders: EbayOrders) -> None:
    @router.post("/ebay/_sandbox/orders", status_code=201)
    async def create_order(order: Order, request: Request) -> Any:
        """Place an order on eBay as a buyer would (not a Fulfillment API operation)."""
        return _order_json(orders.create(order), _base(request))

    @router.post("/ebay/_sandbox/orders/{order_id}/cancel")
    async def cancel_order(order_id: str, request: Request) -> Any:
        """The buyer cancels an order before it ships."""
        return _order_json(orders.cancel(order_id), _base(request))


def _order_routes(router: APIRouter, orders: EbayOrders) -> None:
    auth = [Depends(_require_bearer)]

    @router.get(f"{API}/order", dependencies=auth)
    async def get_orders(
        request: Request,
        filter: str | None = None,
        limit: str | None = None,
        offset: str | None = None,
        order_ids: Annotated[str | None, Query(alias="orderIds")] = None,
    ) -> Any:
        """getOrders: filter by creation/modification date or fulfillment status."""
        criteria = parse_filter(filter)
        first, size = parse_paging(offset, limit)
        matching = _search(orders, criteria, order_ids)
        page = matching[first : first + size]
        body: dict[str, Any] = {
            "href": str(request.url),
            "total": len(matching),
            "limit": size,
            "offset": first,
            "orders": [_order_json(r, _base(request), detail=False) for r in page],
            "warnings": [],
        }
        if first + size < len(matching):
            body["next"] = _page_url(request, first + size)
        if first > 0:
            body["prev"] = _page_url(request, max(0, first - size))
        return body

    @router.get(f"{API}/order/{{order_id}}", dependencies=auth)
    async def get_order(order_id: str, request: Request) -> Any:
        """getOrder."""
        return _order_json(orders.get(order_id), _base(request))


def _fulfillment_routes(router: APIRouter, orders: EbayOrders, ctx: SandboxContext) -> None:
    auth = [Depends(_require_bearer)]

    @router.post(f"{API}/order/{{order_id}}/shipping_fulfillment", dependencies=auth)
    async def create_shipping_fulfillment(
        order_id: str, details: ShippingFulfillmentDetails, request: Request
    ) -> Response:
        """createShippingFulfillment: 201, no body, Location of the fulfillment."""
        fulfillment, created = orders.fulfill(orders.get(order_id), details)
        if created:
            ctx.ledger.record(
                partner="ebay",
                kind="confirmation",
                reference=order_id,
                tracking_number=details.trackingNumber,
                fulfillment_id=fulfillment.fulfillment_id,
                carrier_code=details.shippingCarrierCode,
                items=fulfillment.lines,
            )
        location = (
            f"{_base(request)}{API}/order/{order_id}/shipping_fulfillment/"
            f"{fulfillment.fulfillment_id}"
        )
        return Response(status_code=201, headers={"Location": location})

    @router.get(f"{API}/order/{{order_id}}/shipping_fulfillment", dependencies=auth)
    async def get_shipping_fulfillments(order_id: str) -> Any:
        """getShippingFulfillments."""
        record = orders.get(order_id)
        found = [_fulfillment_json(f) for f in record.fulfillments.values()]
        return {"fulfillments": found, "total": len(found), "warnings": []}

    @router.get(
        f"{API}/order/{{order_id}}/shipping_fulfillment/{{fulfillment_id}}", dependencies=auth
    )
    async def get_shipping_fulfillment(order_id: str, fulfillment_id: str) -> Any:
        """getShippingFulfillment."""
        fulfillment = orders.get(order_id).fulfillments.get(fulfillment_id)
        if fulfillment is None:
            raise Refusal(
                ebay_error(
                    404,
                    32110,
                    f"Invalid shipping fulfillment ID: {fulfillment_id}",
                    {"fulfillmentId": fulfillment_id},
                )
            )
        return _fulfillment_json(fulfillment)


def _render_invalid(field: str, message: str) -> Response:
    return ebay_error(400, 32600, f"Invalid input data: {field}: {message}", {"field": field})


def _render_post_order_invalid(field: str, message: str) -> Response:
    return post_order_error(400, 1103, f"Invalid input data: {field}: {message}", {"field": field})


def build(ctx: SandboxContext) -> APIRouter:
    """The eBay Sell Fulfillment and Post-Order (cancellation) simulators under /ebay."""
    router = APIRouter(route_class=partner_route(_render_invalid), tags=["ebay"])
    orders = EbayOrders(ctx.store)
    _admin_routes(router, orders)
    _order_routes(router, orders)
    _fulfillment_routes(router, orders, ctx)
    add_refund_routes(router, orders, ctx, [Depends(_require_bearer)], API)
    add_payment_dispute_routes(router, orders, ctx, [Depends(_require_bearer)], API)
    add_message_routes(router, orders, ctx, _require_bearer)
    # Post-Order answers its refusals in its own container, so its routes have their own
    # route class.
    post_order = APIRouter(route_class=partner_route(_render_post_order_invalid), tags=["ebay"])
    add_post_order_routes(post_order, orders, ctx)
    add_return_routes(post_order, orders, ctx)
    add_case_routes(post_order, orders, ctx)
    router.include_router(post_order)
    return router
