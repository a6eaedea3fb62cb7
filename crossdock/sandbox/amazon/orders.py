"""Amazon's order book in the sandbox: orders, their items and confirmed packages, buyer
cancellation requests, and the rules confirmShipment enforces. The wire shapes and routes
are in `amazon/routes.py`.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from crossdock.models.order import Channel, Order
from crossdock.money import Money
from crossdock.sandbox.core.routes import Refusal
from crossdock.sandbox.core.store import RecordStore, Table


def sp_api_error(status: int, code: str, message: str, details: str = "") -> JSONResponse:
    """An SP-API error list, as every Orders v0 operation returns on failure."""
    error = {"code": code, "message": message} | ({"details": details} if details else {})
    return JSONResponse({"errors": [error]}, status_code=status)


def invalid(message: str) -> Refusal:
    """A 400 InvalidInput refusal; `message` names the parameter and its value."""
    return Refusal(sp_api_error(400, "InvalidInput", message))


def iso(moment: datetime) -> str:
    """SP-API date-time: UTC, whole seconds, "Z"."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class ItemRecord:
    order_item_id: str
    asin: str
    sku: str
    title: str
    quantity: int
    item_price: Money
    shipping_price: Money | None
    shipped: int = 0
    # Set when the buyer asked to cancel (SP-API: BuyerRequestedCancel on every item).
    buyer_cancel_reason: str | None = None
    # Set when the seller canceled the item (order acknowledgement feed, amazon/feeds.py).
    seller_cancel_reason: str | None = None


@dataclass
class OrderRecord:
    order: Order
    marketplace_id: str
    items: list[ItemRecord]
    last_update: datetime
    status: str = "Unshipped"
    packages: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def id(self) -> str:
        return self.order.channel_order_id

    @property
    def sort_key(self) -> tuple[str, str]:
        return iso(self.order.placed_at), self.id

    @property
    def update_key(self) -> tuple[str, str]:
        return iso(self.last_update), self.id

    def key(self, by: str) -> tuple[str, str]:
        """The keyset cursor of a listing by creation (CREATED) or last update."""
        return self.sort_key if by == CREATED else self.update_key


# getOrders windows: by creation (PurchaseDate) or by last update (LastUpdateDate).
CREATED = "created"
UPDATED = "updated"
# Buyers can ask for a cancellation until the seller confirms a shipment.
CANCELLABLE = frozenset({"Pending", "Unshipped"})


def _digits(seed: str, width: int) -> str:
    return str(int(hashlib.sha256(seed.encode()).hexdigest(), 16) % 10**width).zfill(width)


def _asin(sku: str) -> str:
    return "B0" + hashlib.sha256(sku.encode()).hexdigest()[:8].upper()


def _new_order(order: Order, marketplace_id: str) -> OrderRecord:
    items = [
        ItemRecord(
            order_item_id=_digits(f"{order.channel_order_id}/{index}", 14),
            asin=_asin(line.sku),
            sku=line.sku,
            title=line.title,
            quantity=line.quantity,
            item_price=line.line_total,
            shipping_price=order.shipping if index == 0 else None,
        )
        for index, line in enumerate(order.items)
    ]
    return OrderRecord(order, marketplace_id, items, last_update=datetime.now(UTC))


# ---------------------------------------------------------------- confirmShipment body
# Attribute names are SP-API's own (camelCase), so the body validates as Amazon sends it.


class ConfirmShipmentOrderItem(BaseModel):
    orderItemId: str = Field(min_length=1)
    quantity: int = Field(gt=0)
    transparencyCodes: list[str] | None = None


class PackageDetail(BaseModel):
    packageReferenceId: str = Field(min_length=1)
    carrierCode: str = Field(min_length=1)
    carrierName: str | None = None
    shippingMethod: str | None = None
    trackingNumber: str = Field(min_length=1)
    shipDate: datetime
    shipFromSupplySourceId: str | None = None
    orderItems: list[ConfirmShipmentOrderItem] = Field(min_length=1)


class ConfirmShipmentRequest(BaseModel):
    marketplaceId: str = Field(min_length=1)
    packageDetail: PackageDetail
    codCollectionMethod: str | None = None


# ---------------------------------------------------------------- the simulator


class AmazonOrders:
    """The orders of one seller across marketplaces, and what happens to them."""

    def __init__(self, store: RecordStore) -> None:
        self.orders: Table[OrderRecord] = store.table("amazon", "order", OrderRecord)

    def get(self, order_id: str) -> OrderRecord:
        record = self.orders.get(order_id)
        if record is None:
            raise Refusal(sp_api_error(404, "NotFound", f"Order {order_id!r} was not found"))
        return record

    def create(self, order: Order, marketplace_id: str) -> OrderRecord:
        if order.channel is not Channel.AMAZON:
            raise invalid(f"channel is {order.channel.value!r}; this is the amazon sandbox")
        if order.channel_order_id in self.orders:
            raise Refusal(
                sp_api_error(409, "Conflict", f"Order {order.channel_order_id!r} already exists")
            )
        record = self.orders[order.channel_order_id] = _new_order(order, marketplace_id)
        return record

    def listed(
        self, marketplaces: set[str], state: dict[str, Any], key: tuple[str, str] | None
    ) -> list[OrderRecord]:
        """Orders in the listing window of `state` (by creation or last update, ISO
        bounds inclusive, optional statuses), past `key`, in window order."""
        by, after, before = state.get("by", CREATED), state["after"], state.get("before")
        statuses = state.get("statuses")
        return sorted(
            (
                r
                for r in self.orders.peek()
                if r.marketplace_id in marketplaces
                and after <= r.key(by)[0]
                and (before is None or r.key(by)[0] <= before)
                and (not statuses or r.status in statuses)
                and (key is None or key < r.key(by))
            ),
            key=lambda r: r.key(by),
        )

    def cancel(self, order_id: str) -> OrderRecord:
        """The buyer cancels an order that has not shipped."""
        record = self.get(order_id)
        if record.status != "Unshipped":
            raise invalid(f"Order {order_id!r} is {record.status} and cannot be canceled")
        record.status, record.last_update = "Canceled", datetime.now(UTC)
        return record

    def request_cancel(self, order_id: str, reason: str) -> OrderRecord:
        """The buyer asks the seller to cancel; Amazon marks every item and bumps
        LastUpdateDate, so sellers find it with getOrders(LastUpdatedAfter). Asking again
        changes nothing."""
        record = self.get(order_id)
        if record.status not in CANCELLABLE:
            raise invalid(
                f"Order {order_id!r} is {record.status}; a cancellation can only be requested "
                f"while it is {' or '.join(sorted(CANCELLABLE))}"
            )
        if all(item.buyer_cancel_reason is not None for item in record.items):
            return record
        for item in record.items:
            item.buyer_cancel_reason = reason
        record.last_update = datetime.now(UTC)
        return record

    def confirm(self, record: OrderRecord, request: ConfirmShipmentRequest) -> bool:
        """Apply a package confirmation; False when it repeats a confirmed package."""
        package = request.packageDetail
        content = package.model_dump(mode="json", exclude={"packageReferenceId"})
        _check_package(record, request)
        previous = record.packages.get(package.packageReferenceId)
        if previous is not None:
            if previous != content:
                raise invalid(
                    f"packageReferenceId {package.packageReferenceId} was already confirmed "
                    "with different content"
                )
            return False
        _check_quantities(record, package)
        items = {item.order_item_id: item for item in record.items}
        for line in package.orderItems:
            items[line.orderItemId].shipped += line.quantity
        record.packages[package.packageReferenceId] = content
        unshipped = any(
            item.shipped < item.quantity and item.seller_cancel_reason is None
            for item in record.items
        )
        record.status = "PartiallyShipped" if unshipped else "Shipped"
        record.last_update = datetime.now(UTC)
        return True


def _check_package(record: OrderRecord, request: ConfirmShipmentRequest) -> None:
    package = request.packageDetail
    if request.marketplaceId != record.marketplace_id:
        raise invalid(
            f"marketplaceId {request.marketplaceId!r} is not the order's marketplace "
            f"{record.marketplace_id!r}"
        )
    if not package.packageReferenceId.isdigit() or int(package.packageReferenceId) <= 0:
        raise invalid(
            f"packageReferenceId {package.packageReferenceId!r} must be a positive number"
        )
    if package.carrierCode == "Other" and not package.carrierName:
        raise invalid("carrierName is required when carrierCode is 'Other'")
    if record.status == "Canceled":
        raise invalid(f"Order {record.id!r} is canceled and cannot be shipped")
    ids = [line.orderItemId for line in package.orderItems]
    if len(set(ids)) != len(ids):
        raise invalid("orderItems lists the same orderItemId more than once")


def _check_quantities(record: OrderRecord, package: PackageDetail) -> None:
    items = {item.order_item_id: item for item in record.items}
    for index, line in enumerate(package.orderItems):
        item = items.get(line.orderItemId)
        if item is None:
            raise invalid(
                f"orderItems[{index}].orderItemId {line.orderItemId!r} is not an item of "
                f"order {record.id!r}"
            )
        if item.seller_cancel_reason is not None:
            raise invalid(
                f"orderItems[{index}].orderItemId {line.orderItemId!r} was canceled by the "
                f"seller ({item.seller_cancel_reason}) and cannot be shipped"
            )
        remaining = item.quantity - item.shipped
        if line.quantity > remaining:
            raise invalid(
                f"orderItems[{index}].quantity {line.quantity} exceeds the {remaining} "
                f"unit(s) of orderItemId {line.orderItemId!r} not yet shipped"
            )
