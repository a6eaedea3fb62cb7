"""Every HTTP entry point of the intake process (checkout, webhooks, console, codec)
bounds request size (413) and answers malformed bodies 4xx naming the field, in the
console's error shape `{"error": code, "message": ...}` (issue 18's probes: 8 MB
bodies, a 5 MB field, malformed JSON, wrong types, absurd dates at the door)."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, cast

import httpx
import pytest
from temporalio.client import Client

from crossdock.audit import AuditLog
from crossdock.catalog import default_catalog
from crossdock.config import Settings
from crossdock.partners.storefront import StorefrontClient
from crossdock.sandbox.storefront import sign
from crossdock.secrets import storefront_signing_secret
from starter.app import create_intake_app
from starter.storefront_intake import CheckoutIntake
from tests.factories import order

MB = 1024 * 1024


@pytest.fixture
async def http(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    settings = Settings(state_dir=tmp_path, _env_file=None)
    # No lifespan: nothing here may reach Temporal, every probe is refused before that.
    app = create_intake_app(settings)
    # The checkout door checks the signature, then the windows, before it needs the
    # Temporal client or the shop; a checkout that gets further is not what these send.
    app.state.checkout = CheckoutIntake(
        cast(Client, None),
        settings,
        cast(StorefrontClient, None),
        storefront_signing_secret(settings),
        default_catalog(),
        cast(AuditLog, None),
    )
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://intake") as client:
        yield client


@pytest.fixture
def secret(tmp_path: Path) -> str:
    """The storefront's signing secret of the `http` fixture's install (same state dir)."""
    return storefront_signing_secret(Settings(state_dir=tmp_path, _env_file=None))


def checkout(**overrides: Any) -> dict[str, Any]:
    now = datetime.now(UTC)
    body = order(
        placed_at=now, ship_by=now + timedelta(days=2), deliver_by=now + timedelta(days=9)
    ).model_dump(mode="json")
    body.update(overrides)
    return body


async def post_signed(http: httpx.AsyncClient, secret: str, body: dict[str, Any]) -> httpx.Response:
    """A checkout signed as the storefront signs it."""
    raw = json.dumps(body).encode()
    headers = {"Content-Type": "application/json", **sign(raw, secret, int(time.time()))}
    return await http.post("/intake/storefront/checkout", content=raw, headers=headers)


def assert_refused(response: httpx.Response, status: int, *words: str) -> None:
    assert response.status_code == status, response.text
    answer = response.json()
    assert set(answer) >= {"error", "message"}, answer
    for word in words:
        assert word in answer["message"], answer


@pytest.mark.parametrize(
    "path",
    ["/intake/storefront/checkout", "/webhooks/easypost", "/webhooks/stripe", "/api/me"],
)
async def test_an_8_mb_body_is_refused_with_413_before_it_is_read(
    http: httpx.AsyncClient, path: str
) -> None:
    response = await http.post(path, content=b"{" + b" " * (8 * MB) + b"}")
    assert_refused(response, 413, "bytes")
    assert response.json()["error"] == "too_large"


async def test_a_5_mb_field_is_refused_with_413(http: httpx.AsyncClient) -> None:
    body = checkout(payment_method="p" * (5 * MB))
    response = await http.post("/intake/storefront/checkout", json=body)
    assert_refused(response, 413)


async def test_a_body_without_length_is_cut_off_at_the_limit(http: httpx.AsyncClient) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(8):
            yield b" " * MB

    response = await http.post("/intake/storefront/checkout", content=chunks())
    assert_refused(response, 413)


async def test_malformed_json_names_the_body(http: httpx.AsyncClient) -> None:
    response = await http.post(
        "/intake/storefront/checkout",
        content=b'{"channel": "storefront",',
        headers={"content-type": "application/json"},
    )
    assert_refused(response, 422, "body")
    assert response.json()["error"] == "invalid_request"


async def test_wrong_types_name_the_field(http: httpx.AsyncClient, secret: str) -> None:
    body = checkout()
    body["items"][0]["quantity"] = "many"
    response = await post_signed(http, secret, body)
    assert_refused(response, 422, "items.0.quantity")
    [field] = response.json()["fields"]
    assert field["field"] == "body.items.0.quantity"


async def test_an_unsigned_checkout_learns_nothing_of_the_contract(
    http: httpx.AsyncClient,
) -> None:
    """The signature is checked before the body is validated: without it, a wrong field
    is not named (whoever cannot sign cannot probe what a valid checkout holds)."""
    body = checkout(channel="amazon")
    body["items"][0]["quantity"] = "many"
    response = await http.post("/intake/storefront/checkout", json=body)
    assert_refused(response, 401, "Crossdock-Storefront-Signature")
    assert "fields" not in response.json()


async def test_a_checkout_from_another_channel_names_the_channel(
    http: httpx.AsyncClient, secret: str
) -> None:
    response = await post_signed(http, secret, checkout(channel="amazon"))
    assert_refused(response, 422, "body.channel")


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"placed_at": "2099-12-31T00:00:00Z", "ship_by": "2099-12-31T00:00:00Z"}, "placed_at"),
        (
            {"placed_at": "2021-01-01T00:00:00Z", "ship_by": "2021-01-02T00:00:00Z"},
            "ship_by",
        ),
        ({"ship_to": {"name": "A", "line1": "1", "city": "Bern", "country": "CH"}}, "CH"),
    ],
)
async def test_the_checkout_door_refuses_what_only_the_door_can_judge(
    http: httpx.AsyncClient, secret: str, overrides: dict[str, Any], field: str
) -> None:
    body = checkout(**overrides)
    body["deliver_by"] = body["ship_by"] if "ship_by" in overrides else body["deliver_by"]
    response = await post_signed(http, secret, body)
    assert_refused(response, 422, field)


async def test_a_kwd_checkout_is_refused_at_the_door_naming_the_currency(
    http: httpx.AsyncClient, secret: str
) -> None:
    kwd = {"amount": 1250, "currency": "KWD"}
    body = checkout(currency="KWD", shipping=kwd)
    body["items"][0]["unit_price"] = kwd
    response = await post_signed(http, secret, body)
    assert_refused(response, 422, "'KWD'", "no FX rate")
