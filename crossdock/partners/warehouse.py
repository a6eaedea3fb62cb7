"""Warehouse (3PL) adapter: stock reservations, package fulfilment, releases.

Reserving, fulfilling and releasing carry the caller's idempotency key, so a retried
activity replays the stored answer instead of reserving twice. Failures arrive as
`crossdock.partners.errors` types: 422 (unknown SKU or line; the message names the
field) and 400 (a line that cannot ship, a reused key) are `PartnerRejected`, 429
`RateLimited`, 5xx and timeouts `PartnerUnavailable`.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from crossdock.models.stock import ReservedLine, StockLine
from crossdock.partners.http import ServiceApi

PARTNER = "warehouse"


class Package(BaseModel):
    package: int
    line_refs: list[str]


class Reservation(BaseModel):
    model_config = ConfigDict(extra="ignore")

    id: str
    reference: str
    # reserved | partial | backordered | fulfilled | released
    status: str
    lines: list[ReservedLine]
    packages: list[Package] = Field(default_factory=list)
    created_at: datetime
    updated_at: datetime


class StockLevel(BaseModel):
    model_config = ConfigDict(extra="ignore")

    sku: str
    available: int
    reserved: int
    backordered: int
    restock_quantity: int
    next_restock_at: datetime | None = None


class WarehouseClient(ServiceApi):
    """Async client for the warehouse."""

    service = PARTNER

    async def reserve(
        self, reference: str, lines: list[StockLine], idempotency_key: str
    ) -> Reservation:
        """Reserve the lines (backordering what is short); the same key replays."""
        body = {"reference": reference, "lines": [line.model_dump() for line in lines]}
        return Reservation.model_validate(
            await self._json("POST", "/v1/reservations", idempotency_key, json=body)
        )

    async def get_reservation(self, reservation_id: str) -> Reservation:
        """The reservation now (backordered lines fill as stock arrives)."""
        return Reservation.model_validate(
            await self._json("GET", f"/v1/reservations/{reservation_id}")
        )

    async def fulfil(
        self, reservation_id: str, package: int, line_refs: list[str], idempotency_key: str
    ) -> Reservation:
        """The lines of one package leave the warehouse; the same key replays."""
        body = {"package": package, "line_refs": line_refs}
        path = f"/v1/reservations/{reservation_id}/fulfil"
        return Reservation.model_validate(
            await self._json("POST", path, idempotency_key, json=body)
        )

    async def release(
        self, reservation_id: str, line_refs: list[str], idempotency_key: str
    ) -> Reservation:
        """Give back what is held and unshipped (all lines when `line_refs` is empty)."""
        path = f"/v1/reservations/{reservation_id}/release"
        return Reservation.model_validate(
            await self._json("POST", path, idempotency_key, json={"line_refs": line_refs})
        )

    async def stock(self, sku: str) -> StockLevel:
        """Free, reserved and backordered units of one SKU."""
        return StockLevel.model_validate(await self._json("GET", f"/v1/stock/{sku}"))
