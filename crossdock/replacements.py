"""The replacement order a return sends instead of a refund (pure, so it is testable).

A replacement is an order of its own (`order-{channel}-{original id}-R{rma}`): the
returned lines at their quantities, to the same buyer and address, with the original's
delivery promise counted from now. It is started with `replacement_of`, so nothing is
charged on it and the channel is not told.
"""

from __future__ import annotations

import re
from datetime import datetime

from crossdock.models.order import Order
from crossdock.models.returns import ReturnLine
from crossdock.money import Money

MAX_ORDER_ID = 64  # Order.channel_order_id's limit


def replacement_order(original: Order, lines: list[ReturnLine], rma: str, now: datetime) -> Order:
    """The order that replaces `lines` of `original`.

    Raises:
        ValueError: a line names a SKU the original order does not have, or asks for more
            than it had.
    """
    items = []
    for index, line in enumerate(lines):
        item = next((i for i in original.items if i.sku == line.sku), None)
        if item is None or line.quantity > item.quantity:
            raise ValueError(
                f"lines[{index}]: {line.quantity}x {line.sku} is not on order "
                f"{original.channel_order_id}"
            )
        items.append(item.model_copy(update={"quantity": line.quantity}))
    return original.model_copy(
        update={
            "channel_order_id": replacement_id(original.channel_order_id, rma),
            "items": items,
            "placed_at": now,
            "ship_by": now + (original.ship_by - original.placed_at),
            "deliver_by": now + (original.deliver_by - original.placed_at),
        }
    )


def replacement_value(original: Order, lines: list[ReturnLine]) -> Money:
    """What a replacement gives away: the lines' goods at the original order's unit
    prices (a line the order lacks counts nothing; `replacement_order` refuses it)."""
    prices = {item.sku: item.unit_price.amount for item in original.items}
    cents = sum(prices.get(line.sku, 0) * line.quantity for line in lines)
    return Money(amount=cents, currency=original.currency)


def replacement_id(original_id: str, rma: str) -> str:
    """`{original}-R{rma}`, the RMA reduced to letters and digits; the RMA's tail is
    kept when the whole would pass the channel order id's 64 characters."""
    suffix = re.sub(r"[^A-Za-z0-9]", "", rma) or "0"
    room = MAX_ORDER_ID - len(original_id) - 2
    if room < 4:
        raise ValueError(f"order id {original_id!r} leaves no room for a replacement suffix")
    return f"{original_id}-R{suffix[-room:]}"
