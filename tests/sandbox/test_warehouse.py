"""The warehouse sandbox: reservations, backorders first come first served, restocks,
fulfilment, releases, idempotent replays and errors that name the field."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from crossdock.sandbox.app import create_app
from crossdock.sandbox.context import SandboxConfig, SandboxContext

_keys = itertools.count(1)


@pytest.fixture
def app() -> FastAPI:
    # No restocks unless a test asks: stock moves only through the API.
    return create_app(SandboxConfig(warehouse_restock_seconds=0))


@pytest.fixture
async def warehouse(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://sandbox/warehouse") as http:
        yield http


def key() -> str:
    return f"order-storefront-SF{next(_keys):06d}/step"


def lines(*specs: tuple[str, int]) -> list[dict[str, Any]]:
    return [
        {"line_ref": f"L{index + 1}", "sku": sku, "quantity": quantity}
        for index, (sku, quantity) in enumerate(specs)
    ]


async def reserve(
    warehouse: httpx.AsyncClient, *specs: tuple[str, int], reference: str = "order-1"
) -> dict[str, Any]:
    body = {"reference": reference, "lines": lines(*specs)}
    response = await warehouse.post(
        "/v1/reservations", json=body, headers={"Idempotency-Key": key()}
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


async def set_stock(warehouse: httpx.AsyncClient, sku: str, available: int) -> None:
    response = await warehouse.post("/_sandbox/stock", json={"sku": sku, "available": available})
    assert response.status_code == 200, response.text


def ledger(app: FastAPI, kind: str) -> list[Any]:
    ctx: SandboxContext = app.state.sandbox
    return ctx.ledger.entries(partner="warehouse", kind=kind)


def counts(reservation: dict[str, Any]) -> list[tuple[int, int, int, int]]:
    """(reserved, backordered, fulfilled, released) per line."""
    return [
        (line["reserved"], line["backordered"], line["fulfilled"], line["released"])
        for line in reservation["lines"]
    ]


class TestReserve:
    async def test_stocked_lines_are_reserved_once_per_key(
        self, app: FastAPI, warehouse: httpx.AsyncClient
    ) -> None:
        body = {"reference": "order-a", "lines": lines(("MUG-STONEWARE", 2), ("TEE-ORGANIC-M", 1))}
        headers = {"Idempotency-Key": "order-a/reserve-stock"}
        first = await warehouse.post("/v1/reservations", json=body, headers=headers)
        replay = await warehouse.post("/v1/reservations", json=body, headers=headers)

        assert first.status_code == replay.status_code == 201
        assert first.json() == replay.json()
        assert replay.headers["Idempotent-Replayed"] == "true"
        reservation = first.json()
        assert reservation["id"].startswith("rsv_")
        assert reservation["status"] == "reserved"
        assert counts(reservation) == [(2, 0, 0, 0), (1, 0, 0, 0)]
        [entry] = ledger(app, "reservation")
        assert (entry.reference, entry.idempotency_key) == ("order-a", "order-a/reserve-stock")
        stock = (await warehouse.get("/v1/stock/MUG-STONEWARE")).json()
        assert (stock["available"], stock["reserved"]) == (498, 2)

    async def test_short_skus_are_backordered(self, warehouse: httpx.AsyncClient) -> None:
        # The data file stocks 3 headphones and no knives.
        partial = await reserve(warehouse, ("HEADPHONES-BT", 5), ("MUG-STONEWARE", 1))
        nothing = await reserve(warehouse, ("KNIFE-SANTOKU", 1))

        assert partial["status"] == "partial"
        assert counts(partial) == [(3, 2, 0, 0), (1, 0, 0, 0)]
        assert nothing["status"] == "backordered"
        assert counts(nothing) == [(0, 1, 0, 0)]

    async def test_backorders_fill_first_come_first_served(
        self, warehouse: httpx.AsyncClient
    ) -> None:
        first = await reserve(warehouse, ("KNIFE-SANTOKU", 2), reference="order-first")
        second = await reserve(warehouse, ("KNIFE-SANTOKU", 2), reference="order-second")

        await set_stock(warehouse, "KNIFE-SANTOKU", 3)

        first = (await warehouse.get(f"/v1/reservations/{first['id']}")).json()
        second = (await warehouse.get(f"/v1/reservations/{second['id']}")).json()
        assert (first["status"], counts(first)) == ("reserved", [(2, 0, 0, 0)])
        assert (second["status"], counts(second)) == ("partial", [(1, 1, 0, 0)])
        stock = (await warehouse.get("/v1/stock/KNIFE-SANTOKU")).json()
        assert (stock["available"], stock["reserved"], stock["backordered"]) == (0, 3, 1)

    async def test_a_restock_arrives_on_schedule(self) -> None:
        # Two seconds: a slow machine still reserves before the first restock.
        app = create_app(SandboxConfig(warehouse_restock_seconds=2.0))
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://s/warehouse") as http:
            waiting = await reserve(http, ("KNIFE-SANTOKU", 4))
            assert waiting["status"] == "backordered"
            stock = (await http.get("/v1/stock/KNIFE-SANTOKU")).json()
            due = datetime.fromisoformat(stock["next_restock_at"])

            await asyncio.sleep(max(0.0, (due - datetime.now(UTC)).total_seconds()) + 0.1)

            # One restock brings 5 knives: 4 go to the backorder, 1 stays free.
            arrived = (await http.get(f"/v1/reservations/{waiting['id']}")).json()
            assert (arrived["status"], counts(arrived)) == ("reserved", [(4, 0, 0, 0)])
            stock = (await http.get("/v1/stock/KNIFE-SANTOKU")).json()
            assert stock["available"] == 1


class TestFulfil:
    async def test_a_package_ships_once_per_key(
        self, app: FastAPI, warehouse: httpx.AsyncClient
    ) -> None:
        reservation = await reserve(warehouse, ("MUG-STONEWARE", 2), ("TEE-ORGANIC-M", 1))
        path = f"/v1/reservations/{reservation['id']}/fulfil"
        headers = {"Idempotency-Key": "order-1/fulfil-stock-1"}
        body = {"package": 1, "line_refs": ["L1"]}

        first = await warehouse.post(path, json=body, headers=headers)
        replay = await warehouse.post(path, json=body, headers=headers)

        assert first.status_code == replay.status_code == 200
        assert first.json() == replay.json()
        shipped = first.json()
        assert counts(shipped) == [(0, 0, 2, 0), (1, 0, 0, 0)]
        assert shipped["packages"] == [{"package": 1, "line_refs": ["L1"]}]
        [entry] = ledger(app, "fulfilment")
        assert (entry.idempotency_key, entry.details["package"]) == ("order-1/fulfil-stock-1", 1)

    async def test_every_line_shipped_is_fulfilled(self, warehouse: httpx.AsyncClient) -> None:
        reservation = await reserve(warehouse, ("MUG-STONEWARE", 1))
        path = f"/v1/reservations/{reservation['id']}/fulfil"
        body = {"package": 1, "line_refs": ["L1"]}
        response = await warehouse.post(path, json=body, headers={"Idempotency-Key": key()})
        assert response.json()["status"] == "fulfilled"

    async def test_lines_that_cannot_ship_are_refused_by_field(
        self, app: FastAPI, warehouse: httpx.AsyncClient
    ) -> None:
        reservation = await reserve(warehouse, ("MUG-STONEWARE", 1), ("KNIFE-SANTOKU", 1))
        path = f"/v1/reservations/{reservation['id']}/fulfil"

        async def fulfil(*refs: str) -> httpx.Response:
            body = {"package": 1, "line_refs": list(refs)}
            return await warehouse.post(path, json=body, headers={"Idempotency-Key": key()})

        backordered = await fulfil("L1", "L2")
        assert backordered.status_code == 400
        assert backordered.json()["error"]["code"] == "invalid_state"
        assert backordered.json()["error"]["field"] == "line_refs[1]"
        unknown = await fulfil("L9")
        assert unknown.status_code == 422
        assert unknown.json()["error"]["field"] == "line_refs[0]"
        assert "L1, L2" in unknown.json()["error"]["message"]
        assert (await fulfil("L1")).status_code == 200
        again = await fulfil("L1")  # another package cannot ship the same line twice
        assert (again.status_code, again.json()["error"]["field"]) == (400, "line_refs[0]")
        assert len(ledger(app, "fulfilment")) == 1


class TestRelease:
    async def test_release_gives_back_what_did_not_ship(
        self, app: FastAPI, warehouse: httpx.AsyncClient
    ) -> None:
        reservation = await reserve(
            warehouse, ("MUG-STONEWARE", 1), ("HEADPHONES-BT", 2), ("KNIFE-SANTOKU", 1)
        )
        rid = reservation["id"]
        fulfil = {"package": 1, "line_refs": ["L1"]}
        await warehouse.post(
            f"/v1/reservations/{rid}/fulfil", json=fulfil, headers={"Idempotency-Key": key()}
        )
        headers = {"Idempotency-Key": "order-1/release-stock"}

        first = await warehouse.post(f"/v1/reservations/{rid}/release", headers=headers)
        replay = await warehouse.post(f"/v1/reservations/{rid}/release", headers=headers)
        again = await warehouse.post(
            f"/v1/reservations/{rid}/release", headers={"Idempotency-Key": key()}
        )

        assert first.json() == replay.json()
        released = first.json()
        assert released["status"] == "released"
        # The shipped mug stays shipped; the headphones and the backordered knife go back.
        assert counts(released) == [(0, 0, 1, 0), (0, 0, 0, 2), (0, 0, 0, 1)]
        assert (again.status_code, counts(again.json())) == (200, counts(released))
        [entry] = ledger(app, "release")
        assert entry.details["released"] == {"L2": 2, "L3": 1}
        stock = (await warehouse.get("/v1/stock/HEADPHONES-BT")).json()
        assert (stock["available"], stock["reserved"]) == (3, 0)

    async def test_releasing_some_lines_serves_the_next_backorder(
        self, warehouse: httpx.AsyncClient
    ) -> None:
        holder = await reserve(warehouse, ("HEADPHONES-BT", 3), ("MUG-STONEWARE", 1))
        waiting = await reserve(warehouse, ("HEADPHONES-BT", 2), reference="order-2")
        assert waiting["status"] == "backordered"

        response = await warehouse.post(
            f"/v1/reservations/{holder['id']}/release",
            json={"line_refs": ["L1"]},
            headers={"Idempotency-Key": key()},
        )

        assert response.json()["status"] == "reserved"  # the mug is still held
        assert counts(response.json()) == [(0, 0, 0, 3), (1, 0, 0, 0)]
        served = (await warehouse.get(f"/v1/reservations/{waiting['id']}")).json()
        assert (served["status"], counts(served)) == ("reserved", [(2, 0, 0, 0)])


class TestErrors:
    @pytest.mark.parametrize(
        ("body", "field"),
        [
            ({"reference": "o", "lines": lines(("NO-SUCH-SKU", 1))}, "lines[0].sku"),
            ({"reference": "o", "lines": lines(("MUG-STONEWARE", 0))}, "lines[0].quantity"),
            ({"reference": "o", "lines": []}, "lines"),
            ({"reference": "", "lines": lines(("MUG-STONEWARE", 1))}, "reference"),
            (
                {"reference": "o", "lines": lines(("MUG-STONEWARE", 1)) * 2},
                "lines",
            ),
        ],
    )
    async def test_bad_reservations_name_the_field(
        self, app: FastAPI, warehouse: httpx.AsyncClient, body: dict[str, Any], field: str
    ) -> None:
        response = await warehouse.post(
            "/v1/reservations", json=body, headers={"Idempotency-Key": key()}
        )
        assert response.status_code == 422
        assert response.json()["error"]["field"] == field
        assert ledger(app, "reservation") == []

    async def test_side_effects_need_an_idempotency_key(self, warehouse: httpx.AsyncClient) -> None:
        body = {"reference": "o", "lines": lines(("MUG-STONEWARE", 1))}
        response = await warehouse.post("/v1/reservations", json=body)
        assert response.status_code == 400
        assert response.json()["error"]["field"] == "Idempotency-Key"

    async def test_a_key_reused_with_other_lines_is_refused(
        self, warehouse: httpx.AsyncClient
    ) -> None:
        headers = {"Idempotency-Key": "order-x/reserve-stock"}
        body = {"reference": "order-x", "lines": lines(("MUG-STONEWARE", 1))}
        await warehouse.post("/v1/reservations", json=body, headers=headers)
        body["lines"] = lines(("MUG-STONEWARE", 2))
        response = await warehouse.post("/v1/reservations", json=body, headers=headers)
        assert response.status_code == 400
        assert response.json()["error"]["code"] == "idempotency_error"

    async def test_unknown_ids_are_not_found(self, warehouse: httpx.AsyncClient) -> None:
        reservation = await warehouse.get("/v1/reservations/rsv_missing")
        stock = await warehouse.get("/v1/stock/NO-SUCH-SKU")
        release = await warehouse.post(
            "/v1/reservations/rsv_missing/release", headers={"Idempotency-Key": key()}
        )
        assert (reservation.status_code, reservation.json()["error"]["field"]) == (404, "id")
        assert (stock.status_code, stock.json()["error"]["field"]) == (404, "sku")
        assert release.status_code == 404
