"""Warehouse activities: reserve an order's stock, watch backorders, ship, release."""

from __future__ import annotations

from temporalio import activity

from activities.errors import partner_errors
from crossdock.models.stock import (
    CheckReservationInput,
    FulfilStockInput,
    ReleaseStockInput,
    ReserveStockInput,
    StockReservation,
)
from crossdock.partners.warehouse import Reservation, WarehouseClient


def _contract(reservation: Reservation) -> StockReservation:
    return StockReservation(
        reservation_id=reservation.id, status=reservation.status, lines=reservation.lines
    )


class WarehouseActivities:
    def __init__(self, warehouse: WarehouseClient) -> None:
        self._warehouse = warehouse

    @activity.defn
    async def reserve_stock(self, input: ReserveStockInput) -> StockReservation:
        """Reserve the order's lines; what is short comes back backordered."""
        with partner_errors():
            reservation = await self._warehouse.reserve(
                input.reference, input.lines, input.idempotency_key
            )
        return _contract(reservation)

    @activity.defn
    async def check_reservation(self, input: CheckReservationInput) -> StockReservation:
        """The reservation now: backordered lines may have been covered by a restock."""
        with partner_errors():
            reservation = await self._warehouse.get_reservation(input.reservation_id)
        return _contract(reservation)

    @activity.defn
    async def fulfil_stock(self, input: FulfilStockInput) -> StockReservation:
        """One package's lines leave the warehouse (refused for a line not wholly reserved)."""
        with partner_errors():
            reservation = await self._warehouse.fulfil(
                input.reservation_id, input.package, input.line_refs, input.idempotency_key
            )
        return _contract(reservation)

    @activity.defn
    async def release_stock(self, input: ReleaseStockInput) -> StockReservation:
        """Give back what is held and unshipped; shipped units stay shipped."""
        with partner_errors():
            reservation = await self._warehouse.release(
                input.reservation_id, input.line_refs, input.idempotency_key
            )
        return _contract(reservation)
