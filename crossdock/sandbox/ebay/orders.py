"""eBay's order book in the sandbox: orders, line items and shipping fulfillments, and the
rules createShippingFulfillment enforces. The wire shapes and routes are in `ebay/routes.py`;
buyers' cancellation requests (Post-Order API) in `ebay/cancellations.py`.

As on eBay, a fulfillment's id is its tracking number, so creating it again with the same
tracking number and line items returns the existing fulfillment (no second effect), and
with other line items is refused (eBay error 34500: use PUT to change a fulfillment).
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any

from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from crossdock.models.order import Channel, Order
from crossdock.money import Money
from crossdock.sandbox.core.routes import Refusal
from crossdock.sandbox.core.store import RecordStore, Table
from crossdock.sandbox.ebay.records import FulfillmentRecord, LineRecord, OrderRecord

MARKETPLACES = {
    "USD": "EBAY_US",
    "GBP": "EBAY_GB",
    "EUR": "EBAY_DE",
    "AUD": "EBAY_AU",
    "CAD": "EBAY_CA",
}


def marketplace_of(order: Order) -> str:
    """The eBay site an order was bought on, told by its currency."""
    return MARKETPLACES.get(order.currency, "EBAY_US")


def buyer_username(order: Order) -> str:
    """A stable eBay username for the order's buyer (no personal data beyond the name)."""
    letters = "".join(ch for ch in order.buyer.name.lower() if ch.isalnum())
    return f"{letters[:12] or 'buyer'}_{order.channel_order_id[-4:]}"


def ebay_error(
    status: int,
    error_id: int,
    message: str,
    parameters: dict[str, str] | None = None,
    *,
    domain: str = "API_FULFILLMENT",
) -> JSONResponse:
    """eBay's error container: {"errors": [{errorId, domain, category, message, ...}]}."""
    error: dict[str, Any] = {
        "errorId": error_id,
        "domain": domain,
        "category": "REQUEST",
        "message": message,
    }
    if parameters:
        error["parameters"] = [{"name": k, "value": v} for k, v in parameters.items()]
    return JSONResponse({"errors": [error]}, status_code=status)


def refuse(error_id: int, message: str, **parameters: str) -> Refusal:
    """A 400 refusal with an eBay error id; `parameters` name the offending fields."""
    return Refusal(ebay_error(400, error_id, message, parameters))


POST_ORDER = "API_POSTORDER"


def post_order_error(
    status: int,
    error_id: int,
    message: str,
    parameters: dict[str, str] | None = None,
    *,
    domain: str = POST_ORDER,
) -> JSONResponse:
    """The Post-Order API's own error container, unlike the Sell APIs':
    {"errorMessage": {"error": [{errorId, domain, severity, category, message,
    parameter: [{name, value}], httpStatusCode}]}} (developer.ebay.com Post-Order
    ErrorResponse)."""
    error: dict[str, Any] = {
        "errorId": error_id,
        "domain": domain,
        "severity": "Error",
        "category": "Request",
        "message": message,
        "httpStatusCode": str(status),
    }
    if parameters:
        error["parameter"] = [{"name": k, "value": v} for k, v in parameters.items()]
    return JSONResponse({"errorMessage": {"error": [error]}}, status_code=status)


def refuse_post_order(error_id: int, message: str, status: int = 400, **parameters: str) -> Refusal:
    """A Post-Order refusal; `parameters` name the offending fields."""
    return Refusal(post_order_error(status, error_id, message, parameters))


def _digits(seed: str, width: int) -> str:
    return str(int(hashlib.sha256(seed.encode()).hexdigest(), 16) % 10**width).zfill(width)


def _new_order(order: Order) -> OrderRecord:
    lines = [
        LineRecord(
            line_item_id=_digits(f"{order.channel_order_id}/{index}", 14),
            legacy_item_id=_digits(line.sku, 12),
            sku=line.sku,
            title=line.title,
            quantity=line.quantity,
            line_cost=line.line_total,
            # eBay charges shipping per line; the order's shipping sits on its first line.
            shipping=order.shipping if index == 0 else Money.zero(order.currency),
        )
        for index, line in enumerate(order.items)
    ]
    return OrderRecord(order, lines, last_modified=datetime.now(UTC))


# ---------------------------------------------------------------- request body
# Attribute names are eBay's own (camelCase), so the body validates as eBay receives it.


class LineItemReference(BaseModel):
    lineItemId: str = Field(min_length=1)
    quantity: int | None = Field(default=None, gt=0)


class ShippingFulfillmentDetails(BaseModel):
    lineItems: list[LineItemReference] = Field(min_length=1)
    shippedDate: datetime | None = None
    shippingCarrierCode: str = ""
    trackingNumber: str = ""


# ---------------------------------------------------------------- the simulator


class EbayOrders:
    """The seller's eBay orders and their shipping fulfillments."""

    def __init__(self, store: RecordStore) -> None:
        self.store = store  # the other eBay desks keep their records beside the orders
        self.orders: Table[OrderRecord] = store.table("ebay", "order", OrderRecord)

    def get(self, order_id: str) -> OrderRecord:
        record = self.orders.get(order_id)
        if record is None:
            raise Refusal(
                ebay_error(404, 32100, f"Invalid order ID: {order_id}", {"orderId": order_id})
            )
        return record

    def create(self, order: Order) -> OrderRecord:
        if order.channel is not Channel.EBAY:
            raise refuse(32600, f"channel is {order.channel.value!r}; this is the ebay sandbox")
        if order.channel_order_id in self.orders:
            raise Refusal(ebay_error(409, 32600, f"Order {order.channel_order_id} already exists"))
        record = self.orders[order.channel_order_id] = _new_order(order)
        return record

    def cancel(self, order_id: str) -> OrderRecord:
        """The buyer cancels an order before anything shipped."""
        record = self.get(order_id)
        if record.status != "NOT_STARTED":
            raise refuse(32600, f"Order {order_id} has shipped and cannot be canceled")
        record.canceled, record.last_modified = True, datetime.now(UTC)
        return record

    def fulfill(
        self, record: OrderRecord, details: ShippingFulfillmentDetails
    ) -> tuple[FulfillmentRecord, bool]:
        """Create a shipping fulfillment; (fulfillment, False) when it repeats one."""
        _check_shipment(record, details)
        asked = sorted((line.lineItemId, line.quantity) for line in details.lineItems)
        existing = record.fulfillments.get(details.trackingNumber)
        if existing is not None:
            if existing.request != asked:
                raise refuse(
                    34500,
                    "Please use PUT operation for updating shipping fulfillment",
                    trackingNumber=details.trackingNumber,
                )
            return existing, False
        quantities = _quantities(record, details)
        for line in record.lines:
            line.shipped += quantities.get(line.line_item_id, 0)
        fulfillment = record.fulfillments[details.trackingNumber] = FulfillmentRecord(
            fulfillment_id=details.trackingNumber,
            lines=quantities,
            shipped_at=details.shippedDate or datetime.now(UTC),
            carrier_code=details.shippingCarrierCode,
            request=asked,
        )
        record.last_modified = datetime.now(UTC)
        return fulfillment, True


def _check_shipment(record: OrderRecord, details: ShippingFulfillmentDetails) -> None:
    if not details.shippingCarrierCode or not details.trackingNumber.isalnum():
        raise refuse(
            32300,
            "Invalid shipment tracking number or carrier",
            trackingNumber=details.trackingNumber,
            shippingCarrierCode=details.shippingCarrierCode,
        )
    shipped = details.shippedDate
    if shipped is not None and (shipped.tzinfo is None or shipped < record.order.placed_at):
        raise refuse(32500, "Invalid shipped date", shippedDate=shipped.isoformat())
    if record.canceled:
        raise refuse(32600, f"Order {record.id} is canceled", orderId=record.id)
    ids = [line.lineItemId for line in details.lineItems]
    if len(set(ids)) != len(ids):
        raise refuse(32210, "Duplicate line item in the request")


def _quantities(record: OrderRecord, details: ShippingFulfillmentDetails) -> dict[str, int]:
    lines = {line.line_item_id: line for line in record.lines}
    quantities = {}
    for index, asked in enumerate(details.lineItems):
        line = lines.get(asked.lineItemId)
        if line is None:
            raise refuse(
                32200, f"Invalid line item id: {asked.lineItemId}", lineItemId=asked.lineItemId
            )
        remaining = line.quantity - line.shipped
        quantity = remaining if asked.quantity is None else asked.quantity
        if not 0 < quantity <= remaining:
            raise refuse(
                32600,
                f"Invalid input data: lineItems[{index}].quantity {quantity} for line item "
                f"{asked.lineItemId}, which has {remaining} unit(s) left to ship",
                lineItemId=asked.lineItemId,
            )
        quantities[asked.lineItemId] = quantity
    return quantities
