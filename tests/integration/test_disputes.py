"""End to end: the sandbox opens Stripe disputes on delivered storefront orders, its
signed webhooks (some duplicated or out of order) reach intake, the dispute workflows
gather evidence from the orders, are decided by an operator or by the deadline policy,
submit exactly once each and end won or lost."""

from __future__ import annotations

import asyncio
from typing import Any

from temporalio.client import WorkflowHandle
from temporalio.service import RPCError

from crossdock.demo import DemoOrders, place
from crossdock.identity.claims import signer_for
from crossdock.models.approval import Decision, DecisionAction, Principal, Role
from crossdock.models.dispute_states import DisputeState
from crossdock.models.dispute_status import DisputeResult, DisputeStatus
from crossdock.models.order import Channel, Order
from crossdock.models.order_states import OrderState
from crossdock.models.order_steps import OrderResult
from tests.integration.conftest import Stack
from workflows.dispute import DisputeWorkflow

OPERATOR = Principal(id="ops-disputes", role=Role.OPERATOR)
Handle = WorkflowHandle[DisputeWorkflow, DisputeResult]


async def delivered(stack: Stack, order: Order) -> Order:
    handle = stack.client.get_workflow_handle(order.workflow_id, result_type=OrderResult)
    for _ in range(600):
        try:
            result = await handle.result()
            assert result.state == OrderState.COMPLETED
            return order
        except RPCError as err:  # intake has not started it yet
            if "not found" not in str(err).lower():
                raise
            await asyncio.sleep(0.2)
    raise AssertionError(f"{order.workflow_id} was never started")


async def first_delivered(stack: Stack, orders: list[Order], count: int) -> list[Order]:
    """The first `count` orders to complete (some may wait for stock or in customs)."""
    tasks = [asyncio.create_task(delivered(stack, o)) for o in orders]
    done: list[Order] = []
    try:
        for finished in asyncio.as_completed(tasks, timeout=240):
            done.append(await finished)
            if len(done) == count:
                return done
    finally:
        for task in tasks:
            task.cancel()
    raise AssertionError(f"only {len(done)} of {len(orders)} orders completed")


async def open_dispute(stack: Stack, order: Order, reason: str) -> Handle:
    response = await stack.sandbox.post(
        "/stripe/_sandbox/disputes", json={"order": order.workflow_id, "reason": reason}
    )
    response.raise_for_status()
    dispute_id = response.json()["id"]
    return stack.client.get_workflow_handle(
        f"dispute-stripe-{dispute_id}", result_type=DisputeResult
    )


async def reaches(handle: Handle, state: DisputeState) -> DisputeStatus:
    """Poll until the workflow (started by the webhook) is in `state`."""
    for _ in range(300):
        try:
            status = await handle.query(DisputeWorkflow.status)
            if status.state == state:
                return status
        except RPCError as err:
            if "not found" not in str(err).lower():
                raise
        await asyncio.sleep(0.1)
    raise AssertionError(f"{handle.id} never reached {state}")


async def submissions(stack: Stack, dispute_id: str) -> list[dict[str, Any]]:
    response = await stack.sandbox.get(
        "/_sandbox/ledger",
        params={"partner": "stripe", "kind": "dispute_submission", "reference": dispute_id},
    )
    entries: list[dict[str, Any]] = response.json()
    return entries


async def resolve(stack: Stack, dispute_id: str, outcome: str) -> None:
    response = await stack.sandbox.post(
        f"/stripe/_sandbox/disputes/{dispute_id}/resolve", json={"outcome": outcome}
    )
    response.raise_for_status()


async def test_disputes_on_delivered_orders_are_answered_once_and_end_won_or_lost(
    stack: Stack,
) -> None:
    demo = DemoOrders(seed=505, decline_rate=0.0, review_rate=0.0)
    placed = [demo.next(channel=Channel.STOREFRONT) for _ in range(6)]
    for order in placed:
        await place(stack.sandbox, order)
    orders = await first_delivered(stack, placed, 3)

    won = await open_dispute(stack, orders[0], "product_not_received")
    lost = await open_dispute(stack, orders[1], "fraudulent")
    by_policy = await open_dispute(stack, orders[2], "product_not_received")
    for handle in (won, lost):
        staged = await reaches(handle, DisputeState.AWAITING_DECISION)
        assert staged.order_workflow_id in {o.workflow_id for o in orders}
        assert staged.strength.startswith("strong"), staged.strength
        decision = Decision(
            key="decide-1",
            action=DecisionAction.APPROVE,
            by=signer_for(stack.settings).sign(OPERATOR, handle.id),
            reason="delivered",
        )
        await handle.execute_update(DisputeWorkflow.decide, decision)
    # Nobody decides the third: the deadline policy submits its strong evidence.
    for handle in (won, lost, by_policy):
        await reaches(handle, DisputeState.SUBMITTED)

    ids = {h: (await h.query(DisputeWorkflow.status)).dispute_id for h in (won, lost, by_policy)}
    await resolve(stack, ids[won], "won")
    await resolve(stack, ids[lost], "lost")
    await resolve(stack, ids[by_policy], "won")
    results = await asyncio.wait_for(
        asyncio.gather(won.result(), lost.result(), by_policy.result()), 60
    )
    assert [r.state for r in results] == ["won", "lost", "won"]
    assert [r.decided_by for r in results] == [OPERATOR.id, OPERATOR.id, "deadline_policy"]
    for handle in (won, lost, by_policy):
        assert len(await submissions(stack, ids[handle])) == 1
    # The order had completed: its ledger takes no update, so the dispute records it.
    assert results[1].loss is not None and results[1].loss.outcome == "order_closed"


async def test_an_ebay_payment_dispute_is_polled_contested_once_and_lost(stack: Stack) -> None:
    demo = DemoOrders(seed=606, decline_rate=0.0, review_rate=0.0)
    placed = [demo.next(channel=Channel.EBAY) for _ in range(3)]
    for order in placed:
        await place(stack.sandbox, order)
    [order] = await first_delivered(stack, placed, 1)
    opened = await stack.sandbox.post(
        "/ebay/_sandbox/payment_disputes",
        json={"order_id": order.channel_order_id, "reason": "SIGNIFICANTLY_NOT_AS_DESCRIBED"},
    )
    opened.raise_for_status()
    dispute_id = opened.json()["paymentDisputeId"]
    handle: Handle = stack.client.get_workflow_handle(
        f"dispute-ebay-{dispute_id}", result_type=DisputeResult
    )
    staged = await reaches(handle, DisputeState.AWAITING_DECISION)  # found by the poller
    assert staged.order_workflow_id == order.workflow_id
    by = signer_for(stack.settings).sign(OPERATOR, handle.id)
    decision = Decision(key="decide-1", action=DecisionAction.APPROVE, by=by, reason="ok")
    await handle.execute_update(DisputeWorkflow.decide, decision)
    await reaches(handle, DisputeState.SUBMITTED)
    resolve = f"/ebay/_sandbox/payment_disputes/{dispute_id}/resolve"
    (await stack.sandbox.post(resolve, json={"outcome": "SELLER_LOST"})).raise_for_status()
    result = await asyncio.wait_for(handle.result(), 60)
    assert result.state == DisputeState.LOST and result.submissions == 1
    ledger = await stack.sandbox.get(
        "/_sandbox/ledger",
        params={"partner": "ebay", "kind": "payment_dispute_contest", "reference": dispute_id},
    )
    assert len(ledger.json()) == 1


async def contest(stack: Stack, handle: Handle) -> DisputeStatus:
    """Wait for the question (the poller found the claim) and approve contesting it."""
    staged = await reaches(handle, DisputeState.AWAITING_DECISION)
    by = signer_for(stack.settings).sign(OPERATOR, handle.id)
    decision = Decision(key="decide-1", action=DecisionAction.APPROVE, by=by, reason="delivered")
    await handle.execute_update(DisputeWorkflow.decide, decision)
    await reaches(handle, DisputeState.SUBMITTED)
    return staged


async def ledger_count(stack: Stack, partner: str, kind: str, reference: str) -> int:
    params = {"partner": partner, "kind": kind, "reference": reference}
    return len((await stack.sandbox.get("/_sandbox/ledger", params=params)).json())


async def test_an_ebay_case_and_an_atoz_claim_are_polled_answered_once_and_decided(
    stack: Stack,
) -> None:
    demo = DemoOrders(seed=707, decline_rate=0.0, review_rate=0.0)
    placed = [demo.next(channel=Channel.EBAY) for _ in range(3)]
    placed += [demo.next(channel=Channel.AMAZON) for _ in range(3)]
    for order in placed:
        await place(stack.sandbox, order)
    done = await first_delivered(stack, placed[:3], 1) + await first_delivered(stack, placed[3:], 1)
    [on_ebay, on_amazon] = done
    case = await stack.sandbox.post(
        "/ebay/_sandbox/cases", json={"order_id": on_ebay.channel_order_id}
    )
    case.raise_for_status()
    case_id = str(case.json()["caseId"])
    claim = await stack.sandbox.post(
        "/amazon/_sandbox/claims", json={"order_id": on_amazon.channel_order_id}
    )
    claim.raise_for_status()
    claim_id = claim.json()["payload"]["ClaimId"]
    ebay: Handle = stack.client.get_workflow_handle(
        f"dispute-ebay-case-{case_id}", result_type=DisputeResult
    )
    amazon: Handle = stack.client.get_workflow_handle(
        f"dispute-amazon-{claim_id}", result_type=DisputeResult
    )
    for handle, order in ((ebay, on_ebay), (amazon, on_amazon)):
        staged = await contest(stack, handle)
        assert staged.order_workflow_id == order.workflow_id
        assert staged.strength.startswith("strong"), staged.strength  # tracking and delivery

    decide = stack.sandbox.post
    (
        await decide(f"/ebay/_sandbox/cases/{case_id}/decide", json={"winner": "SELLER"})
    ).raise_for_status()
    (
        await decide(f"/amazon/_sandbox/claims/{claim_id}/decide", json={"winner": "BUYER"})
    ).raise_for_status()
    results = await asyncio.wait_for(asyncio.gather(ebay.result(), amazon.result()), 60)
    assert [(r.state, r.submissions) for r in results] == [("won", 1), ("lost", 1)]
    assert await ledger_count(stack, "ebay", "case_shipment_info", case_id) == 1
    assert await ledger_count(stack, "amazon", "atoz_representation", claim_id) == 1
