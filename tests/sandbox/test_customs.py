"""The customs service sandbox: landed-cost quotes, declarations, idempotency, ledger."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from crossdock.sandbox.app import create_app
from crossdock.sandbox.context import SandboxConfig, SandboxContext
from crossdock.sandbox.customs.routes import mrn_check_character
from crossdock.sandbox.customs.rules import default_rules

_numbers = itertools.count(1)


@pytest.fixture(scope="module")
def app() -> FastAPI:
    return create_app()


@pytest.fixture
async def customs(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://sandbox/customs") as http:
        yield http


@pytest.fixture
def reference() -> str:
    return f"order-amazon-302-{next(_numbers):07d}-0000000"


def consignment(**overrides: Any) -> dict[str, Any]:
    body = {
        "destination_country": "GB",
        "currency": "GBP",
        "incoterm": "DDP",
        "shipping": {"amount": 500, "currency": "GBP"},
        "items": [
            {
                "sku": "TEE-ORGANIC-M",
                "hs_code": "6109.10",
                "origin_country": "PT",
                "quantity": 2,
                "unit_price": {"amount": 10000, "currency": "GBP"},
            }
        ],
    }
    return body | overrides


def declarations(app: FastAPI, reference: str, kind: str = "declaration") -> list[Any]:
    ctx: SandboxContext = app.state.sandbox
    return ctx.ledger.entries(partner="customs", kind=kind, reference=reference)


class TestLandedCost:
    async def test_quote_in_the_published_shape(self, customs: httpx.AsyncClient) -> None:
        response = await customs.post("/v1/landed-cost", json=consignment())
        assert response.status_code == 200
        quote = response.json()
        assert quote["quote_id"].startswith("lcq_")
        # £200 > £135: duty 12% of CIF 20500 = 2460; VAT 20% of 20500 + 2460 = 4592.
        assert (quote["regime"], quote["collected_at_sale"]) == ("STANDARD", False)
        assert quote["duties"] == {"amount": 2460, "currency": "GBP"}
        assert quote["taxes"] == {"amount": 4592, "currency": "GBP"}
        assert quote["total"] == {"amount": 7052, "currency": "GBP"}
        assert quote["fx"] is None
        assert quote["lines"] == [
            {
                "sku": "TEE-ORGANIC-M",
                "hs_code": "610910",
                "duty_rate": "0.12",
                "duty": {"amount": 2460, "currency": "GBP"},
                "tax": {"amount": 4592, "currency": "GBP"},
            }
        ]

    async def test_fx_rate_is_reported(self, customs: httpx.AsyncClient) -> None:
        body = consignment(destination_country="DE")
        quote = (await customs.post("/v1/landed-cost", json=body)).json()
        assert quote["fx"] == {
            "rate": "1.145475",
            "from": "GBP",
            "to": "EUR",
            "as_of": "2025-10-01",
        }
        assert quote["intrinsic_value"] == {"amount": 22910, "currency": "EUR"}

    @pytest.mark.parametrize(
        ("overrides", "field"),
        [
            ({"destination_country": "BR"}, "destination_country"),
            ({"destination_country": "Germany"}, "destination_country"),
            ({"incoterm": "EXW"}, "incoterm"),
            ({"shipping": {"amount": 1.5, "currency": "GBP"}}, "shipping.amount"),
        ],
    )
    async def test_bad_requests_name_the_field(
        self, customs: httpx.AsyncClient, overrides: dict[str, Any], field: str
    ) -> None:
        response = await customs.post("/v1/landed-cost", json=consignment(**overrides))
        assert response.status_code == 422
        assert response.json()["error"]["field"] == field

    @pytest.mark.parametrize("hs_code", ["61", "990000", "7700.00"])
    async def test_bad_hs_code_names_the_item(
        self, customs: httpx.AsyncClient, hs_code: str
    ) -> None:
        body = consignment()
        body["items"][0]["hs_code"] = hs_code
        response = await customs.post("/v1/landed-cost", json=body)
        assert response.status_code == 422
        assert response.json()["error"]["field"] == "items[0].hs_code"

    async def test_malformed_authorization_is_refused(self, customs: httpx.AsyncClient) -> None:
        response = await customs.post(
            "/v1/landed-cost", json=consignment(), headers={"Authorization": "Basic eA=="}
        )
        assert response.status_code == 401


class TestDeclarations:
    async def file(
        self, customs: httpx.AsyncClient, reference: str, key: str | None = "k", **extra: Any
    ) -> httpx.Response:
        headers = {"Idempotency-Key": f"{reference}-{key}"} if key else {}
        body = consignment(reference=reference, **extra)
        return await customs.post("/v1/declarations", json=body, headers=headers)

    async def test_filed_with_a_valid_mrn(self, customs: httpx.AsyncClient, reference: str) -> None:
        response = await self.file(customs, reference)
        assert response.status_code == 201
        declaration = response.json()
        assert declaration["id"].startswith("dcl_")
        assert (declaration["status"], declaration["reference"]) == ("filed", reference)
        mrn = declaration["mrn"]
        assert len(mrn) == 18 and mrn[2:4] == "GB"
        assert mrn[-1] == mrn_check_character(mrn[:17])
        got = await customs.get(f"/v1/declarations/{declaration['id']}")
        assert got.json() == declaration

    async def test_replay_returns_the_same_declaration_and_records_once(
        self, customs: httpx.AsyncClient, app: FastAPI, reference: str
    ) -> None:
        first = await self.file(customs, reference)
        again = await self.file(customs, reference)
        assert again.status_code == 201
        assert again.json() == first.json()
        assert again.headers["Idempotent-Replayed"] == "true"
        (entry,) = declarations(app, reference)
        assert (entry.idempotency_key, entry.amount, entry.currency) == (
            f"{reference}-k",
            7052,
            "GBP",
        )

    async def test_key_reused_with_other_params_is_refused(
        self, customs: httpx.AsyncClient, app: FastAPI, reference: str
    ) -> None:
        await self.file(customs, reference)
        other = await self.file(customs, reference, incoterm="DAP")
        assert other.status_code == 400
        assert other.json()["error"]["code"] == "idempotency_error"
        assert len(declarations(app, reference)) == 1

    async def test_unknown_quote_is_refused(
        self, customs: httpx.AsyncClient, reference: str
    ) -> None:
        response = await self.file(customs, reference, quote_id="lcq_nope")
        assert (response.status_code, response.json()["error"]["field"]) == (422, "quote_id")
        # Nothing was filed, so nothing was saved under the key: the fixed request goes in.
        assert (await self.file(customs, reference)).status_code == 201

    async def test_quote_id_is_kept(self, customs: httpx.AsyncClient, reference: str) -> None:
        quote = (await customs.post("/v1/landed-cost", json=consignment())).json()
        response = await self.file(customs, reference, quote_id=quote["quote_id"])
        assert response.json()["quote_id"] == quote["quote_id"]

    async def test_cancel_once_replay_and_ledger(
        self, customs: httpx.AsyncClient, app: FastAPI, reference: str
    ) -> None:
        declaration = (await self.file(customs, reference)).json()
        url = f"/v1/declarations/{declaration['id']}/cancel"
        key = {"Idempotency-Key": f"{reference}-cancel"}
        first = await customs.post(url, headers=key)
        again = await customs.post(url, headers=key)
        assert first.json()["status"] == again.json()["status"] == "cancelled"
        assert len(declarations(app, reference, "declaration_cancel")) == 1
        fresh_key = await customs.post(url, headers={"Idempotency-Key": "another"})
        assert (fresh_key.status_code, fresh_key.json()["error"]["code"]) == (400, "invalid_state")

    async def test_hold_and_release_by_the_authority(
        self, customs: httpx.AsyncClient, reference: str
    ) -> None:
        declaration = (await self.file(customs, reference)).json()
        admin = f"/_sandbox/declarations/{declaration['id']}"
        held = await customs.post(f"{admin}/hold", json={"reason": "x-ray"})
        assert (held.json()["status"], held.json()["hold_reason"]) == ("held", "x-ray")
        released = await customs.post(f"{admin}/release")
        assert released.json()["status"] == "released"
        again = await customs.post(f"{admin}/hold", json={"reason": "second look"})
        assert again.status_code == 400  # only a filed declaration can be held

    async def test_unknown_declaration(self, customs: httpx.AsyncClient) -> None:
        response = await customs.get("/v1/declarations/dcl_missing")
        assert response.status_code == 404


async def test_random_inspections_hold_a_share_of_filings_until_release() -> None:
    """With customs_hold_rate, some filings come back held and are released later."""
    app = create_app(SandboxConfig(customs_hold_rate=0.5, customs_hold_seconds=0.2, seed=3))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://sandbox") as http:
        filed = []
        for n in range(12):
            body = consignment(reference=f"order-storefront-SFHOLD{n:04d}")
            response = await http.post(
                "/customs/v1/declarations", json=body, headers={"Idempotency-Key": f"h{n}"}
            )
            assert response.status_code == 201, response.text
            filed.append(response.json())
        held = [d for d in filed if d["status"] == "held"]
        assert 0 < len(held) < len(filed)
        assert all(d["hold_reason"] == "random inspection" for d in held)
        await asyncio.sleep(0.3)
        later = (await http.get(f"/customs/v1/declarations/{held[0]['id']}")).json()
        assert later["status"] == "released"


async def test_a_held_declaration_can_be_withdrawn() -> None:
    """Abandoning goods under a customs hold withdraws their declaration."""
    app = create_app(SandboxConfig(customs_hold_rate=1.0, customs_hold_seconds=3600, seed=5))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://sandbox") as http:
        body = consignment(reference="order-storefront-SFHOLDX")
        filed = await http.post(
            "/customs/v1/declarations", json=body, headers={"Idempotency-Key": "hx"}
        )
        assert filed.json()["status"] == "held"
        cancelled = await http.post(
            f"/customs/v1/declarations/{filed.json()['id']}/cancel",
            headers={"Idempotency-Key": "hx-cancel"},
        )
        assert cancelled.status_code == 200, cancelled.text
        assert cancelled.json()["status"] == "cancelled"


class TestDatedRules:
    """The rules in force on the sale date apply; quotes and declarations say which."""

    def eu_order(self, sale_date: str, **extra: Any) -> dict[str, Any]:
        body = consignment(destination_country="FR", currency="EUR", sale_date=sale_date)
        body["shipping"] = {"amount": 500, "currency": "EUR"}
        body["items"][0]["unit_price"] = {"amount": 4000, "currency": "EUR"}
        return body | extra

    async def test_quote_records_the_rules_version_and_period(
        self, customs: httpx.AsyncClient
    ) -> None:
        before = (await customs.post("/v1/landed-cost", json=self.eu_order("2026-06-30"))).json()
        after = (await customs.post("/v1/landed-cost", json=self.eu_order("2026-07-01"))).json()
        # VAT 20% of 8000 + 500 at sale either way; the EUR 3 flat duty from 2026-07-01.
        assert (before["regime"], before["duties"]["amount"], before["taxes"]["amount"]) == (
            "IOSS",
            0,
            1700,
        )
        assert (after["regime"], after["duties"]["amount"], after["taxes"]["amount"]) == (
            "IOSS",
            300,
            1700,
        )
        assert before["rules_version"] == after["rules_version"] == default_rules().version
        assert (before["rule_in_force_from"], after["rule_in_force_from"]) == (
            "2021-07-01",
            "2026-07-01",
        )
        assert after["rules_date"] == "2026-07-01"

    async def test_declaration_and_its_ledger_entry_record_the_version(
        self, customs: httpx.AsyncClient, app: FastAPI, reference: str
    ) -> None:
        body = self.eu_order("2026-07-01", reference=reference)
        response = await customs.post(
            "/v1/declarations", json=body, headers={"Idempotency-Key": f"{reference}-dated"}
        )
        assert response.status_code == 201, response.text
        filed = response.json()
        assert (filed["duties"]["amount"], filed["rules_version"]) == (
            300,
            default_rules().version,
        )
        assert (filed["rule_in_force_from"], filed["rules_date"]) == ("2026-07-01", "2026-07-01")
        (entry,) = declarations(app, reference)
        assert entry.details["rules_version"] == default_rules().version
        assert entry.details["rule_in_force_from"] == "2026-07-01"

    async def test_canada_thresholds_follow_the_place_of_direct_shipment(
        self, customs: httpx.AsyncClient
    ) -> None:
        body = consignment(destination_country="CA", currency="CAD", shipping=None)
        body["items"][0] |= {"origin_country": "CN", "quantity": 1}
        body["items"][0]["unit_price"] = {"amount": 10000, "currency": "CAD"}
        from_us = await customs.post("/v1/landed-cost", json=body | {"ship_from_country": "US"})
        from_de = await customs.post("/v1/landed-cost", json=body | {"ship_from_country": "DE"})
        assert (from_us.json()["regime"], from_us.json()["duties"]["amount"]) == ("DE_MINIMIS", 0)
        assert (from_de.json()["regime"], from_de.json()["duties"]["amount"]) == ("STANDARD", 1800)

    async def test_a_sale_date_before_the_rules_begin_names_the_field(
        self, customs: httpx.AsyncClient
    ) -> None:
        response = await customs.post("/v1/landed-cost", json=self.eu_order("2019-01-01"))
        assert response.status_code == 422
        assert response.json()["error"]["field"] == "sale_date"
