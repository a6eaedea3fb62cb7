"""Inputs and outputs of the warehouse (stock) activities, one model each.

The seller's stock sits in a fulfilment warehouse (a 3PL) that Crossdock talks to over
HTTP: an order reserves its lines when its payment is secured, ships them (fulfils) when
their package's label is bought, and releases what did not ship when it is cancelled.
A line the warehouse cannot cover is backordered: it is reserved as stock arrives.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from crossdock.models.order import NonEmpty, Order


class StockLine(BaseModel):
    model_config = ConfigDict(frozen=True)

    # Our reference for the order line ("L1", "L2"...: index + 1), stable for the order.
    line_ref: NonEmpty
    sku: NonEmpty
    quantity: int = Field(gt=0)


def stock_lines(order: Order) -> list[StockLine]:
    """The order's lines as the warehouse sees them."""
    return [
        StockLine(line_ref=line_ref(index), sku=item.sku, quantity=item.quantity)
        for index, item in enumerate(order.items)
    ]


def line_ref(index: int) -> str:
    return f"L{index + 1}"


class ReserveStockInput(BaseModel):
    # The order workflow id: the warehouse keeps it on the reservation.
    reference: NonEmpty
    lines: list[StockLine] = Field(min_length=1)
    idempotency_key: NonEmpty


class ReservedLine(BaseModel):
    line_ref: str
    sku: str
    quantity: int
    reserved: int  # set aside for this order now
    backordered: int  # waiting for stock (quantity = reserved + backordered)
    fulfilled: int = 0  # shipped: never released again
    released: int = 0


class StockReservation(BaseModel):
    reservation_id: str
    # reserved (all lines covered) | partial | backordered (nothing covered) | released
    # | fulfilled (everything shipped, nothing released)
    status: str
    lines: list[ReservedLine]

    def backordered_refs(self) -> list[str]:
        return [line.line_ref for line in self.lines if line.backordered > 0]


class CheckReservationInput(BaseModel):
    reservation_id: NonEmpty


class FulfilStockInput(BaseModel):
    """The lines of one package leave the warehouse (its label is bought)."""

    reservation_id: NonEmpty
    line_refs: list[str] = Field(min_length=1)
    package: int = Field(ge=1)
    idempotency_key: NonEmpty


class ReleaseStockInput(BaseModel):
    """Give back what was reserved and not shipped: all lines, or only `line_refs`."""

    reservation_id: NonEmpty
    line_refs: list[str] = Field(default_factory=list)
    idempotency_key: NonEmpty
