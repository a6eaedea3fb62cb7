"""The carrier sandbox's EasyPost address verification: verify, verify_strict,
create_and_verify, and the official SDK against it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from easypost.easypost_client import EasyPostClient
from easypost.errors.api.invalid_request_error import InvalidRequestError
from fastapi import FastAPI

from crossdock.sandbox.context import SandboxConfig, SandboxContext
from crossdock.sandbox.easypost.addresses import delivery_errors
from crossdock.sandbox.easypost.carrier import Carrier
from crossdock.sandbox.easypost.routes import build_router

AUTH = {"Authorization": "Bearer EZTK_crossdock"}
MANCHESTER = {
    "name": "Demo buyer",
    "street1": "1 demo street",
    "city": "Manchester",
    "zip": "m11ae",
    "country": "GB",
    "phone": "+44 161 000 0000",
}


def address(**overrides: Any) -> dict[str, Any]:
    return {k: v for k, v in {**MANCHESTER, **overrides}.items() if v is not None}


@pytest.fixture
def carrier() -> Carrier:
    no_network = httpx.AsyncClient(transport=httpx.MockTransport(lambda _: httpx.Response(503)))
    return Carrier(SandboxContext(config=SandboxConfig(), http=no_network))


@pytest.fixture
async def http(carrier: Carrier) -> AsyncIterator[httpx.AsyncClient]:
    app = FastAPI()
    app.include_router(build_router(carrier))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://sandbox/easypost") as client:
        yield client


async def create(http: httpx.AsyncClient, body: dict[str, Any]) -> httpx.Response:
    return await http.post("/v2/addresses", json=body, headers=AUTH)


async def test_create_without_verify_stores_the_address_as_given(http: httpx.AsyncClient) -> None:
    response = await create(http, {"address": address()})

    assert response.status_code == 201
    body = response.json()
    assert (body["object"], body["id"][:4], body["street1"], body["zip"]) == (
        "Address",
        "adr_",
        "1 demo street",
        "m11ae",
    )
    assert body["verifications"] == {}


@pytest.mark.parametrize("verify", [True, False, ["delivery"]])
async def test_any_verify_value_verifies_and_corrects(http: httpx.AsyncClient, verify: Any) -> None:
    # EasyPost: sending `verify` at all asks for verification, whatever its value.
    response = await create(http, {"address": address(), "verify": verify})

    assert response.status_code == 201
    body = response.json()
    assert body["verifications"] == {"delivery": {"success": True, "errors": [], "details": {}}}
    assert (body["street1"], body["city"], body["zip"], body["name"], body["phone"]) == (
        "1 DEMO STREET",
        "MANCHESTER",
        "M1 1AE",
        "DEMO BUYER",
        "441610000000",
    )


async def test_undeliverable_street_fails_verification_but_creates(http: httpx.AsyncClient) -> None:
    response = await create(
        http, {"address": address(street1="1 Undeliverable St"), "verify": ["delivery"]}
    )

    assert response.status_code == 201
    delivery = response.json()["verifications"]["delivery"]
    assert delivery["success"] is False
    assert delivery["errors"] == [
        {
            "code": "E.ADDRESS.NOT_FOUND",
            "field": "address",
            "message": "Address not found",
            "suggestion": None,
        }
    ]
    assert response.json()["street1"] == "1 Undeliverable St"  # not corrected


@pytest.mark.parametrize(
    ("fields", "code", "field"),
    [
        ({"zip": None}, "E.ZIP.MISSING", "zip"),
        ({"zip": "  "}, "E.ZIP.MISSING", "zip"),
        ({"zip": "12345"}, "E.ZIP.INVALID", "zip"),
        ({"country": "US", "zip": "9720"}, "E.ZIP.INVALID", "zip"),
        ({"country": "JP", "zip": "530"}, "E.ZIP.INVALID", "zip"),
        ({"street1": ""}, "E.STREET.MISSING", "street1"),
        ({"city": ""}, "E.CITY.MISSING", "city"),
    ],
)
def test_delivery_rules(fields: dict[str, Any], code: str, field: str) -> None:
    [error] = delivery_errors(address(**fields))

    assert (error["code"], error["field"]) == (code, field)


@pytest.mark.parametrize(
    ("country", "zip"),
    [
        ("US", "97205"),
        ("US", "97205-1234"),
        ("CA", "t2p1j9"),
        ("GB", "SW1A 1AA"),
        ("JP", "5300001"),
        ("NL", "3511"),
        ("NL", "3511 ab"),
        ("AU", "4000"),
        ("DE", "10115"),
        ("HK", ""),  # no postal codes in Hong Kong
        ("AE", ""),  # not in the sandbox's table: not checked
    ],
)
def test_postal_codes_the_posts_use_are_accepted(country: str, zip: str) -> None:
    assert delivery_errors(address(country=country, zip=zip)) == []


async def test_us_addresses_also_get_zip4(http: httpx.AsyncClient) -> None:
    body = address(country="US", zip="97205", city="Portland", state="or")

    response = await create(http, {"address": body, "verify": True})

    verifications = response.json()["verifications"]
    assert set(verifications) == {"delivery", "zip4"}
    assert response.json()["state"] == "OR"


async def test_verify_strict_refuses_an_undeliverable_address(
    http: httpx.AsyncClient, carrier: Carrier
) -> None:
    response = await create(http, {"address": address(zip=None), "verify_strict": True})

    assert response.status_code == 422
    error = response.json()["error"]
    assert (error["code"], error["message"]) == (
        "ADDRESS.VERIFY.FAILURE",
        "Unable to verify address.",
    )
    assert [e["code"] for e in error["errors"]] == ["E.ZIP.MISSING"]
    assert carrier.addresses == {}


async def test_verify_flag_inside_the_address_as_older_sdks_send_it(
    http: httpx.AsyncClient,
) -> None:
    response = await create(http, {"address": {**address(), "verify": [True]}})

    body = response.json()
    assert body["verifications"]["delivery"]["success"] is True
    assert "verify" not in body


async def test_create_and_verify_wraps_the_address_and_refuses_failures(
    http: httpx.AsyncClient,
) -> None:
    ok = await http.post(
        "/v2/addresses/create_and_verify", json={"address": address()}, headers=AUTH
    )
    bad = await http.post(
        "/v2/addresses/create_and_verify",
        json={"address": address(street1="UNDELIVERABLE ST")},
        headers=AUTH,
    )

    assert ok.status_code == 200
    assert ok.json()["address"]["verifications"]["delivery"]["success"] is True
    assert bad.status_code == 422
    assert bad.json()["error"]["code"] == "ADDRESS.VERIFY.FAILURE"


async def test_retrieve_address(http: httpx.AsyncClient) -> None:
    created = (await create(http, {"address": address(), "verify": True})).json()

    found = await http.get(f"/v2/addresses/{created['id']}", headers=AUTH)
    missing = await http.get("/v2/addresses/adr_nope", headers=AUTH)

    assert found.json() == created
    assert (missing.status_code, missing.json()["error"]["code"]) == (404, "NOT_FOUND")


async def test_country_defaults_to_us_as_easypost_does(http: httpx.AsyncClient) -> None:
    body = {k: v for k, v in address(zip="97205").items() if k != "country"}

    response = await create(http, {"address": body, "verify": True})

    assert response.json()["country"] == "US"
    assert response.json()["verifications"]["delivery"]["success"] is True


@pytest.mark.parametrize("body", [{}, {"address": "1 Demo Street"}, {"verify": True}])
async def test_missing_address_object_is_refused(http: httpx.AsyncClient, body: Any) -> None:
    response = await create(http, body)

    assert response.status_code == 422
    assert response.json()["error"]["code"] == "ADDRESS.PARAMETERS.INVALID"


async def test_api_key_is_required(http: httpx.AsyncClient) -> None:
    response = await http.post("/v2/addresses", json={"address": address()})

    assert response.status_code == 401


def test_official_sdk_verifies_against_the_sandbox(live_sandbox: str) -> None:
    client = EasyPostClient("EZTK_official_sdk", api_base=f"{live_sandbox}/easypost/v2")
    fields = address()

    verified = client.address.create(verify=True, **fields)
    strict = client.address.create_and_verify(**fields)
    failed = client.address.create(verify=True, **{**fields, "street1": "UNDELIVERABLE ST"})

    assert verified.verifications.delivery.success is True
    assert (verified.zip, strict.zip) == ("M1 1AE", "M1 1AE")
    assert failed.verifications.delivery.success is False
    assert failed.verifications.delivery.errors[0].code == "E.ADDRESS.NOT_FOUND"
    with pytest.raises(InvalidRequestError):
        client.address.create_and_verify(**{**fields, "zip": ""})
