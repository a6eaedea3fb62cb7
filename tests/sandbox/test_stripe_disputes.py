"""The Stripe disputes sandbox: real shapes, statuses, evidence, one submission per key,
signed webhooks at least once (and our client and the official SDK speak to it)."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import stripe
from fastapi import FastAPI

from crossdock.partners.errors import PartnerRejected
from crossdock.partners.stripe_disputes import StripeDisputesClient
from crossdock.sandbox.context import SandboxConfig, SandboxContext
from crossdock.sandbox.stripe import routes as stripe_routes
from crossdock.sandbox.stripe.dispute_config import DisputeSandboxConfig
from starter.stripe_signature import verify

AUTH = {"Authorization": "Bearer sk_test_crossdock"}
SECRET = "whsec_sandbox_test"


class Intake:
    """Receives the sandbox's webhooks, failing the first `fail_first` deliveries."""

    def __init__(self, fail_first: int = 0) -> None:
        self.fail_first = fail_first
        self.received: list[dict[str, Any]] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        verify(request.content, request.headers.get("Stripe-Signature"), SECRET, now=_now())
        if self.fail_first:
            self.fail_first -= 1
            return httpx.Response(503)
        self.received.append(json.loads(request.content))
        return httpx.Response(200)


def _now() -> float:
    return time.time()


def make_app(intake: Intake, **config: Any) -> FastAPI:
    disputes = DisputeSandboxConfig(
        webhook_url="http://intake/webhooks/stripe", webhook_secret=SECRET, **config
    )
    ctx = SandboxContext(
        config=SandboxConfig(disputes=disputes),
        http=httpx.AsyncClient(transport=httpx.MockTransport(intake)),
    )
    app = FastAPI()
    app.state.sandbox = ctx
    app.include_router(stripe_routes.build(ctx))
    return app


@pytest.fixture
def intake() -> Intake:
    return Intake()


@pytest.fixture
def app(intake: Intake) -> FastAPI:
    return make_app(intake)


@pytest.fixture
async def stripe_api(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://sandbox/stripe") as client:
        yield client


async def captured_charge(client: httpx.AsyncClient, order: str = "order-storefront-SF9") -> str:
    form = {
        "amount": "4999",
        "currency": "eur",
        "confirm": "true",
        "payment_method": "pm_card_visa",
        "metadata[order]": order,
    }
    response = await client.post("/v1/payment_intents", data=form, headers=AUTH)
    assert response.json()["status"] == "succeeded"
    return str(response.json()["id"])


async def open_dispute(client: httpx.AsyncClient, **body: Any) -> dict[str, Any]:
    response = await client.post("/_sandbox/disputes", json=body)
    assert response.status_code == 200, response.text
    return dict(response.json())


async def settle() -> None:
    await asyncio.sleep(0.05)  # webhook deliveries run in the background


async def test_a_dispute_on_a_captured_charge_has_stripes_shape(
    stripe_api: httpx.AsyncClient, intake: Intake
) -> None:
    intent = await captured_charge(stripe_api)
    dispute = await open_dispute(stripe_api, order="order-storefront-SF9", reason="fraudulent")
    assert (dispute["object"], dispute["status"], dispute["reason"]) == (
        "dispute",
        "needs_response",
        "fraudulent",
    )
    assert dispute["payment_intent"] == intent and dispute["amount"] == 4999
    assert dispute["evidence_details"]["submission_count"] == 0
    assert dispute["evidence_details"]["due_by"] > dispute["created"]
    assert set(dispute["evidence"]) >= {"shipping_tracking_number", "receipt", "refund_policy"}
    await settle()
    kinds = [event["type"] for event in intake.received]
    assert kinds == ["charge.dispute.created", "charge.dispute.funds_withdrawn"]


async def test_disputes_need_a_captured_charge(stripe_api: httpx.AsyncClient) -> None:
    form = {"amount": "500", "currency": "eur", "capture_method": "manual", "confirm": "true"}
    form["payment_method"] = "pm_card_visa"
    intent = (await stripe_api.post("/v1/payment_intents", data=form, headers=AUTH)).json()["id"]
    response = await stripe_api.post("/_sandbox/disputes", json={"payment_intent": intent})
    assert (
        response.status_code == 400 and "no captured charge" in response.json()["error"]["message"]
    )


async def test_evidence_submitted_once_per_key_and_then_refused(
    stripe_api: httpx.AsyncClient, app: FastAPI
) -> None:
    await captured_charge(stripe_api, "order-storefront-SF10")
    dispute = await open_dispute(stripe_api, order="order-storefront-SF10")
    form = {"evidence[shipping_tracking_number]": "EZ1", "submit": "true"}
    headers = {**AUTH, "Idempotency-Key": "dispute-stripe-x/submit-1"}
    path = f"/v1/disputes/{dispute['id']}"
    first = await stripe_api.post(path, data=form, headers=headers)
    again = await stripe_api.post(path, data=form, headers=headers)
    assert first.json() == again.json() and again.headers["Idempotent-Replayed"] == "true"
    assert first.json()["status"] == "under_review"
    assert first.json()["evidence_details"]["submission_count"] == 1
    other_key = await stripe_api.post(path, data=form, headers={**AUTH, "Idempotency-Key": "k2"})
    assert other_key.status_code == 400 and "under_review" in other_key.json()["error"]["message"]
    ctx: SandboxContext = app.state.sandbox
    [submission] = ctx.ledger.entries(kind="dispute_submission")
    assert submission.idempotency_key == "dispute-stripe-x/submit-1"
    assert submission.details["submission_count"] == 1


async def test_unknown_evidence_fields_are_refused_by_name(stripe_api: httpx.AsyncClient) -> None:
    await captured_charge(stripe_api, "order-storefront-SF11")
    dispute = await open_dispute(stripe_api, order="order-storefront-SF11")
    response = await stripe_api.post(
        f"/v1/disputes/{dispute['id']}", data={"evidence[tracking]": "EZ1"}, headers=AUTH
    )
    assert response.status_code == 400
    assert response.json()["error"]["param"] == "evidence[tracking]"


async def test_inquiry_escalates_then_wins_and_events_are_signed(
    stripe_api: httpx.AsyncClient, intake: Intake
) -> None:
    await captured_charge(stripe_api, "order-storefront-SF12")
    dispute = await open_dispute(stripe_api, order="order-storefront-SF12", inquiry=True)
    assert dispute["status"] == "warning_needs_response"
    path = f"/v1/disputes/{dispute['id']}"
    answered = await stripe_api.post(
        path, data={"evidence[uncategorized_text]": "r", "submit": "true"}, headers=AUTH
    )
    assert answered.json()["status"] == "warning_under_review"
    resolve = f"/_sandbox/disputes/{dispute['id']}/resolve"
    escalated = await stripe_api.post(resolve, json={"outcome": "escalate"})
    assert escalated.json()["status"] == "needs_response"
    await stripe_api.post(path, data={"submit": "true"}, headers=AUTH)
    won = await stripe_api.post(resolve, json={"outcome": "won"})
    assert won.json()["status"] == "won" and won.json()["evidence_details"]["submission_count"] == 2
    await settle()
    statuses = [e["data"]["object"]["status"] for e in intake.received]
    assert statuses[-2:] == ["won", "won"]  # closed, then funds_reinstated
    created = [e["created"] for e in intake.received]
    assert created == sorted(created) and len(set(created)) == len(created)


async def test_closing_accepts_the_dispute(stripe_api: httpx.AsyncClient) -> None:
    await captured_charge(stripe_api, "order-storefront-SF13")
    dispute = await open_dispute(stripe_api, order="order-storefront-SF13")
    closed = await stripe_api.post(f"/v1/disputes/{dispute['id']}/close", headers=AUTH)
    assert closed.json()["status"] == "lost"
    retrieved = await stripe_api.get(f"/v1/disputes/{dispute['id']}", headers=AUTH)
    assert retrieved.json()["status"] == "lost"


async def test_webhooks_are_retried_until_delivered() -> None:
    intake = Intake(fail_first=1)
    transport = httpx.ASGITransport(app=make_app(intake))
    async with httpx.AsyncClient(transport=transport, base_url="http://sandbox/stripe") as client:
        await captured_charge(client, "order-storefront-SF14")
        await open_dispute(client, order="order-storefront-SF14", inquiry=True)
        for _ in range(60):
            if intake.received:
                break
            await asyncio.sleep(0.1)
    assert [e["type"] for e in intake.received] == ["charge.dispute.created"]


async def test_fault_profile_duplicates_and_reorders_deliveries() -> None:
    intake = Intake()
    app = make_app(intake, duplicate_rate=1.0, reorder_rate=0.5)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://sandbox/stripe") as client:
        await captured_charge(client, "order-storefront-SF15")
        for _ in range(4):
            await open_dispute(client, order="order-storefront-SF15", inquiry=True)
        await asyncio.sleep(1.8)
    ids = [e["id"] for e in intake.received]
    assert len(ids) == 8 and len(set(ids)) == 4  # every event twice
    # Duplicates are held back: later events overtake them (out of order at intake).
    assert len(set(ids[:2])) == 2


async def test_our_client_submits_and_reads_disputes(stripe_api: httpx.AsyncClient) -> None:
    await captured_charge(stripe_api, "order-storefront-SF16")
    dispute = await open_dispute(stripe_api, order="order-storefront-SF16")
    client = StripeDisputesClient("http://sandbox/stripe", "sk_test_crossdock", http=stripe_api)
    assert await client.order_of_payment(dispute["payment_intent"]) == "order-storefront-SF16"
    submitted = await client.submit_evidence(dispute["id"], {"receipt": "r"}, "key-1")
    assert (submitted.status, submitted.submission_count) == ("under_review", 1)
    with pytest.raises(PartnerRejected, match="under_review"):
        await client.close_dispute(dispute["id"], "key-2")


def test_the_official_sdk_reads_and_updates_disputes(live_sandbox: str) -> None:
    client = stripe.StripeClient(
        "sk_test_official_sdk",
        base_addresses={"api": f"{live_sandbox}/stripe"},
        max_network_retries=0,
    )
    intent = client.v1.payment_intents.create(
        {"amount": 2500, "currency": "eur", "confirm": True, "payment_method": "pm_card_visa"}
    )
    opened = httpx.post(
        f"{live_sandbox}/stripe/_sandbox/disputes", json={"payment_intent": intent.id}
    )
    dispute = client.v1.disputes.retrieve(opened.json()["id"])
    assert isinstance(dispute, stripe.Dispute) and dispute.status == "needs_response"
    updated = client.v1.disputes.update(
        dispute.id, {"evidence": {"shipping_carrier": "DHL"}, "submit": True}
    )
    assert updated.status == "under_review" and updated.evidence.shipping_carrier == "DHL"
    assert updated.evidence_details.submission_count == 1
