"""How an order's goods are split into parcels (packages).

An order ships as one parcel unless its weight exceeds what one parcel may weigh, or
some of its lines wait for stock (a partial shipment): then each package is labelled,
declared to the carrier and confirmed to the channel on its own, with the item
quantities it carries (Amazon's confirmShipment and eBay's shipping fulfillment both take
them per package).
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from crossdock.models.order import Order
from crossdock.money import Money, total


class PackedLine(BaseModel):
    model_config = ConfigDict(frozen=True)

    line_index: int = Field(ge=0)  # position in Order.items
    quantity: int = Field(gt=0)


class Package(BaseModel):
    model_config = ConfigDict(frozen=True)

    number: int = Field(ge=1)  # the package's number for the channel
    lines: list[PackedLine] = Field(min_length=1)

    def goods(self, order: Order) -> Order:
        """The order as this package carries it: only its lines, its quantities. Labels
        (customs info) and channel confirmations are built from it."""
        items = [
            order.items[line.line_index].model_copy(update={"quantity": line.quantity})
            for line in self.lines
        ]
        return order.model_copy(update={"items": items})

    def value(self, order: Order) -> Money:
        return total(
            [order.items[line.line_index].unit_price * line.quantity for line in self.lines],
            order.currency,
        )

    def weight_grams(self, order: Order) -> int:
        return sum(order.items[line.line_index].weight_grams * line.quantity for line in self.lines)
