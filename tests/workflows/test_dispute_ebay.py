"""An eBay payment dispute end to end on the time-skipping server: the poller finds it in
the eBay sandbox, the dispute workflow asks, contests once through the real activity and
learns it won from the next poll."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from activities.dispute_intake import DisputeIntakeActivities
from activities.disputes import DisputeActivities
from crossdock.models.approval import Decision, DecisionAction, Principal, Role
from crossdock.models.dispute import DisputePolicy, DisputePollInput
from crossdock.models.dispute_states import DisputeState
from crossdock.models.dispute_status import DisputeResult
from crossdock.models.order import Channel
from crossdock.partners.ebay_payment_disputes import EbayPaymentDisputesClient
from crossdock.partners.stripe_disputes import StripeDisputesClient
from crossdock.sandbox.app import create_app
from crossdock.sandbox.context import SandboxContext
from crossdock.workflow_sandbox import RUNNER
from starter.dispute_start import DisputeDelivery
from tests.conftest import skip_time
from tests.factories import WAREHOUSE, order
from tests.workflows.dispute_harness import DisputeHandle, DisputePartners, wait_for
from tests.workflows.order_stub import OrderStub
from workflows.dispute import DisputeWorkflow
from workflows.dispute_intake import DisputePollWorkflow

POLL_SECONDS = 60


async def started(handle: DisputeHandle) -> None:
    """Wait (in real time: the poll runs at once) for the poller to start the dispute."""
    for _ in range(100):
        try:
            await handle.describe()
            return
        except RPCError:
            await asyncio.sleep(0.05)
    raise AssertionError(f"{handle.id} was never started by the poller")


@pytest.fixture
def sandbox() -> FastAPI:
    return create_app()


@pytest.fixture
async def http(sandbox: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=sandbox)
    async with httpx.AsyncClient(transport=transport, base_url="http://sandbox") as client:
        yield client


async def test_an_ebay_payment_dispute_is_polled_contested_once_and_won(
    time_env: WorkflowEnvironment, task_queue: str, sandbox: FastAPI, http: httpx.AsyncClient
) -> None:
    order_id = f"31-{task_queue[-5:]}-40404"
    placed = order(channel=Channel.EBAY, channel_order_id=order_id)
    (
        await http.post("/ebay/_sandbox/orders", json=placed.model_dump(mode="json"))
    ).raise_for_status()
    opened = await http.post(
        "/ebay/_sandbox/payment_disputes",
        json={"order_id": order_id, "reason": "ITEM_NOT_RECEIVED"},
    )
    dispute_id = opened.json()["paymentDisputeId"]

    ebay = EbayPaymentDisputesClient("http://sandbox/ebay", "v^1.1#test", WAREHOUSE, http=http)
    stripe = StripeDisputesClient("http://sandbox/stripe", "sk_test_x", http=http)
    policy = DisputePolicy(reopen_window_seconds=30)
    intake = DisputeIntakeActivities(DisputeDelivery(time_env.client, task_queue, policy), ebay)
    real = DisputeActivities(time_env.client, stripe, ebay)
    stand_ins = DisputePartners(order_id=placed.workflow_id)
    gather, _, _, reserve = stand_ins.activities()
    worker = Worker(
        time_env.client,
        task_queue=task_queue,
        workflows=[DisputeWorkflow, DisputePollWorkflow, OrderStub],
        activities=[
            intake.poll_ebay_payment_disputes,
            intake.poll_marketplace_claims,  # no claim clients here: finds nothing
            real.submit_dispute_evidence,
            real.close_dispute,
            gather,
            reserve,
            *stand_ins.buyer(),
        ],
        workflow_runner=RUNNER,
    )
    async with worker:
        await time_env.client.start_workflow(
            OrderStub.run, id=placed.workflow_id, task_queue=task_queue
        )
        poller = await time_env.client.start_workflow(
            DisputePollWorkflow.run,
            DisputePollInput(interval_seconds=POLL_SECONDS),
            id=f"poll-{task_queue}",
            task_queue=task_queue,
        )
        handle: DisputeHandle = time_env.client.get_workflow_handle(
            f"dispute-ebay-{dispute_id}", result_type=DisputeResult
        )
        await started(handle)
        staged = await wait_for(handle, DisputeState.AWAITING_DECISION)
        assert staged.order_workflow_id == placed.workflow_id
        by = Principal(id="ops-7", role=Role.OPERATOR)
        decision = Decision(
            key="decide-1", action=DecisionAction.APPROVE, by=by, reason="INR: delivered"
        )
        await handle.execute_update(DisputeWorkflow.decide, decision)
        await wait_for(handle, DisputeState.SUBMITTED)
        await http.post(
            f"/ebay/_sandbox/payment_disputes/{dispute_id}/resolve", json={"outcome": "SELLER_WON"}
        )
        await skip_time(time_env, POLL_SECONDS + 1)  # the next poll sees it closed
        status = await wait_for(handle, DisputeState.WON)
        # A poller left running without its worker would hold the module's test clock.
        await poller.terminate("test over")
    ctx: SandboxContext = sandbox.state.sandbox
    assert len(ctx.ledger.entries(kind="payment_dispute_contest", reference=dispute_id)) == 1
    assert status.provider == "ebay" and status.answers[0].submission_count == 1
