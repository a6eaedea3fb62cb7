"""`POST /webhooks/stripe` over HTTP into the real DisputeWorkflow (time-skipping server):
refusals, duplicates and out-of-order deliveries."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from temporalio.service import RPCError, RPCStatusCode
from temporalio.testing import WorkflowEnvironment

from crossdock.models.dispute import DisputePolicy
from crossdock.models.dispute_states import DisputeState
from crossdock.models.dispute_status import DisputeResult
from starter.stripe_signature import sign
from starter.webhooks_stripe import StripeWebhookIntake, stripe_webhook_router
from tests.workflows.dispute_harness import DisputeHandle, DisputePartners, wait_for, worker
from workflows.dispute import DisputeWorkflow

SECRET = "whsec_crossdock_test"
# A handle from get_workflow_handle does not skip time, so closed rounds end at once.
REOPEN_AT_ONCE = DisputePolicy(reopen_window_seconds=0.5)


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def stripe_event(
    event_id: str, kind: str, created: int, dispute_id: str, status: str
) -> dict[str, Any]:
    """A `charge.dispute.*` event as Stripe sends it (the parts we read, and more)."""
    return {
        "id": event_id,
        "object": "event",
        "api_version": "2024-06-20",
        "created": created,
        "livemode": False,
        "pending_webhooks": 1,
        "type": kind,
        "data": {
            "object": {
                "id": dispute_id,
                "object": "dispute",
                "amount": 4999,
                "currency": "eur",
                "charge": "ch_1",
                "payment_intent": "pi_1",
                "reason": "fraudulent",
                "status": status,
                "evidence": {},
                "evidence_details": {
                    "due_by": created + 7 * 86400,
                    "has_evidence": False,
                    "past_due": False,
                    "submission_count": 0,
                },
                "is_charge_refundable": False,
                "livemode": False,
                "metadata": {},
            }
        },
    }


@pytest.fixture
async def intake(
    time_env: WorkflowEnvironment, task_queue: str
) -> AsyncIterator[tuple[httpx.AsyncClient, Clock]]:
    now = await time_env.get_current_time()
    clock = Clock(now.timestamp())
    app = FastAPI()
    app.include_router(stripe_webhook_router())
    app.state.stripe = StripeWebhookIntake(
        time_env.client, SECRET, task_queue, REOPEN_AT_ONCE, clock=clock
    )
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://intake") as http:
        yield http, clock


async def post(
    http: httpx.AsyncClient, body: bytes, t: int, secret: str = SECRET
) -> httpx.Response:
    headers = {"Stripe-Signature": sign(body, secret, t), "Content-Type": "application/json"}
    return await http.post("/webhooks/stripe", content=body, headers=headers)


def dumps(event: dict[str, Any]) -> bytes:
    return json.dumps(event).encode()


@pytest.mark.parametrize(
    ("change", "status", "why"),
    [
        ("tampered", 400, "no v1 signature matches"),
        ("wrong_secret", 400, "no v1 signature matches"),
        ("stale", 400, "s old; tolerance 300 s"),
        ("future", 400, "in the future; tolerance 300 s"),
    ],
)
async def test_forged_and_untimely_events_are_refused_and_start_nothing(
    time_env: WorkflowEnvironment,
    intake: tuple[httpx.AsyncClient, Clock],
    task_queue: str,
    change: str,
    status: int,
    why: str,
) -> None:
    http, clock = intake
    t = int(clock.now)
    dispute_id = f"dp_{change}_{task_queue}"
    body = dumps(
        stripe_event(f"evt_{change}", "charge.dispute.created", t, dispute_id, "needs_response")
    )
    headers = {"Stripe-Signature": sign(body, SECRET, t)}
    if change == "tampered":
        body = body.replace(b'"amount": 4999', b'"amount": 1')
    elif change == "wrong_secret":
        headers = {"Stripe-Signature": sign(body, "whsec_someone_else", t)}
    else:
        clock.now += 301 if change == "stale" else -301
    response = await http.post("/webhooks/stripe", content=body, headers=headers)
    assert response.status_code == status and why in response.json()["message"]
    with pytest.raises(RPCError) as missing:
        await time_env.client.get_workflow_handle(f"dispute-stripe-{dispute_id}").describe()
    assert missing.value.status is RPCStatusCode.NOT_FOUND


async def test_duplicates_replays_and_out_of_order_events_change_nothing(
    time_env: WorkflowEnvironment, intake: tuple[httpx.AsyncClient, Clock], task_queue: str
) -> None:
    http, clock = intake
    t = int(clock.now)
    dispute_id = f"dp_{task_queue}"
    created = dumps(
        stripe_event("evt_1", "charge.dispute.created", t, dispute_id, "needs_response")
    )
    late = dumps(
        stripe_event("evt_2", "charge.dispute.updated", t + 1, dispute_id, "needs_response")
    )
    closed = dumps(
        stripe_event("evt_3", "charge.dispute.closed", t + 2, dispute_id, "warning_closed")
    )
    partners = DisputePartners(order_id=f"order-storefront-{task_queue}")
    async with worker(time_env, task_queue, partners):
        first = await post(http, created, t)
        assert first.json() == {
            "status": "delivered",
            "workflow_id": f"dispute-stripe-{dispute_id}",
        }
        handle: DisputeHandle = time_env.client.get_workflow_handle(
            first.json()["workflow_id"], result_type=DisputeResult
        )
        await wait_for(handle, DisputeState.AWAITING_DECISION)
        # Stripe redelivers evt_1 (signed afresh): acknowledged, nothing signalled.
        again = await post(http, created, t + 5)
        assert again.json()["status"] == "duplicate"
        # The exact same signed request a second time is a replay.
        replay = await http.post(
            "/webhooks/stripe",
            content=created,
            headers={"Stripe-Signature": sign(created, SECRET, t + 5)},
        )
        assert replay.status_code == 409
        # evt_3 (closed) overtakes evt_2: the older event must not reopen the question.
        assert (await post(http, closed, t + 6)).json()["status"] == "delivered"
        assert (await post(http, late, t + 7)).json()["status"] == "delivered"
        result = await handle.result()
        status = await handle.query(DisputeWorkflow.status)
    assert result.state == DisputeState.INQUIRY_CLOSED
    assert status.events_seen == ["evt_1", "evt_3", "evt_2"]
    assert [e.event for e in status.timeline].count("provider_event_stale") == 1
    # After the workflow closed, a late event is acknowledged without starting it again.
    other = dumps(stripe_event("evt_4", "charge.dispute.updated", t + 8, dispute_id, "won"))
    assert (await post(http, other, t + 8)).json()["status"] == "closed"


async def test_other_event_types_are_acknowledged_and_ignored(
    intake: tuple[httpx.AsyncClient, Clock],
) -> None:
    http, clock = intake
    body = dumps(
        {"id": "evt_pi", "object": "event", "type": "payment_intent.succeeded", "created": 1}
    )
    response = await post(http, body, int(clock.now))
    assert response.json() == {"status": "ignored", "type": "payment_intent.succeeded"}
