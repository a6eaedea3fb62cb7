"""The webhooks the sandbox sends: Stripe's dispute events against its `event` and
`dispute` models, EasyPost's tracker Events against the fields, statuses and status
details of EasyPost's own SDK types and recordings."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from typing import Any

import httpx
from fastapi import FastAPI

from crossdock.sandbox.context import SandboxConfig, SandboxContext
from crossdock.sandbox.easypost.carrier import Carrier
from crossdock.sandbox.easypost.routes import build_router
from crossdock.sandbox.stripe import routes as stripe_routes
from crossdock.sandbox.stripe.dispute_config import DisputeSandboxConfig
from tests.contracts.contracts import Contracts, contracts_dir, stripe
from tests.contracts.easypost import _unknown, recorded
from tests.sandbox.test_carrier import AUTH as EASYPOST_AUTH
from tests.sandbox.test_carrier import STEP, shipment

STRIPE_AUTH = {"Authorization": "Bearer sk_test_crossdock"}


def collecting() -> tuple[httpx.AsyncClient, list[dict[str, Any]]]:
    received: list[dict[str, Any]] = []

    def receive(request: httpx.Request) -> httpx.Response:
        received.append(json.loads(request.content))
        return httpx.Response(200)

    return httpx.AsyncClient(transport=httpx.MockTransport(receive)), received


async def test_stripe_dispute_events_fit_the_event_and_dispute_models(
    contracts: Contracts,
) -> None:
    outbound, received = collecting()
    disputes = DisputeSandboxConfig(webhook_url="http://intake/webhooks/stripe")
    ctx = SandboxContext(config=SandboxConfig(disputes=disputes), http=outbound)
    app = FastAPI()
    app.include_router(stripe_routes.build(ctx))
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://sandbox/stripe"
    ) as api:
        form = {"amount": "4999", "currency": "eur", "confirm": "true"}
        form["payment_method"] = "pm_card_visa"
        intent = (await api.post("/v1/payment_intents", data=form, headers=STRIPE_AUTH)).json()
        opened = (
            await api.post("/_sandbox/disputes", json={"payment_intent": intent["id"]})
        ).json()
        await api.post(f"/_sandbox/disputes/{opened['id']}/resolve", json={"outcome": "won"})
        await asyncio.sleep(0.1)  # deliveries run in the background

    spec = stripe()
    assert len(received) >= 3
    for event in received:
        assert contracts.check_object(spec, "#/components/schemas/event", event, "event") == []
        dispute = event["data"]["object"]
        assert contracts.check_object(spec, "#/components/schemas/dispute", dispute, "") == []


async def test_easypost_tracker_events_fit_easyposts_types() -> None:
    types = json.loads((contracts_dir() / "easypost_types.json").read_text())
    answers, _ = recorded()
    outbound, received = collecting()
    config = SandboxConfig(
        tracking_step_seconds=STEP, carrier_webhook_url="http://intake/webhooks/easypost"
    )
    carrier = Carrier(SandboxContext(config=config, http=outbound))
    app = FastAPI()
    app.include_router(build_router(carrier))
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://sandbox/easypost"
    ) as api:
        created = (await api.post("/v2/shipments", json=shipment(), headers=EASYPOST_AUTH)).json()
        rate = {"id": created["rates"][0]["id"]}
        await api.post(
            f"/v2/shipments/{created['id']}/buy", json={"rate": rate}, headers=EASYPOST_AUTH
        )
    start = max(t.last_step_at for t in carrier.trackers.values())
    for step in range(1, 5):
        carrier.advance(start + timedelta(seconds=STEP * step))
    for event in list(carrier.outbox):
        await carrier.deliver(event)

    assert len(received) >= 3
    for event in received:
        assert set(event) <= set(types["event_fields"]), set(event) - set(types["event_fields"])
        assert event["object"] == "Event" and event["status"] in types["event_status"]
        tracker = event["result"]
        assert tracker["status"] in types["tracker_status"]
        assert tracker.get("status_detail") in [*types["tracker_status_detail"], None]
        for detail in tracker.get("tracking_details", []):
            assert detail["status"] in types["tracker_status"]
        assert _unknown(tracker, answers, "result", "/result") == []
