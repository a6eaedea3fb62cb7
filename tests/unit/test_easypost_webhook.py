"""`POST /webhooks/easypost`: EasyPost's HMAC signature (checked against the official
SDK both ways), malformed bodies, replays, duplicates, rate limits, and the tracker
re-read that keeps a body's word from moving money."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, cast

import httpx
import pytest
from easypost.errors.general.signature_verification_error import SignatureVerificationError
from easypost.util import validate_webhook
from fastapi import FastAPI
from temporalio.client import Client

from crossdock.partners.carrier import CarrierClient
from crossdock.sandbox.context import SandboxConfig, SandboxContext
from crossdock.sandbox.easypost.carrier import Carrier
from crossdock.sandbox.easypost.routes import build_router
from crossdock.sandbox.easypost.shapes import sign
from starter.rate_limit import RateLimiter
from starter.tracking import TrackingRouter
from starter.webhooks_easypost import (
    EasyPostWebhookIntake,
    SignatureRefused,
    easypost_webhook_router,
    signature,
    verify,
)
from tests.unit.test_carrier_client import label_request

SECRET = "whsec-easypost-test-secret"
# Composed and decomposed forms of the same secret: EasyPost normalizes to NFKD first.
COMPOSED, DECOMPOSED = "clé-secrète-du-webhook", "cle\u0301-secre\u0300te-du-webhook"
NOW = datetime(2026, 11, 2, 10, 0, tzinfo=UTC)


def event(event_id: str = "evt_1", created: datetime = NOW, **tracker: Any) -> dict[str, Any]:
    result = {
        "object": "Tracker",
        "id": "trk_1",
        "tracking_code": "EZ1",
        "status": "in_transit",
        "shipment_id": "shp_1",
        "tracking_details": [
            {"status": "in_transit", "message": "Arrived", "datetime": "2026-11-02T09:00:00Z"}
        ],
        **tracker,
    }
    return {
        "object": "Event",
        "id": event_id,
        "description": "tracker.updated",
        "created_at": created.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "result": result,
    }


def test_what_the_sandbox_signs_passes_the_sdks_validate_webhook() -> None:
    body = json.dumps(event()).encode()
    for secret in (SECRET, COMPOSED):
        assert validate_webhook(body, sign(body, secret), secret)["id"] == "evt_1"
    # Normalized as the SDK does: the decomposed spelling of the secret signs the same.
    assert validate_webhook(body, sign(body, DECOMPOSED), COMPOSED)["id"] == "evt_1"
    with pytest.raises(SignatureVerificationError):
        validate_webhook(body.replace(b"in_transit", b"delivered"), sign(body, SECRET), SECRET)


def test_what_the_sdks_algorithm_signs_passes_our_check() -> None:
    """The SDK's own expected value for a body is the header we accept, and nothing else."""
    body = json.dumps(event()).encode()
    for secret in (SECRET, COMPOSED):
        header = sign(body, secret)["X-Hmac-Signature"]
        validate_webhook(body, {"X-Hmac-Signature": header}, secret)  # the SDK agrees
        verify(body, header, secret)
        assert header == signature(body, secret)
    verify(body, signature(body, DECOMPOSED), COMPOSED)


@pytest.mark.parametrize(
    ("header", "why"),
    [
        (None, "header is missing"),
        ("sha256=abc", "is not 'hmac-sha256-hex=<hex>'"),
        ("hmac-sha256-hex=" + "0" * 64, "does not match the body"),
    ],
)
def test_unsigned_and_forged_headers_are_refused(header: str | None, why: str) -> None:
    with pytest.raises(SignatureRefused, match=why):
        verify(json.dumps(event()).encode(), header, SECRET)


class Recorder:
    """Stands in for the TrackingRouter: what would have been signalled."""

    def __init__(self) -> None:
        self.delivered: list[Mapping[str, Any]] = []

    async def deliver(self, body: Mapping[str, Any]) -> str:
        from starter.tracking import parse

        parse(body)  # malformed bodies raise as the router does
        self.delivered.append(body)
        return "order-storefront-1"


@pytest.fixture
async def webhook() -> AsyncIterator[tuple[httpx.AsyncClient, Recorder]]:
    recorder = Recorder()
    app = FastAPI()
    app.include_router(easypost_webhook_router())
    router = cast(TrackingRouter, recorder)
    app.state.easypost = EasyPostWebhookIntake(router, SECRET, clock=NOW.timestamp)
    app.state.rate_limiter = RateLimiter(rate=1.0, burst=20, clock=lambda: 0.0)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://intake") as http:
        yield http, recorder


async def post(http: httpx.AsyncClient, body: bytes, secret: str = SECRET) -> httpx.Response:
    return await http.post("/webhooks/easypost", content=body, headers=sign(body, secret))


async def test_forged_and_unsigned_events_signal_nothing(
    webhook: tuple[httpx.AsyncClient, Recorder],
) -> None:
    """Probe: an unauthenticated `return_to_sender` event triggered the automatic refund."""
    http, recorder = webhook
    body = json.dumps(event(status="return_to_sender")).encode()
    unsigned = await http.post("/webhooks/easypost", content=body)
    forged = await post(http, body, secret="whsec-guessed")
    assert (unsigned.status_code, forged.status_code) == (401, 401)
    assert "X-Hmac-Signature" in unsigned.json()["message"]
    assert recorder.delivered == []


@pytest.mark.parametrize(
    ("body", "names"),
    [
        (b"not json", "not JSON"),
        (b"[1, 2]", "JSON list"),
        (json.dumps({"object": "Event"}).encode(), "id"),
        (json.dumps({**event(), "created_at": 12}).encode(), "created_at"),
        (json.dumps(event(tracking_details="lots")).encode(), "result.tracking_details"),
        (json.dumps(event(tracking_code=None)).encode(), "result.tracking_code"),
        (json.dumps(event(tracking_details=[{"datetime": "yesterday"}])).encode(), "datetime"),
        (json.dumps({**event(), "description": ["tracker.updated"]}).encode(), "description"),
        (json.dumps({**event(), "result": "trk_1"}).encode(), "result"),
    ],
    ids=[
        "not_json",
        "list",
        "no_id",
        "created_at",
        "details",
        "code",
        "scan_time",
        "description_list",
        "result_text",
    ],
)
async def test_malformed_events_are_refused_naming_the_field(
    webhook: tuple[httpx.AsyncClient, Recorder], body: bytes, names: str
) -> None:
    """Probe: malformed tracker events answered 500."""
    http, recorder = webhook
    response = await post(http, body)
    assert response.status_code == 400, response.text
    assert names in response.json()["message"]
    assert recorder.delivered == []


async def test_replays_outside_the_window_and_duplicates_signal_nothing(
    webhook: tuple[httpx.AsyncClient, Recorder],
) -> None:
    http, recorder = webhook
    old = await post(http, json.dumps(event("evt_old", NOW - timedelta(days=5))).encode())
    future = await post(http, json.dumps(event("evt_new", NOW + timedelta(hours=1))).encode())
    assert (old.status_code, future.status_code) == (400, 400)
    body = json.dumps(event("evt_2")).encode()
    first, again = await post(http, body), await post(http, body)
    assert first.json()["status"] == "delivered"
    assert again.json() == {"status": "duplicate", "event_id": "evt_2"}
    assert [e["id"] for e in recorder.delivered] == ["evt_2"]


async def test_a_flood_from_one_source_is_rate_limited(
    webhook: tuple[httpx.AsyncClient, Recorder],
) -> None:
    """Probe: 200 events grew one workflow's history without bound."""
    http, recorder = webhook
    codes = [
        (await post(http, json.dumps(event(f"evt_{i}")).encode())).status_code for i in range(30)
    ]
    assert codes[:20] == [200] * 20 and set(codes[20:]) == {429}
    assert len(recorder.delivered) == 20
    limited = await post(http, json.dumps(event("evt_more")).encode())
    assert limited.headers["Retry-After"] == "1"


class Signals:
    """Stands in for the Temporal client: the signals the router sends."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, Any]] = []

    def get_workflow_handle(self, workflow_id: str, **_: Any) -> Signals:
        self._target = workflow_id
        return self

    async def signal(self, _signal: Any, update: Any) -> None:
        self.sent.append((self._target, update))


async def test_a_status_that_moves_money_is_the_carriers_not_the_bodys() -> None:
    """A signed event saying return_to_sender about a parcel the carrier has in transit
    signals in_transit: the refund path never hears of a return."""
    ctx = SandboxContext(config=SandboxConfig(tracking_step_seconds=60))
    simulator = Carrier(ctx)
    app = FastAPI()
    app.include_router(build_router(simulator))
    signals = Signals()
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app)) as http:
        carrier = CarrierClient("http://sandbox/easypost", "EZTK", http=http)
        await carrier.buy_label(label_request(), "order-storefront-SF1:label")
        [moved] = simulator.advance(datetime.now(UTC) + timedelta(minutes=1))
        claimed = json.loads(json.dumps(moved))
        claimed["id"] = "evt_claimed"
        claimed["result"]["status"] = "return_to_sender"
        claimed["result"]["tracking_details"][-1]["status"] = "return_to_sender"
        router = TrackingRouter(cast(Client, signals), carrier)
        await router.deliver(claimed)
        await router.deliver(moved)
        # A tracker that is not the parcel the event names is refused.
        other = json.loads(json.dumps(claimed)) | {"id": "evt_other"}
        other["result"]["tracking_code"] = "EZ-SOMEONE-ELSES"
        with pytest.raises(ValueError, match="not EZ-SOMEONE-ELSES"):
            await router.deliver(other)
    assert [(w, u.event_id, u.status) for w, u in signals.sent] == [
        ("order-storefront-SF1", "evt_claimed", "in_transit"),
        ("order-storefront-SF1", moved["id"], "in_transit"),
    ]
