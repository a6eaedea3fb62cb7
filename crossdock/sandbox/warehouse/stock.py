"""The sandbox warehouse's stock book: what is on the shelves and who it is set aside for.

Pure bookkeeping, no HTTP: `warehouse/routes.py` serves it. Each reservation line keeps
`quantity = reserved + backordered + fulfilled + released`. Stock set free (a restock, a
release, a count set by a test) goes to backordered lines first come, first served, in
the order the reservations were made.
"""

from __future__ import annotations

import json
import string
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import resources
from typing import Any

from pydantic import BaseModel, Field

from crossdock.catalog import Catalog, default_catalog
from crossdock.sandbox.core.store import RecordStore, Table


class WarehouseRefusal(Exception):
    """A request the warehouse will not carry out; `field` names what was wrong."""

    def __init__(self, status: int, code: str, message: str, field_name: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.field = status, code, message, field_name


class StockLevel(BaseModel):
    on_hand: int = Field(ge=0)
    restock: int = Field(ge=0)  # units arriving with each restock


class StockPlan(BaseModel):
    """crossdock/data/warehouse_stock.json: opening stock and restock sizes per SKU."""

    default: StockLevel
    skus: dict[str, StockLevel] = Field(default_factory=dict)

    def level(self, sku: str) -> StockLevel:
        return self.skus.get(sku, self.default)


def load_stock_plan(catalog: Catalog | None = None) -> StockPlan:
    """The shipped stock plan; a SKU it lists that the catalog lacks is a data bug."""
    text = resources.files("crossdock.data").joinpath("warehouse_stock.json").read_text()
    plan = StockPlan.model_validate(json.loads(text))
    known = {product.sku for product in (catalog or default_catalog()).products()}
    unknown = sorted(set(plan.skus) - known)
    if unknown:
        raise ValueError(f"warehouse_stock.json skus: {unknown} are not in the catalog")
    return plan


@dataclass
class Line:
    line_ref: str
    sku: str
    quantity: int
    reserved: int = 0
    backordered: int = 0
    fulfilled: int = 0
    released: int = 0

    def as_json(self) -> dict[str, Any]:
        return {
            "line_ref": self.line_ref,
            "sku": self.sku,
            "quantity": self.quantity,
            "reserved": self.reserved,
            "backordered": self.backordered,
            "fulfilled": self.fulfilled,
            "released": self.released,
        }


@dataclass
class Reservation:
    id: str
    reference: str
    lines: list[Line]
    created_at: datetime
    updated_at: datetime
    packages: list[dict[str, Any]] = field(default_factory=list)

    @property
    def status(self) -> str:
        reserved = sum(line.reserved for line in self.lines)
        backordered = sum(line.backordered for line in self.lines)
        fulfilled = sum(line.fulfilled for line in self.lines)
        if reserved + backordered == 0:
            return "released" if any(line.released for line in self.lines) else "fulfilled"
        if backordered == 0:
            return "reserved"
        return "backordered" if reserved + fulfilled == 0 else "partial"

    def line(self, line_ref: str, field_name: str) -> Line:
        for line in self.lines:
            if line.line_ref == line_ref:
                return line
        known = ", ".join(line.line_ref for line in self.lines)
        raise WarehouseRefusal(
            422,
            "invalid_request",
            f"no line {line_ref!r} on {self.id} (lines: {known})",
            field_name,
        )

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "object": "reservation",
            "reference": self.reference,
            "status": self.status,
            "lines": [line.as_json() for line in self.lines],
            "packages": self.packages,
            "created_at": self.created_at.isoformat(),
            "updated_at": self.updated_at.isoformat(),
        }


@dataclass
class RestockClock:
    started: datetime
    applied: int = 0  # restocks received since `started`


class StockBook:
    """Free stock per SKU, the reservations holding the rest, and the restock clock.

    Args:
        plan: Opening stock and restock sizes.
        restock_seconds: A restock arrives every this many seconds; 0 = never.
        seed: Seeds reservation ids, so a sandbox run is reproducible.
        store: Where the stock, the reservations and the clock are kept.
    """

    def __init__(
        self,
        plan: StockPlan,
        catalog: Catalog,
        restock_seconds: float,
        seed: int,
        store: RecordStore | None = None,
    ):
        records = store or RecordStore()
        self.catalog = catalog
        self.plan = plan
        self.available: Table[int] = records.table("warehouse", "available", int)
        for product in catalog.products():
            self.available.setdefault(product.sku, plan.level(product.sku).on_hand)
        self.reservations: Table[Reservation] = records.table(
            "warehouse", "reservation", Reservation
        )
        self.restock_seconds = restock_seconds
        # Restocks keep their rhythm across restarts: the clock is stored too.
        self._clock: Table[RestockClock] = records.table("warehouse", "clock", RestockClock)
        self._clock.setdefault("restock", RestockClock(started=datetime.now(UTC)))
        self.random = records.random(seed)

    @property
    def started(self) -> datetime:
        return self._clock["restock"].started

    @property
    def restocks_applied(self) -> int:
        return self._clock["restock"].applied

    @restocks_applied.setter
    def restocks_applied(self, applied: int) -> None:
        self._clock["restock"].applied = applied

    def catch_up(self) -> None:
        """Receive every restock due by now (lazily: the clock only matters when asked)."""
        if not self.restock_seconds:
            return
        elapsed = (datetime.now(UTC) - self.started).total_seconds()
        due = int(elapsed // self.restock_seconds)
        if due <= self.restocks_applied:
            return
        arrivals = due - self.restocks_applied
        self.restocks_applied = due
        for sku in self.available:
            self.available[sku] += arrivals * self.plan.level(sku).restock
        self.allocate()

    def next_restock_at(self) -> datetime | None:
        if not self.restock_seconds:
            return None
        seconds = (self.restocks_applied + 1) * self.restock_seconds
        return datetime.fromtimestamp(self.started.timestamp() + seconds, UTC)

    def allocate(self) -> None:
        """Hand free stock to backordered lines, oldest reservation first."""
        now = datetime.now(UTC)
        for reservation in self.reservations.peek():
            for line in reservation.lines:
                covered = min(line.backordered, self.available[line.sku])
                if covered:
                    self.available[line.sku] -= covered
                    line.backordered -= covered
                    line.reserved += covered
                    reservation.updated_at = now
                    self.reservations.changed(reservation.id)

    def check_sku(self, sku: str, field_name: str, status: int = 422) -> None:
        if sku not in self.available:
            code = "not_found" if status == 404 else "invalid_request"
            message = f"SKU {sku!r} is not stocked in this warehouse"
            raise WarehouseRefusal(status, code, message, field_name)

    def reserve(self, reference: str, lines: list[tuple[str, str, int]]) -> Reservation:
        """Reserve what is free per line (line_ref, sku, quantity); backorder the rest."""
        for index, (_, sku, _) in enumerate(lines):
            self.check_sku(sku, f"lines[{index}].sku")
        self.catch_up()
        now = datetime.now(UTC)
        booked = []
        for line_ref, sku, quantity in lines:
            reserved = min(quantity, self.available[sku])
            self.available[sku] -= reserved
            booked.append(Line(line_ref, sku, quantity, reserved, quantity - reserved))
        token = "".join(self.random.choice(string.hexdigits.lower()[:16]) for _ in range(20))
        reservation = Reservation(f"rsv_{token}", reference, booked, now, now)
        self.reservations[reservation.id] = reservation
        return reservation

    def get(self, reservation_id: str) -> Reservation:
        self.catch_up()
        reservation = self.reservations.get(reservation_id)
        if reservation is None:
            raise WarehouseRefusal(404, "not_found", f"no reservation {reservation_id!r}", "id")
        return reservation

    def fulfil(self, reservation: Reservation, package: int, line_refs: list[str]) -> None:
        """The package's lines leave the warehouse; each must be wholly reserved."""
        lines = [reservation.line(ref, f"line_refs[{i}]") for i, ref in enumerate(line_refs)]
        for index, line in enumerate(lines):
            if line.reserved == 0 or line.backordered:
                raise WarehouseRefusal(
                    400,
                    "invalid_state",
                    f"line {line.line_ref} cannot ship: {line.reserved} reserved, "
                    f"{line.backordered} backordered, {line.fulfilled} shipped, "
                    f"{line.released} released; only a wholly reserved line can",
                    f"line_refs[{index}]",
                )
        for line in lines:
            line.fulfilled, line.reserved = line.fulfilled + line.reserved, 0
        reservation.packages.append({"package": package, "line_refs": line_refs})
        reservation.updated_at = datetime.now(UTC)

    def release(self, reservation: Reservation, line_refs: list[str]) -> dict[str, int]:
        """Give back what the lines hold and have not shipped; returns units freed per line."""
        chosen = (
            [reservation.line(ref, f"line_refs[{i}]") for i, ref in enumerate(line_refs)]
            if line_refs
            else reservation.lines
        )
        freed: dict[str, int] = {}
        for line in chosen:
            held = line.reserved + line.backordered
            if held:
                self.available[line.sku] += line.reserved
                line.released += held
                line.reserved = line.backordered = 0
                freed[line.line_ref] = held
        if freed:
            reservation.updated_at = datetime.now(UTC)
            self.allocate()
        return freed

    def set_available(self, sku: str, available: int) -> None:
        """A stock count (tests, operators): `available` units are free now."""
        self.check_sku(sku, "sku")
        self.catch_up()
        self.available[sku] = available
        self.allocate()

    def stock(self, sku: str) -> dict[str, Any]:
        self.check_sku(sku, "sku", status=404)
        self.catch_up()
        lines = [line for r in self.reservations.peek() for line in r.lines if line.sku == sku]
        next_at = self.next_restock_at()
        return {
            "sku": sku,
            "object": "stock",
            "available": self.available[sku],
            "reserved": sum(line.reserved for line in lines),
            "backordered": sum(line.backordered for line in lines),
            "restock_quantity": self.plan.level(sku).restock,
            "next_restock_at": next_at.isoformat() if next_at else None,
        }
