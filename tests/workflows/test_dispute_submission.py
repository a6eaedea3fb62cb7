"""Evidence is submitted exactly once even when the provider's answer is lost and the
activity retried: the real submit activity over real HTTP to the disputes sandbox."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import httpx
import pytest
from fastapi import FastAPI
from temporalio.testing import ActivityEnvironment, WorkflowEnvironment
from temporalio.worker import Worker

from activities.disputes import DisputeActivities
from crossdock.models.approval import Decision, DecisionAction, Principal, Role
from crossdock.models.dispute import (
    DisputeEvent,
    DisputePolicy,
    DisputeProvider,
    ProviderStatus,
    ReadDisputeInput,
)
from crossdock.models.dispute_states import DisputeState
from crossdock.models.dispute_status import DisputeInput
from crossdock.partners.stripe_disputes import StripeDisputesClient, dispute_snapshot
from crossdock.sandbox.context import SandboxConfig, SandboxContext
from crossdock.sandbox.stripe import routes as stripe_routes
from crossdock.workflow_sandbox import RUNNER
from tests.workflows.dispute_harness import DisputePartners, wait_for
from tests.workflows.order_stub import OrderStub
from workflows.dispute import DisputeWorkflow

AUTH = {"Authorization": "Bearer sk_test_crossdock"}


class LosesFirstAnswer(httpx.AsyncBaseTransport):
    """Delivers every request, but the first answer to a dispute update never arrives."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.updates = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        if request.method == "POST" and "/v1/disputes/" in request.url.path:
            self.updates += 1
            if self.updates == 1:
                await response.aread()
                raise httpx.ReadTimeout("the answer was lost", request=request)
        return response


@pytest.fixture
def sandbox() -> FastAPI:
    ctx = SandboxContext(config=SandboxConfig())
    app = FastAPI()
    app.state.sandbox = ctx
    app.include_router(stripe_routes.build(ctx))
    return app


@pytest.fixture
async def stripe_api(sandbox: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=sandbox)
    async with httpx.AsyncClient(transport=transport, base_url="http://sandbox/stripe") as client:
        yield client


async def open_dispute(stripe_api: httpx.AsyncClient, order: str) -> DisputeEvent:
    form = {
        "amount": "8000",
        "currency": "eur",
        "confirm": "true",
        "payment_method": "pm_card_visa",
        "metadata[order]": order,
    }
    await stripe_api.post("/v1/payment_intents", data=form, headers=AUTH)
    body = (await stripe_api.post("/_sandbox/disputes", json={"order": order})).json()
    return DisputeEvent(
        event_id="evt_open",
        type="charge.dispute.created",
        created=datetime.now(UTC),
        dispute=dispute_snapshot(body),
    )


async def test_a_lost_answer_is_retried_and_the_provider_counts_one_submission(
    time_env: WorkflowEnvironment, task_queue: str, sandbox: FastAPI, stripe_api: httpx.AsyncClient
) -> None:
    order_id = f"order-storefront-{task_queue}"
    first = await open_dispute(stripe_api, order_id)
    losing = LosesFirstAnswer(httpx.ASGITransport(app=sandbox))
    async with httpx.AsyncClient(transport=losing) as http:
        real = DisputeActivities(
            time_env.client, StripeDisputesClient("http://sandbox/stripe", "sk_test_x", http)
        )
        partners = DisputePartners(order_id=order_id)
        gather, _, _, reserve = partners.activities()
        stand_ins_buyer = partners.buyer()
        worker = Worker(
            time_env.client,
            task_queue=task_queue,
            workflows=[DisputeWorkflow, OrderStub],
            activities=[
                gather,
                reserve,
                real.submit_dispute_evidence,
                real.close_dispute,
                *stand_ins_buyer,
            ],
            workflow_runner=RUNNER,
        )
        async with worker:
            await time_env.client.start_workflow(OrderStub.run, id=order_id, task_queue=task_queue)
            handle = await time_env.client.start_workflow(
                DisputeWorkflow.run,
                DisputeInput(
                    provider=DisputeProvider.STRIPE, first_event=first, policy=DisputePolicy()
                ),
                id=f"dispute-stripe-{first.dispute.id}",
                task_queue=task_queue,
            )
            await wait_for(handle, DisputeState.AWAITING_DECISION)
            by = Principal(id="ops-7", role=Role.OPERATOR)
            decision = Decision(key="decide-1", action=DecisionAction.APPROVE, by=by, reason="ok")
            await handle.execute_update(DisputeWorkflow.decide, decision)
            status = await wait_for(handle, DisputeState.SUBMITTED)
    assert losing.updates == 2  # the first answer was lost, the retry replayed it
    ctx: SandboxContext = sandbox.state.sandbox
    [submission] = ctx.ledger.entries(kind="dispute_submission")
    assert submission.idempotency_key == f"{handle.id}/submit-1"
    assert status.answers[0].submission_count == 1
    retrieved = await stripe_api.get(f"/v1/disputes/{first.dispute.id}", headers=AUTH)
    assert retrieved.json()["evidence_details"]["submission_count"] == 1


async def test_read_dispute_answers_what_stripe_has_now(
    time_env: WorkflowEnvironment, stripe_api: httpx.AsyncClient
) -> None:
    """The re-read of a waiting dispute (workflows/dispute_verdict.py) over real HTTP."""
    first = await open_dispute(stripe_api, "order-storefront-SFREAD1")
    api = StripeDisputesClient("http://sandbox/stripe", "sk_test_x", stripe_api)
    read = DisputeActivities(time_env.client, api).read_dispute
    request = ReadDisputeInput(dispute_id=first.dispute.id, provider=DisputeProvider.STRIPE)
    before = await ActivityEnvironment().run(read, request)
    resolved = await stripe_api.post(
        f"/_sandbox/disputes/{first.dispute.id}/resolve", json={"outcome": "lost"}
    )
    assert resolved.status_code == 200, resolved.text
    after = await ActivityEnvironment().run(read, request)
    assert (before.status, after.status) == (ProviderStatus.NEEDS_RESPONSE, ProviderStatus.LOST)
    assert after.id == first.dispute.id and after.amount == first.dispute.amount
