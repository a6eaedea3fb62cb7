"""Stripe's idempotency in full: a stored 500 replays, other parameters are refused with
400, a key whose first request still runs is refused with 409 `idempotency_key_in_use`
(which our client and the official SDK both retry), and faults in front of the handler
leave the key unused."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from fastapi.responses import JSONResponse
from stripe._http_client import HTTPClient

from crossdock.partners.errors import PartnerUnavailable
from crossdock.partners.http import classify
from crossdock.partners.payments import read_stripe_error
from crossdock.sandbox.app import create_app
from crossdock.sandbox.context import SandboxConfig
from crossdock.sandbox.core.idempotency import IdempotencyStore
from crossdock.sandbox.faults import FaultProfile
from crossdock.sandbox.stripe.payments import Payments
from crossdock.sandbox.stripe.shapes import key_in_use

AUTH = {"Authorization": "Bearer sk_test_idempotency"}
AUTHORIZE = {
    "amount": "4200",
    "currency": "eur",
    "capture_method": "manual",
    "confirm": "true",
    "payment_method": "pm_card_visa",
}


@pytest.fixture
def app() -> FastAPI:
    return create_app(SandboxConfig())


@pytest.fixture
async def stripe(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://sandbox/stripe") as http:
        yield http


async def authorized(stripe: httpx.AsyncClient) -> str:
    response = await stripe.post("/v1/payment_intents", data=AUTHORIZE, headers=AUTH)
    assert response.status_code == 200, response.text
    return str(response.json()["id"])


async def test_a_500_the_handler_produced_is_stored_and_replayed(
    stripe: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    intent = await authorized(stripe)
    keyed = {**AUTH, "Idempotency-Key": "order-I1/capture"}

    def broken(self: Payments, intent_id: str, params: object, key: str | None) -> object:
        raise RuntimeError("the capture broke half-way")

    monkeypatch.setattr(Payments, "capture_intent", broken)
    first = await stripe.post(f"/v1/payment_intents/{intent}/capture", headers=keyed)
    monkeypatch.undo()
    again = await stripe.post(f"/v1/payment_intents/{intent}/capture", headers=keyed)
    fresh = await stripe.post(
        f"/v1/payment_intents/{intent}/capture",
        headers={**AUTH, "Idempotency-Key": "order-I1/capture-2"},
    )

    assert first.status_code == 500
    assert first.json()["error"]["type"] == "api_error"
    assert (again.status_code, again.json()) == (500, first.json())
    assert again.headers["Idempotent-Replayed"] == "true"
    assert fresh.json()["status"] == "succeeded", "a new key executes"


async def test_the_same_key_with_other_parameters_is_refused(stripe: httpx.AsyncClient) -> None:
    keyed = {**AUTH, "Idempotency-Key": "order-I2/authorize"}
    await stripe.post("/v1/payment_intents", data=AUTHORIZE, headers=keyed)
    other = await stripe.post(
        "/v1/payment_intents", data={**AUTHORIZE, "amount": "4300"}, headers=keyed
    )
    assert other.status_code == 400
    assert other.json()["error"]["type"] == "idempotency_error"


async def test_a_key_still_running_is_refused_with_409_and_runs_once() -> None:
    store = IdempotencyStore()
    started, finish = asyncio.Event(), asyncio.Event()
    runs = 0

    async def slow() -> JSONResponse:
        nonlocal runs
        runs += 1
        started.set()
        await finish.wait()
        return JSONResponse({"id": "pi_1"})

    def conflict(key: str) -> JSONResponse:
        return JSONResponse({}, status_code=400)

    first = asyncio.create_task(store.run("stripe", "k1", "fp", slow, conflict, key_in_use))
    await started.wait()
    racing = await store.run("stripe", "k1", "fp", slow, conflict, key_in_use)
    finish.set()
    done = await first
    after = await store.run("stripe", "k1", "fp", slow, conflict, key_in_use)

    error = bytes(racing.body).decode()
    assert racing.status_code == 409
    assert '"type":"idempotency_error"' in error and '"code":"idempotency_key_in_use"' in error
    assert (done.status_code, after.status_code, runs) == (200, 200, 1)
    assert after.headers["Idempotent-Replayed"] == "true"


def test_our_client_and_the_official_sdk_retry_a_key_in_use() -> None:
    body = bytes(key_in_use("order-I3/capture").body)
    response = httpx.Response(409, content=body, headers={"content-type": "application/json"})

    error = classify("stripe", response, read_stripe_error)
    sdk_retries = HTTPClient._should_retry(HTTPClient(), (body, 409, {}), None, 0, 2)

    assert isinstance(error, PartnerUnavailable) and error.code == "idempotency_key_in_use"
    assert sdk_retries


async def test_a_fault_in_front_of_the_handler_leaves_the_key_unused(tmp_path: Path) -> None:
    database = tmp_path / "sandbox.db"
    keyed = {**AUTH, "Idempotency-Key": "order-I4/authorize"}
    outage = create_app(
        SandboxConfig(database=database, faults=FaultProfile.everywhere(error_rate=1.0))
    )
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=outage)) as http:
        failed = await http.post(
            "http://s/stripe/v1/payment_intents", data=AUTHORIZE, headers=keyed
        )
    outage.state.sandbox.store.close()
    healthy = create_app(SandboxConfig(database=database))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=healthy)) as http:
        retried = await http.post(
            "http://s/stripe/v1/payment_intents", data=AUTHORIZE, headers=keyed
        )

    assert failed.status_code == 503
    assert retried.status_code == 200 and "Idempotent-Replayed" not in retried.headers
