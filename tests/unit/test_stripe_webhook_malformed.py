"""Signed Stripe events with absurd fields are refused with a 4xx naming them, never 500."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from typing import Any, cast

import httpx
import pytest
from fastapi import FastAPI
from temporalio.client import Client

from crossdock.models.dispute import DisputePolicy
from starter.stripe_signature import sign
from starter.webhooks_stripe import StripeWebhookIntake, stripe_webhook_router

SECRET = "whsec_test_malformed"


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    app = FastAPI()
    app.include_router(stripe_webhook_router())
    # No workflow is reached: every request here is refused before delivery.
    app.state.stripe = StripeWebhookIntake(cast(Client, None), SECRET, "q", DisputePolicy())
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://intake") as client:
        yield client


def _event(created: Any) -> bytes:
    body = {
        "id": "evt_huge",
        "object": "event",
        "type": "charge.dispute.created",
        "created": created,
        "data": {"object": {"id": "dp_1", "object": "dispute"}},
    }
    return json.dumps(body).encode()


@pytest.mark.parametrize("created", [10**20, -(10**20), 10**400], ids=["1e20", "-1e20", "1e400"])
async def test_a_signed_event_with_a_huge_created_is_refused(
    http: httpx.AsyncClient, created: int
) -> None:
    body = _event(created)
    headers = {"Stripe-Signature": sign(body, SECRET, int(time.time()))}
    response = await http.post("/webhooks/stripe", content=body, headers=headers)
    assert response.status_code == 400, response.text
    assert "created" in response.json()["message"]


async def test_a_huge_signature_timestamp_is_refused(http: httpx.AsyncClient) -> None:
    body = _event(int(time.time()))
    for t in (10**30, 10**400):
        headers = {"Stripe-Signature": sign(body, SECRET, t)}
        response = await http.post("/webhooks/stripe", content=body, headers=headers)
        assert response.status_code == 400, response.text
        assert "t=" in response.json()["message"]


def _dispute_event(**changes: Any) -> dict[str, Any]:
    dispute: dict[str, Any] = {
        "id": "dp_1",
        "object": "dispute",
        "amount": 1250,
        "currency": "eur",
        "reason": "fraudulent",
        "status": "needs_response",
        "evidence_details": {"due_by": int(time.time()) + 86400, "submission_count": 0},
    }
    event: dict[str, Any] = {
        "id": "evt_malformed",
        "object": "event",
        "type": "charge.dispute.created",
        "created": int(time.time()),
        "data": {"object": dispute},
    }
    for path, value in changes.items():
        *parents, leaf = path.split("__")
        target = event
        for part in parents:
            target = target[part]
        target[leaf] = value
    return event


@pytest.mark.parametrize(
    ("changes", "names"),
    [
        ({"id": 12}, "id"),
        ({"id": "e" * 300}, "id"),
        ({"type": ["charge.dispute.created"]}, "type"),
        ({"data": ["dp_1"]}, "data"),
        ({"data__object": "dp_1"}, "object"),
        ({"data__object__evidence_details": "soon"}, "evidence_details"),
        ({"data__object__evidence_details__due_by": 10**20}, "due_by"),
        ({"data__object__evidence_details__due_by": "tomorrow"}, "due_by"),
        ({"data__object__id": "dp_" + "1" * 300}, "id"),
    ],
    ids=[
        "id_number",
        "id_huge",
        "type_list",
        "data_list",
        "object_text",
        "evidence_text",
        "due_by_huge",
        "due_by_text",
        "dispute_id_huge",
    ],
)
async def test_a_signed_event_of_the_wrong_shape_is_refused_naming_the_field(
    http: httpx.AsyncClient, changes: dict[str, Any], names: str
) -> None:
    """Probe (schemathesis): these answered 500 (AttributeError, OverflowError)."""
    body = json.dumps(_dispute_event(**changes)).encode()
    headers = {"Stripe-Signature": sign(body, SECRET, int(time.time()))}
    response = await http.post("/webhooks/stripe", content=body, headers=headers)
    assert response.status_code == 400, response.text
    answer = response.json()
    assert answer["error"] == "event_malformed" and names in answer["message"], answer
