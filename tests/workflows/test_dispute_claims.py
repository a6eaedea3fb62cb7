"""Marketplace claims end to end on the time-skipping server: the dispute poller finds an
eBay INR case and an Amazon A-to-z claim in the sandbox and starts their dispute
workflows; operators contest one (tracking given to eBay once, eBay decides for the
seller: won) and accept the other (refunded through Amazon once, booked on the order)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI
from temporalio.client import WorkflowExecutionStatus
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from activities.dispute_intake import DisputeIntakeActivities
from activities.disputes import DisputeActivities
from crossdock.models.approval import Decision, DecisionAction, Principal, Role
from crossdock.models.dispute import DisputePolicy, DisputePollInput
from crossdock.models.dispute_states import DisputeState
from crossdock.models.dispute_status import DisputeResult
from crossdock.partners.amazon_claims import AmazonClaimsClient
from crossdock.partners.ebay_cases import EbayCasesClient
from crossdock.partners.ebay_payment_disputes import EbayPaymentDisputesClient
from crossdock.partners.stripe_disputes import StripeDisputesClient
from crossdock.sandbox.app import create_app
from crossdock.sandbox.context import SandboxContext
from crossdock.workflow_sandbox import RUNNER
from starter.dispute_start import DisputeDelivery
from tests.claim_orders import (
    file_atoz_claim,
    open_ebay_case,
    shipped_amazon_order,
    shipped_ebay_order,
)
from tests.conftest import skip_time
from tests.factories import WAREHOUSE
from tests.workflows.dispute_harness import STRONG, DisputeHandle, DisputePartners, wait_for
from tests.workflows.order_stub import OrderStub
from workflows.dispute import DisputeWorkflow
from workflows.dispute_intake import DisputePollWorkflow

POLL_SECONDS = 60
RECHECK_SECONDS = 600
OPERATOR = Principal(id="ops-7", role=Role.OPERATOR)


@pytest.fixture
def sandbox() -> FastAPI:
    return create_app()


@pytest.fixture
async def http(sandbox: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=sandbox)
    async with httpx.AsyncClient(transport=transport, base_url="http://sandbox") as client:
        yield client


def claims_worker(
    env: WorkflowEnvironment, task_queue: str, http: httpx.AsyncClient, partners: DisputePartners
) -> Worker:
    """The real poller and claim activities over HTTP; the order side stands in."""
    ebay = EbayPaymentDisputesClient("http://sandbox/ebay", "v^1.1#test", WAREHOUSE, http=http)
    cases = EbayCasesClient("http://sandbox/ebay", "v^1.1#test", http=http)
    atoz = AmazonClaimsClient("http://sandbox/amazon", "Atza|test", http=http)
    stripe = StripeDisputesClient("http://sandbox/stripe", "sk_test_x", http=http)
    policy = DisputePolicy(reopen_window_seconds=30, recheck_after_seconds=RECHECK_SECONDS)
    deliver = DisputeDelivery(env.client, task_queue, policy)
    intake = DisputeIntakeActivities(deliver, ebay, cases, atoz)
    real = DisputeActivities(env.client, stripe, ebay, cases, atoz)
    gather, _, _, reserve = partners.activities()
    return Worker(
        env.client,
        task_queue=task_queue,
        workflows=[DisputeWorkflow, DisputePollWorkflow, OrderStub],
        activities=[
            intake.poll_ebay_payment_disputes,
            intake.poll_marketplace_claims,
            real.submit_dispute_evidence,
            real.close_dispute,
            real.read_dispute,
            gather,
            reserve,
            *partners.buyer(),
        ],
        workflow_runner=RUNNER,
    )


async def poll_and_find(
    env: WorkflowEnvironment, task_queue: str, workflow_id: str
) -> DisputeHandle:
    await env.client.start_workflow(
        DisputePollWorkflow.run,
        DisputePollInput(interval_seconds=POLL_SECONDS),
        id=f"poll-{task_queue}",
        task_queue=task_queue,
    )
    handle: DisputeHandle = env.client.get_workflow_handle(workflow_id, result_type=DisputeResult)
    for _ in range(100):
        try:
            await handle.describe()
            return handle
        except RPCError:
            await asyncio.sleep(0.05)
    raise AssertionError(f"{workflow_id} was never started by the poller")


async def stop_poller(env: WorkflowEnvironment, task_queue: str) -> None:
    """An orphaned poller's next activity, with no worker left to run it, would stop the
    test server from skipping time for the tests after this one."""
    await env.client.get_workflow_handle(f"poll-{task_queue}").terminate("test over")


async def test_an_ebay_inr_case_is_contested_with_tracking_once_and_won(
    time_env: WorkflowEnvironment, task_queue: str, sandbox: FastAPI, http: httpx.AsyncClient
) -> None:
    order_id = f"32-{task_queue[-5:]}-50505"
    placed = await shipped_ebay_order(http, order_id)
    case_id = str((await open_ebay_case(http, order_id))["caseId"])
    evidence = {**STRONG, "shipping_tracking_number": "JD0146001"}
    partners = DisputePartners(order_id=placed.workflow_id, evidence=evidence)
    async with claims_worker(time_env, task_queue, http, partners):
        await time_env.client.start_workflow(
            OrderStub.run, id=placed.workflow_id, task_queue=task_queue
        )
        handle = await poll_and_find(time_env, task_queue, f"dispute-ebay-case-{case_id}")
        staged = await wait_for(handle, DisputeState.AWAITING_DECISION)
        assert staged.order_workflow_id == placed.workflow_id
        assert staged.snapshot.reason == "product_not_received"
        decision = Decision(
            key="decide-1", action=DecisionAction.APPROVE, by=OPERATOR, reason="delivered"
        )
        await handle.execute_update(DisputeWorkflow.decide, decision)
        await wait_for(handle, DisputeState.SUBMITTED)
        decided = await http.post(
            f"/ebay/_sandbox/cases/{case_id}/decide", json={"winner": "SELLER"}
        )
        assert decided.status_code == 200, decided.text
        await skip_time(time_env, POLL_SECONDS + 1)  # the next poll sees it closed
        status = await wait_for(handle, DisputeState.WON)
        await stop_poller(time_env, task_queue)
        await skip_time(time_env, 31)  # the reopen window passes: the case ends
        ended = await handle.describe()
    assert ended.status == WorkflowExecutionStatus.COMPLETED
    ctx: SandboxContext = sandbox.state.sandbox
    given = ctx.ledger.entries(kind="case_shipment_info", reference=case_id)
    assert [e.details["tracking"] for e in given] == ["JD0146001"]
    assert status.provider == "ebay-case" and status.answers[0].submission_count == 1
    assert not partners.named("reserve")  # won: nothing booked on the order


async def test_an_atoz_claim_accepted_is_refunded_once_and_booked_on_the_order(
    time_env: WorkflowEnvironment, task_queue: str, sandbox: FastAPI, http: httpx.AsyncClient
) -> None:
    order_id = f"304-{task_queue[-7:]}-1234567"
    placed = await shipped_amazon_order(http, order_id)
    claim_id = str((await file_atoz_claim(http, order_id, "NOT_AS_DESCRIBED"))["ClaimId"])
    partners = DisputePartners(order_id=placed.workflow_id)
    async with claims_worker(time_env, task_queue, http, partners):
        await time_env.client.start_workflow(
            OrderStub.run, id=placed.workflow_id, task_queue=task_queue
        )
        handle = await poll_and_find(time_env, task_queue, f"dispute-amazon-{claim_id}")
        staged = await wait_for(handle, DisputeState.AWAITING_DECISION)
        assert staged.snapshot.reason == "product_unacceptable"
        decision = Decision(
            key="decide-1", action=DecisionAction.REJECT, by=OPERATOR, reason="refund the buyer"
        )
        await handle.execute_update(DisputeWorkflow.decide, decision)
        status = await wait_for(handle, DisputeState.ACCEPTED)
        await skip_time(time_env, POLL_SECONDS + 1)  # a later poll sees it granted: nothing new
        closed = await handle.describe()
        await stop_poller(time_env, task_queue)
    assert closed.status == WorkflowExecutionStatus.COMPLETED
    ctx: SandboxContext = sandbox.state.sandbox
    assert status.answers[0].submission_count == 0 and status.decided_by == OPERATOR.id
    assert len(ctx.ledger.entries(kind="atoz_refund", reference=claim_id)) == 1
    assert not ctx.ledger.entries(kind="atoz_representation", reference=claim_id)
    [booked] = partners.named("reserve")
    assert booked.order_workflow_id == placed.workflow_id and booked.amount == placed.order_total


async def test_an_atoz_claim_decided_with_no_event_is_read_and_closed(
    time_env: WorkflowEnvironment, task_queue: str, sandbox: FastAPI, http: httpx.AsyncClient
) -> None:
    """The poller is gone when Amazon decides (no event will come): the workflow's own
    re-read of the claim, over HTTP, finds it denied and ends it won."""
    order_id = f"305-{task_queue[-7:]}-7654321"
    placed = await shipped_amazon_order(http, order_id)
    claim_id = str((await file_atoz_claim(http, order_id))["ClaimId"])
    partners = DisputePartners(order_id=placed.workflow_id)
    async with claims_worker(time_env, task_queue, http, partners):
        await time_env.client.start_workflow(
            OrderStub.run, id=placed.workflow_id, task_queue=task_queue
        )
        handle = await poll_and_find(time_env, task_queue, f"dispute-amazon-{claim_id}")
        await wait_for(handle, DisputeState.AWAITING_DECISION)
        decision = Decision(
            key="decide-1", action=DecisionAction.APPROVE, by=OPERATOR, reason="delivered"
        )
        await handle.execute_update(DisputeWorkflow.decide, decision)
        await wait_for(handle, DisputeState.SUBMITTED)
        await stop_poller(time_env, task_queue)
        decided = await http.post(
            f"/amazon/_sandbox/claims/{claim_id}/decide", json={"winner": "SELLER"}
        )
        assert decided.status_code == 200, decided.text
        await skip_time(time_env, RECHECK_SECONDS + 1)
        status = await wait_for(handle, DisputeState.WON)
    assert [e.detail for e in status.timeline if e.event == "provider_read"] == ["won"]
    assert status.snapshot.status == "won" and not partners.named("reserve")
