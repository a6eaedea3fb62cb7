"""The seller's fulfilment warehouse (a 3PL): stock reservations, shipments and releases
(our own JSON API, in the style of the customs service). The bookkeeping is
`stock.StockBook`; opening stock is crossdock/data/warehouse_stock.json.

    POST /warehouse/v1/reservations                    reserve lines, backorder the rest (Idempotency-Key)
    GET  /warehouse/v1/reservations/{id}               backorders fill first come, first served
    POST /warehouse/v1/reservations/{id}/fulfil        one package's lines leave (Idempotency-Key)
    POST /warehouse/v1/reservations/{id}/release       give back all or some lines (Idempotency-Key)
    GET  /warehouse/v1/stock/{sku}
    POST /warehouse/_sandbox/stock                     set a SKU's free stock (tests, demo)

Errors: {"error": {"code", "message", "field"}}; every one names the field.
"""  # noqa: E501

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Header, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field, field_validator

from crossdock.catalog import default_catalog
from crossdock.sandbox.context import SandboxContext
from crossdock.sandbox.core.idempotency import reused_key
from crossdock.sandbox.core.routes import Refusal, partner_route
from crossdock.sandbox.warehouse.stock import (
    Reservation,
    StockBook,
    WarehouseRefusal,
    load_stock_plan,
)

PARTNER = "warehouse"
IdempotencyKey = Annotated[str | None, Header(alias="Idempotency-Key")]


def warehouse_error(status: int, code: str, message: str, field_name: str) -> JSONResponse:
    """The warehouse's error body; `field` is the request field that was wrong."""
    error = {"code": code, "message": message, "field": field_name}
    return JSONResponse({"error": error}, status_code=status)


def _refused(refusal: WarehouseRefusal) -> Refusal:
    return Refusal(warehouse_error(refusal.status, refusal.code, refusal.message, refusal.field))


class LineInput(BaseModel):
    line_ref: str = Field(min_length=1, max_length=64)
    sku: str = Field(min_length=1)
    quantity: int = Field(gt=0)


class ReservationInput(BaseModel):
    reference: str = Field(min_length=1, max_length=200)
    lines: list[LineInput] = Field(min_length=1)

    @field_validator("lines")
    @classmethod
    def _unique_refs(cls, lines: list[LineInput]) -> list[LineInput]:
        refs = [line.line_ref for line in lines]
        duplicated = sorted({ref for ref in refs if refs.count(ref) > 1})
        if duplicated:
            raise ValueError(f"line_ref must be unique per reservation; repeated: {duplicated}")
        return lines


class FulfilInput(BaseModel):
    package: int = Field(ge=1)
    line_refs: list[str] = Field(min_length=1)


class ReleaseInput(BaseModel):
    # Empty: every line.
    line_refs: list[str] = Field(default_factory=list)


class StockCount(BaseModel):
    sku: str = Field(min_length=1)
    available: int = Field(ge=0)


def _require_key(key: str | None) -> str:
    # Every change here is a side effect a retry must not repeat.
    if not key:
        raise Refusal(
            warehouse_error(
                400, "idempotency_key_required", "send an Idempotency-Key", "Idempotency-Key"
            )
        )
    return key


def _conflict(key: str) -> JSONResponse:
    return warehouse_error(400, "idempotency_error", reused_key(key), "Idempotency-Key")


class Warehouse:
    """The routes' view of the book: each change runs once per key and is ledgered."""

    def __init__(self, ctx: SandboxContext) -> None:
        self.ctx = ctx
        catalog = default_catalog()
        self.book = StockBook(
            load_stock_plan(catalog),
            catalog,
            ctx.config.warehouse_restock_seconds,
            ctx.config.seed,
            ctx.store,
        )

    async def once(
        self,
        request: Request,
        key: str | None,
        params: Any,
        action: Callable[[str], JSONResponse],
    ) -> Response:
        """Run `action` (returning a JSONResponse) once per Idempotency-Key."""
        key = _require_key(key)

        async def handler() -> JSONResponse:
            try:
                return action(key)
            except WarehouseRefusal as refusal:
                # Refused before anything changed: not saved under the key (as Stripe).
                raise _refused(refusal) from refusal

        return await self.ctx.idempotency.once(PARTNER, request, key, params, handler, _conflict)

    def get(self, reservation_id: str) -> Reservation:
        try:
            return self.book.get(reservation_id)
        except WarehouseRefusal as refusal:
            raise _refused(refusal) from refusal


def _reservation_routes(router: APIRouter, warehouse: Warehouse) -> None:
    book, ledger = warehouse.book, warehouse.ctx.ledger

    @router.post("/warehouse/v1/reservations", status_code=201)
    async def reserve(body: ReservationInput, request: Request, key: IdempotencyKey = None) -> Any:
        """Reserve each line's SKU; what is not on the shelf is backordered."""

        def action(key: str) -> JSONResponse:
            lines = [(line.line_ref, line.sku, line.quantity) for line in body.lines]
            reservation = book.reserve(body.reference, lines)
            ledger.record(
                PARTNER,
                "reservation",
                body.reference,
                idempotency_key=key,
                reservation_id=reservation.id,
                lines=[line.as_json() for line in reservation.lines],
            )
            return JSONResponse(reservation.as_json(), status_code=201)

        return await warehouse.once(request, key, body.model_dump(), action)

    @router.get("/warehouse/v1/reservations/{reservation_id}")
    async def get_reservation(reservation_id: str) -> Any:
        """The reservation now: backordered lines are reserved as stock arrives."""
        return warehouse.get(reservation_id).as_json()


def _movement_routes(router: APIRouter, warehouse: Warehouse) -> None:
    book, ledger = warehouse.book, warehouse.ctx.ledger

    @router.post("/warehouse/v1/reservations/{reservation_id}/fulfil")
    async def fulfil(
        reservation_id: str, body: FulfilInput, request: Request, key: IdempotencyKey = None
    ) -> Any:
        """The lines of one package are picked, packed and leave the warehouse."""

        def action(key: str) -> JSONResponse:
            reservation = warehouse.get(reservation_id)
            book.fulfil(reservation, body.package, body.line_refs)
            ledger.record(
                PARTNER,
                "fulfilment",
                reservation.reference,
                idempotency_key=key,
                reservation_id=reservation.id,
                package=body.package,
                line_refs=body.line_refs,
            )
            return JSONResponse(reservation.as_json())

        return await warehouse.once(request, key, body.model_dump(), action)

    @router.post("/warehouse/v1/reservations/{reservation_id}/release")
    async def release(
        reservation_id: str,
        request: Request,
        body: ReleaseInput | None = None,
        key: IdempotencyKey = None,
    ) -> Any:
        """Give back what the lines hold and have not shipped (all lines when none named)."""
        release = body or ReleaseInput()

        def action(key: str) -> JSONResponse:
            reservation = warehouse.get(reservation_id)
            freed = book.release(reservation, release.line_refs)
            if freed:  # releasing what is already released changes nothing: no entry
                ledger.record(
                    PARTNER,
                    "release",
                    reservation.reference,
                    idempotency_key=key,
                    reservation_id=reservation.id,
                    released=freed,
                )
            return JSONResponse(reservation.as_json())

        return await warehouse.once(request, key, release.model_dump(), action)


def _stock_routes(router: APIRouter, warehouse: Warehouse) -> None:
    book = warehouse.book

    @router.get("/warehouse/v1/stock/{sku}")
    async def stock(sku: str) -> Any:
        """Free, reserved and backordered units of one SKU, and the next restock."""
        try:
            return book.stock(sku)
        except WarehouseRefusal as refusal:
            raise _refused(refusal) from refusal

    @router.post("/warehouse/_sandbox/stock")
    async def set_stock(body: StockCount) -> Any:
        """Set a SKU's free units; backorders are served from them first."""
        try:
            book.set_available(body.sku, body.available)
            return book.stock(body.sku)
        except WarehouseRefusal as refusal:
            raise _refused(refusal) from refusal


def _render_invalid(field_name: str, message: str) -> Response:
    return warehouse_error(422, "invalid_request", f"{field_name}: {message}", field_name)


def build(ctx: SandboxContext) -> APIRouter:
    """The warehouse under /warehouse."""
    router = APIRouter(route_class=partner_route(_render_invalid), tags=["warehouse"])
    warehouse = Warehouse(ctx)
    _reservation_routes(router, warehouse)
    _movement_routes(router, warehouse)
    _stock_routes(router, warehouse)
    return router
