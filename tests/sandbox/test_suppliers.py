"""The suppliers' RMA desk: RMAs decided by each supplier's terms, exactly once per
Idempotency-Key (the ledger), vendor credits, and errors that name the field."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from crossdock.sandbox.app import create_app

_keys = itertools.count(1)
MILL = "sup-highland-mill"  # GBP, 60 days, credits damaged goods; SCARF-WOOL at 17.50
TEA = "sup-uji-tea"  # JPY, 30 days, does not credit damaged goods; TEA-MATCHA-50 at 1100


@pytest.fixture
def app() -> FastAPI:
    return create_app()


@pytest.fixture
async def http(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://sandbox") as client:
        yield client


def key() -> str:
    return f"return-ebay-R{next(_keys):05d}/supplier-rma-x"


def body(*lines: tuple[str, int, str], days_ago: float = 3) -> dict[str, Any]:
    delivered = datetime.now(UTC) - timedelta(days=days_ago)
    return {
        "order_reference": "return-ebay-R1",
        "reason": "damaged",
        "delivered_at": delivered.isoformat(),
        "lines": [{"sku": s, "quantity": q, "condition": c} for s, q, c in lines],
    }


async def request_rma(
    http: httpx.AsyncClient, supplier: str, payload: dict[str, Any], idempotency_key: str
) -> httpx.Response:
    return await http.post(
        f"/suppliers/v1/{supplier}/rmas",
        json=payload,
        headers={"Idempotency-Key": idempotency_key},
    )


async def ledger(http: httpx.AsyncClient, kind: str) -> list[dict[str, Any]]:
    response = await http.get("/_sandbox/ledger", params={"partner": "suppliers", "kind": kind})
    return list(response.json())


async def test_rma_is_authorized_with_a_credit_in_the_suppliers_currency(
    http: httpx.AsyncClient,
) -> None:
    response = await request_rma(http, MILL, body(("SCARF-WOOL", 2, "accepted")), key())
    assert response.status_code == 201, response.text
    rma = response.json()
    assert rma["status"] == "authorized"
    assert (rma["currency"], rma["credit_amount"]) == ("GBP", "35.00")
    fetched = await http.get(f"/suppliers/v1/{MILL}/rmas/{rma['id']}")
    assert fetched.json() == rma


async def test_a_retried_request_replays_the_rma_and_is_ledgered_once(
    http: httpx.AsyncClient,
) -> None:
    k = key()
    payload = body(("SCARF-WOOL", 1, "partial"))
    first = await request_rma(http, MILL, payload, k)
    again = await request_rma(http, MILL, payload, k)
    assert again.json() == first.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    # Used goods are credited at half the cost.
    assert first.json()["credit_amount"] == "8.75"
    entries = [e for e in await ledger(http, "rma") if e["idempotency_key"] == k]
    assert len(entries) == 1
    assert (entries[0]["amount"], entries[0]["currency"]) == (875, "GBP")
    other = await request_rma(http, MILL, body(("SCARF-WOOL", 2, "partial")), k)
    assert other.status_code == 400
    assert other.json()["error"]["field"] == "Idempotency-Key"


async def test_damaged_goods_are_refused_by_a_supplier_that_does_not_credit_them(
    http: httpx.AsyncClient,
) -> None:
    response = await request_rma(http, TEA, body(("TEA-MATCHA-50", 3, "damaged")), key())
    rma = response.json()
    assert rma["status"] == "refused"
    assert rma["credit_amount"] == "0"
    assert "does not credit damaged goods" in rma["refusal_reason"]
    # Another supplier credits them in full.
    mill = await request_rma(http, MILL, body(("SCARF-WOOL", 1, "damaged")), key())
    assert (mill.json()["status"], mill.json()["credit_amount"]) == ("authorized", "17.50")


async def test_goods_delivered_before_the_window_are_refused(http: httpx.AsyncClient) -> None:
    response = await request_rma(
        http, TEA, body(("TEA-MATCHA-50", 1, "accepted"), days_ago=31), key()
    )
    rma = response.json()
    assert rma["status"] == "refused"
    assert "outside the 30-day RMA window" in rma["refusal_reason"]
    [line] = rma["lines"]
    assert line["refusal_reason"] == rma["refusal_reason"]


async def test_an_authorized_rma_is_credited_once(http: httpx.AsyncClient) -> None:
    rma = (await request_rma(http, MILL, body(("SCARF-WOOL", 1, "accepted")), key())).json()
    credited = await http.post(f"/suppliers/_sandbox/rmas/{rma['id']}/credit")
    assert credited.json()["status"] == "credited"
    twice = await http.post(f"/suppliers/_sandbox/rmas/{rma['id']}/credit")
    assert twice.status_code == 400
    credits = [
        e for e in await ledger(http, "vendor_credit") if e["details"]["rma_id"] == rma["id"]
    ]
    assert [(e["amount"], e["currency"]) for e in credits] == [(1750, "GBP")]


@pytest.mark.parametrize(
    ("supplier", "payload", "headers", "status", "field"),
    [
        ("sup-nobody", body(("SCARF-WOOL", 1, "accepted")), True, 404, "supplier_id"),
        (TEA, body(("SCARF-WOOL", 1, "accepted")), True, 422, "lines[0].sku"),
        (MILL, body(("SCARF-WOOL", 0, "accepted")), True, 422, "lines[0].quantity"),
        (MILL, body(("SCARF-WOOL", 1, "wrong_item")), True, 422, "lines[0].condition"),
        (MILL, body(("SCARF-WOOL", 1, "accepted")), False, 400, "Idempotency-Key"),
    ],
)
async def test_errors_name_the_field(
    http: httpx.AsyncClient,
    supplier: str,
    payload: dict[str, Any],
    headers: bool,
    status: int,
    field: str,
) -> None:
    sent = {"Idempotency-Key": key()} if headers else {}
    response = await http.post(f"/suppliers/v1/{supplier}/rmas", json=payload, headers=sent)
    assert response.status_code == status, response.text
    assert response.json()["error"]["field"] == field
    assert await ledger(http, "rma") == []
