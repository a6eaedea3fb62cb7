"""The API contract of the intake process: every refusal in one error shape, every status
code and security scheme in the OpenAPI spec, and the bounds the spec states held by the
validators (what schemathesis found where they parted)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, cast

import httpx
import pytest
from fastapi import FastAPI
from pydantic import TypeAdapter, ValidationError
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from crossdock.config import Settings
from crossdock.console.actions import DecideBody
from crossdock.identity import Accounts
from crossdock.models.approval import Role
from crossdock.models.bounds import Price
from crossdock.models.order import LineItem
from crossdock.store import Database, upgrade
from starter.app import create_intake_app
from starter.rate_limit import RateLimiter
from tests.factories import order


@pytest.fixture
def app(tmp_path: Path) -> FastAPI:
    # No lifespan: nothing here reaches Temporal (every request is refused before).
    app = create_intake_app(Settings(state_dir=tmp_path, _env_file=None))
    app.state.client = cast(Client, None)
    return app


@pytest.fixture
async def http(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://intake") as client:
        yield client


@pytest.fixture
async def token(tmp_path: Path) -> str:
    """An operator's API token on the `app` fixture's database (same state dir)."""

    def issue() -> str:
        db = Database.from_settings(Settings(state_dir=tmp_path, _env_file=None))
        upgrade(db)
        accounts = Accounts(db)
        accounts.add("ops", Role.OPERATOR)
        issued = accounts.issue_token("ops", "tests").token
        db.dispose()
        return issued

    return await asyncio.to_thread(issue)


def assert_shape(response: httpx.Response, status: int, error: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    answer: dict[str, Any] = response.json()
    assert answer["error"] == error and answer["message"], answer
    return answer


async def test_unknown_paths_and_methods_answer_in_the_error_shape(
    http: httpx.AsyncClient,
) -> None:
    assert_shape(await http.get("/no/such/path"), 404, "not_found")
    wrong = await http.get("/webhooks/stripe")
    assert_shape(wrong, 405, "method_not_allowed")
    assert wrong.headers["allow"] == "POST"


async def test_unknown_console_routes_answer_in_the_error_shape(
    http: httpx.AsyncClient, token: str
) -> None:
    auth = {"Authorization": f"Bearer {token}"}
    unknown = assert_shape(await http.get("/api/x", headers=auth), 422, "invalid_request")
    assert unknown["fields"][0]["field"] == "path.kind"
    assert_shape(await http.get("/api/cases/x/decide", headers=auth), 405, "method_not_allowed")
    no_reason = await http.post("/api/cases/x/hold", headers=auth, json={})
    assert_shape(no_reason, 422, "invalid_request")
    assert_shape(await http.get("/api/x"), 401, "unauthenticated")


async def test_a_rate_limited_source_gets_the_error_shape_and_retry_after(
    app: FastAPI, http: httpx.AsyncClient
) -> None:
    # An empty bucket: refused before the webhook intake (not built here) is reached.
    app.state.rate_limiter = RateLimiter(rate=0.5, burst=0)
    limited = await http.post("/webhooks/stripe", content=b"{}")
    assert_shape(limited, 429, "rate_limited")
    assert int(limited.headers["retry-after"]) >= 1


async def test_a_body_that_is_not_text_names_the_body(http: httpx.AsyncClient, token: str) -> None:
    """Probe (schemathesis): bytes that are not UTF-8 got FastAPI's undocumented 400
    "There was an error parsing the body", in another shape."""
    response = await http.post(
        "/api/cases/order-storefront-1/hold",
        content=b"\xff\xfe{",
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"},
    )
    answer = assert_shape(response, 400, "invalid_request")
    assert answer["fields"] == [{"field": "body", "message": "not JSON in UTF-8"}]


@pytest.mark.parametrize("limit", [0, -1, 501, 10**30])
async def test_a_case_list_limit_out_of_bounds_is_refused_naming_it(
    http: httpx.AsyncClient, token: str, limit: int
) -> None:
    response = await http.get(
        "/api/orders", params={"limit": limit}, headers={"Authorization": f"Bearer {token}"}
    )
    answer = assert_shape(response, 422, "invalid_request")
    assert [f["field"] for f in answer["fields"]] == ["query.limit"]


async def test_a_workflow_id_past_its_bound_is_refused_naming_it(
    http: httpx.AsyncClient, token: str
) -> None:
    response = await http.get(
        "/api/cases/" + "o" * 201, headers={"Authorization": f"Bearer {token}"}
    )
    answer = assert_shape(response, 422, "invalid_request")
    assert [f["field"] for f in answer["fields"]] == ["path.workflow_id"]


class _Unreachable:
    """A Temporal client whose frontend does not answer."""

    def list_workflows(self, query: str, limit: int) -> Any:
        raise RPCError("connection refused", RPCStatusCode.UNAVAILABLE, b"")


async def test_temporal_unreachable_is_the_documented_503(
    app: FastAPI, http: httpx.AsyncClient, token: str
) -> None:
    """It was a 500 with a traceback; the spec says 503, and the caller retries."""
    app.state.client = _Unreachable()
    response = await http.get("/api/orders", headers={"Authorization": f"Bearer {token}"})
    assert_shape(response, 503, "unavailable")


def test_every_operation_documents_its_refusals_in_the_error_shape(app: FastAPI) -> None:
    spec = app.openapi()
    error = {"$ref": "#/components/schemas/ApiError"}
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            responses = operation["responses"]
            refusals = {code for code in responses if code.startswith(("4", "5"))}
            assert {"413"} <= refusals, (method, path)
            for code in refusals:
                schema = responses[code]["content"]["application/json"]["schema"]
                assert schema == error, (method, path, code)
            assert operation.get("security"), (method, path)
    checkout = spec["paths"]["/intake/storefront/checkout"]["post"]
    assert set(checkout["responses"]) == {"202", "400", "401", "409", "413", "422", "429", "503"}
    assert "Retry-After" in checkout["responses"]["429"]["headers"]


def test_the_spec_names_each_credential_as_a_security_scheme(app: FastAPI) -> None:
    schemes = app.openapi()["components"]["securitySchemes"]
    assert schemes["ApiToken"] == {
        "type": "http",
        "scheme": "bearer",
        "description": schemes["ApiToken"]["description"],
    }
    headers = {name: s.get("name") for name, s in schemes.items() if s["type"] == "apiKey"}
    assert headers == {
        "StripeSignature": "Stripe-Signature",
        "EasyPostSignature": "X-Hmac-Signature",
        "StorefrontSignature": "Crossdock-Storefront-Signature",
    }


def test_the_checkout_body_carries_its_constraints(app: FastAPI) -> None:
    schemas = app.openapi()["components"]["schemas"]
    checkout = schemas["StorefrontCheckout"]
    assert checkout["properties"]["channel"]["const"] == "storefront"
    assert "payment_method" in checkout["required"]
    assert checkout["properties"]["placed_at"]["pattern"] == "^20[0-9]{2}-"
    assert schemas["LineItem"]["properties"]["hs_code"]["pattern"]


def test_a_whole_number_amount_is_an_integer_as_json_schema_says() -> None:
    """Probe (schemathesis): `1250.0`, an integer to JSON Schema, was refused."""
    price = TypeAdapter(Price).validate_python({"amount": 1250.0, "currency": "EUR"})
    assert price.amount == 1250 and isinstance(price.amount, int)
    with pytest.raises(ValidationError, match="amount"):
        TypeAdapter(Price).validate_python({"amount": 1250.5, "currency": "EUR"})


def test_hs_codes_are_ascii_digits() -> None:
    """`\\d` took any script's digits (Arabic-Indic ٦١٠٩١٠), which no customs system reads."""
    line = order().items[0].model_dump()
    with pytest.raises(ValidationError, match="hs_code"):
        LineItem.model_validate({**line, "hs_code": "\u0666\u0661\u0660\u0669\u0661\u0660"})
    assert LineItem.model_validate({**line, "hs_code": "6109.10"}).hs_code == "610910"


def test_a_decision_amount_is_bounded_like_every_charge() -> None:
    base = {"key": "refund", "action": "approve"}
    with pytest.raises(ValidationError, match="amount"):
        DecideBody.model_validate({**base, "amount": {"amount": 10**30, "currency": "EUR"}})
    with pytest.raises(ValidationError, match="amount"):
        DecideBody.model_validate({**base, "amount": {"amount": -5, "currency": "EUR"}})
    with pytest.raises(ValidationError, match="key"):
        DecideBody.model_validate({**base, "key": "k" * 201})
