"""Actions from a buyer's case, on the time-skipping server with a real order workflow
(stand-in partners), the real case and return activities and a real return workflow:
a goodwill refund (under and over the finance threshold, maker != checker, refused by the
partner, more than is left), an address corrected before the label is bought (and
refused where it may not be), and a return opened from the case."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from temporalio.client import WorkflowHandle, WorkflowUpdateFailedError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from activities.cases import CaseActivities
from activities.registry import activity_methods
from crossdock.models.approval import Principal, Role
from crossdock.models.case import (
    BuyerMessage,
    CaseAction,
    CaseActionKind,
    CasePolicy,
    CaseStatus,
    GoodwillState,
)
from crossdock.models.order import Address, Channel, Order
from crossdock.models.order_states import OrderState
from crossdock.models.order_status import OrderStatus
from crossdock.models.order_steps import BuyLabelInput
from crossdock.models.returns import ReturnInput, ReturnReason, ReturnRequest
from crossdock.money import Money
from crossdock.workflow_sandbox import RUNNER
from starter.cases import deliver_buyer_message
from tests.conftest import skip_time
from tests.factories import WAREHOUSE, order
from tests.workflows.order_harness import start, wait_for_state
from tests.workflows.return_harness import (
    TIMERS,
    ReturnPartners,
    delivered_order,
    return_activities,
)
from tests.workflows.stand_ins import Partners
from workflows.case import BuyerCaseWorkflow
from workflows.order import OrderWorkflow
from workflows.returns import ReturnWorkflow

OPERATOR = Principal(id="ops-1", role=Role.OPERATOR)
ADMIN = Principal(id="adm-1", role=Role.ADMIN)
FINANCE = Principal(id="fin-1", role=Role.FINANCE)
POLICY = CasePolicy(storefront_deadline_seconds=3600, refund_check_seconds=60, refund_checks=3)
CaseHandle = WorkflowHandle[BuyerCaseWorkflow, CaseStatus]
RECORD = os.environ.get("CROSSDOCK_RECORD_HISTORIES", "")


async def record(handle: WorkflowHandle[Any, Any], name: str) -> None:
    """Save `handle`'s history for tests/histories/ (CROSSDOCK_RECORD_HISTORIES=dir)."""
    if RECORD:
        history = await handle.fetch_history()
        Path(RECORD, name).write_text(history.to_json())  # noqa: ASYNC240


@asynccontextmanager
async def running(
    env: WorkflowEnvironment, queue: str, partners: Partners, returns: ReturnPartners
) -> AsyncIterator[list[WorkflowHandle[Any, Any]]]:
    """Order, return and case workflows; the case can start returns (the handles)."""
    opened: list[WorkflowHandle[Any, Any]] = []

    async def start_return(request: ReturnRequest) -> str | None:
        handle = await env.client.start_workflow(
            ReturnWorkflow.run,
            ReturnInput(request=request, warehouse=WAREHOUSE, timers=TIMERS),
            id=request.workflow_id,
            task_queue=queue,
        )
        opened.append(handle)
        returns.started.append(handle)
        return handle.id

    cases = CaseActivities(env.client, start_return=start_return)
    async with Worker(
        env.client,
        task_queue=queue,
        workflows=[OrderWorkflow, ReturnWorkflow, BuyerCaseWorkflow],
        activities=[*return_activities(env, partners, returns), *activity_methods(cases)],
        workflow_runner=RUNNER,
    ):
        try:
            yield opened
        finally:
            for handle in returns.started:
                await handle.terminate("test over")


async def case_for(env: WorkflowEnvironment, queue: str, o: Order, text: str) -> CaseHandle:
    message = BuyerMessage(
        channel=o.channel,
        thread=f"mail.{o.channel_order_id}",
        message_id=f"m-{o.channel_order_id}",
        text=text,
        received_at=await env.get_current_time(),
        order_id=o.channel_order_id,
        email=o.buyer.email,
    )
    workflow_id = await deliver_buyer_message(env.client, message, queue, POLICY)
    handle: CaseHandle = env.client.get_workflow_handle_for(BuyerCaseWorkflow.run, workflow_id)
    await until(handle, lambda s: s.facts is not None and s.facts.currency)
    return handle


async def until(handle: CaseHandle, test: Any) -> CaseStatus:
    for _ in range(600):
        status = await handle.query(BuyerCaseWorkflow.status)
        if test(status):
            return status
        await asyncio.sleep(0.05)
    raise AssertionError(f"case never got there: {[e.event for e in status.timeline]}")


def goodwill(amount: int, by: Principal = OPERATOR) -> CaseAction:
    return CaseAction(
        kind=CaseActionKind.GOODWILL_REFUND,
        reason="the parcel was a week late",
        by=by,
        amount=Money(amount=amount, currency="EUR"),
    )


def decide(kind: CaseActionKind, refund: str, by: Principal) -> CaseAction:
    return CaseAction(kind=kind, reason="checked the order", by=by, refund=refund)


async def order_status(env: WorkflowEnvironment, o: Order) -> OrderStatus:
    handle = env.client.get_workflow_handle(o.workflow_id)
    status: OrderStatus = await handle.query("status", result_type=OrderStatus)
    return status


async def test_a_goodwill_refund_under_the_threshold_is_refunded_and_counted_once(
    time_env: WorkflowEnvironment, task_queue: str
) -> None:
    partners, returns = Partners(), ReturnPartners()
    o = order(channel_order_id="SF71000001")
    async with running(time_env, task_queue, partners, returns):
        await delivered_order(time_env, task_queue, o, returns)
        case = await case_for(
            time_env, task_queue, o, "Le colis est arrivé avec une semaine de retard."
        )
        receipt = await case.execute_update(BuyerCaseWorkflow.act, goodwill(1000))
        assert receipt.accepted and "goodwill-1" in receipt.detail
        status = await until(case, lambda s: s.goodwill[0].state is GoodwillState.SUCCEEDED)
        ledger = await order_status(time_env, o)
        sent = await until(case, lambda s: "buyer_notified" in [e.event for e in s.timeline])
    issued = [call for name, call in returns.calls if name == "issue_refund"]
    assert len(issued) == 1 and issued[0].amount == Money(amount=1000, currency="EUR")
    assert issued[0].idempotency_key == f"{case.id}/goodwill-1"
    assert issued[0].reason == "OTHER_ADJUSTMENT"
    assert issued[0].adjustment_reason == "GeneralAdjustment"
    reservation = ledger.refund_reservations[-1]
    assert reservation.reservation_id == f"{case.id}/goodwill-1"
    assert reservation.state == "succeeded" and reservation.amount.amount == 1000
    assert status.goodwill[0].approved_by is None
    refunded = partners.messages()[-1]
    assert refunded.template == "order_refunded" and refunded.language == sent.language
    assert refunded.amounts["amount"] == Money(amount=1000, currency="EUR")
    assert not sent.needs_attention


async def test_a_goodwill_refund_over_the_threshold_waits_for_another_finance_person(
    time_env: WorkflowEnvironment, task_queue: str
) -> None:
    partners, returns = Partners(), ReturnPartners()
    o = order(channel_order_id="SF71000002")
    async with running(time_env, task_queue, partners, returns):
        await delivered_order(time_env, task_queue, o, returns)
        case = await case_for(time_env, task_queue, o, "The mug arrived chipped.")
        receipt = await case.execute_update(BuyerCaseWorkflow.act, goodwill(3000, by=ADMIN))
        assert "awaits a finance approver" in receipt.detail
        waiting = await case.query(BuyerCaseWorkflow.status)
        assert waiting.goodwill[0].state is GoodwillState.AWAITING_FINANCE
        assert waiting.needs_attention
        for refused_by in (ADMIN, OPERATOR):  # the maker, and a role that may not
            with pytest.raises(WorkflowUpdateFailedError):
                await case.execute_update(
                    BuyerCaseWorkflow.act,
                    decide(CaseActionKind.APPROVE_REFUND, "goodwill-1", refused_by),
                )
        assert not [name for name, _ in returns.calls if name == "issue_refund"]
        await case.execute_update(
            BuyerCaseWorkflow.act, decide(CaseActionKind.APPROVE_REFUND, "goodwill-1", FINANCE)
        )
        status = await until(case, lambda s: s.goodwill[0].state is GoodwillState.SUCCEEDED)
        await until(case, lambda s: "buyer_notified" in [e.event for e in s.timeline])
        await record(case, "case-storefront-goodwill-finance-approved.json")
    assert status.goodwill[0].approved_by == FINANCE
    assert [name for name, _ in returns.calls].count("issue_refund") == 1


async def test_a_goodwill_refund_the_partner_refuses_leaves_nothing_on_the_ledger(
    time_env: WorkflowEnvironment, task_queue: str
) -> None:
    partners, returns = Partners(), ReturnPartners(refund_states=["pending"])
    returns.settle_as = returns.settle_as.FAILED
    o = order(channel_order_id="SF71000003")
    async with running(time_env, task_queue, partners, returns):
        await delivered_order(time_env, task_queue, o, returns)
        case = await case_for(time_env, task_queue, o, "Where is my refund?")
        await case.execute_update(BuyerCaseWorkflow.act, goodwill(1500))
        await until(case, lambda s: "goodwill_reserved" in [e.event for e in s.timeline])
        await skip_time(time_env, timedelta(seconds=61))
        status = await until(case, lambda s: s.goodwill[0].state is GoodwillState.FAILED)
        ledger = await order_status(time_env, o)
        # More than the order holds is refused by the order's ledger: nothing reserved.
        too_much = CaseAction(
            kind=CaseActionKind.GOODWILL_REFUND,
            reason="everything back",
            by=ADMIN,
            amount=Money(amount=10_000_000, currency="EUR"),
        )
        await case.execute_update(BuyerCaseWorkflow.act, too_much)
        await case.execute_update(
            BuyerCaseWorkflow.act, decide(CaseActionKind.APPROVE_REFUND, "goodwill-2", FINANCE)
        )
        refused = await until(case, lambda s: s.goodwill[1].state is GoodwillState.REFUSED)
        after = await order_status(time_env, o)
    assert [r.state for r in ledger.refund_reservations if "goodwill" in r.reservation_id] == [
        "failed"
    ]
    assert status.needs_attention
    assert refused.goodwill[1].detail
    assert not [r for r in after.refund_reservations if r.amount.amount == 10_000_000]


async def test_an_address_is_corrected_from_the_case_before_the_label_is_bought(
    time_env: WorkflowEnvironment, task_queue: str
) -> None:
    partners = Partners(hold_declaration=True, holds_before_release=3)
    returns = ReturnPartners()
    o = order(channel_order_id="SF71000004")
    moved = Address(
        name="Demo buyer", line1="9 Rue Neuve", city="Lyon", postal_code="69002", country="FR"
    )
    abroad = moved.model_copy(update={"country": "BE", "city": "Bruxelles", "postal_code": "1000"})
    async with running(time_env, task_queue, partners, returns):
        handle = await start(time_env, task_queue, o)
        returns.started.append(handle)
        await wait_for_state(handle, OrderState.CUSTOMS_HOLD)
        case = await case_for(time_env, task_queue, o, "I moved, please send it to my new address")
        action = CaseAction(
            kind=CaseActionKind.CORRECT_ADDRESS,
            reason="the buyer moved",
            by=OPERATOR,
            address=moved,
        )
        refused = await case.execute_update(
            BuyerCaseWorkflow.act, action.model_copy(update={"address": abroad})
        )
        accepted = await case.execute_update(
            BuyerCaseWorkflow.act, action.model_copy(update={"address": moved})
        )
        await skip_time(time_env, timedelta(days=1))
        await wait_for_state(handle, OrderState.PAYMENT_CAPTURED)
        await record(handle, "order-storefront-address-corrected-before-label.json")
        late = await case.execute_update(
            BuyerCaseWorkflow.act, action.model_copy(update={"address": moved})
        )
        ebay = order(channel=Channel.EBAY, channel_order_id="12-71000-00004")
        returns.started.append(await start(time_env, task_queue, ebay))
        await wait_for_state(returns.started[-1], OrderState.CUSTOMS_HOLD)
        ebay_case = await case_for(time_env, task_queue, ebay, "New address please")
        marketplace = await ebay_case.execute_update(
            BuyerCaseWorkflow.act, action.model_copy(update={"address": moved})
        )
    assert not marketplace.accepted and "cancels and orders again" in marketplace.detail
    assert not refused.accepted and "duties" in refused.detail
    assert accepted.accepted
    labels = [call for name, call in partners.calls if name == "buy_label"]
    assert isinstance(labels[0], BuyLabelInput) and labels[0].order.ship_to == moved
    assert not late.accepted and "label" in late.detail


async def test_a_marketplace_order_is_not_redirected_and_a_return_opens_from_the_case(
    time_env: WorkflowEnvironment, task_queue: str
) -> None:
    partners, returns = Partners(), ReturnPartners()
    o = order(channel=Channel.EBAY, channel_order_id="12-71000-00005", currency="EUR")
    async with running(time_env, task_queue, partners, returns) as opened:
        await delivered_order(time_env, task_queue, o, returns)
        case = await case_for(time_env, task_queue, o, "Der Becher kam kaputt an.")
        redirect = await case.execute_update(
            BuyerCaseWorkflow.act,
            CaseAction(
                kind=CaseActionKind.CORRECT_ADDRESS,
                reason="the buyer asked",
                by=OPERATOR,
                address=o.ship_to.model_copy(update={"line1": "2 Other Street"}),
            ),
        )
        receipt = await case.execute_update(
            BuyerCaseWorkflow.act,
            CaseAction(
                kind=CaseActionKind.OPEN_RETURN,
                reason="arrived broken",
                by=OPERATOR,
                return_reason=ReturnReason.DAMAGED,
            ),
        )
        status = await case.query(BuyerCaseWorkflow.status)
        assert [handle.id for handle in opened] == [receipt.workflow_id]
        linked = await until_linked(time_env, o, receipt.workflow_id)
    assert not redirect.accepted and "delivered" in redirect.detail
    assert receipt.accepted and receipt.workflow_id == f"return-ebay-mail-{o.channel_order_id}-r1"
    assert status.returns == [receipt.workflow_id]
    assert linked.kind == "return"


async def until_linked(env: WorkflowEnvironment, o: Order, workflow_id: str) -> Any:
    for _ in range(600):
        found = [c for c in (await order_status(env, o)).cases if c.workflow_id == workflow_id]
        if found:
            return found[0]
        await asyncio.sleep(0.05)
    raise AssertionError(f"{workflow_id} never linked to {o.workflow_id}")
