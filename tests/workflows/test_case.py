"""BuyerCaseWorkflow on the time-skipping server, with a real order workflow (stand-in
partners) and the real case activities: intents, auto-answers from live facts, the
deadline's branches, and an action that moves the order."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

from temporalio.client import WorkflowHandle
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from activities.cases import CaseActivities
from crossdock.models.approval import Principal, Role
from crossdock.models.case import (
    BuyerMessage,
    CaseAction,
    CaseActionKind,
    CasePolicy,
    CaseReply,
    CaseState,
    CaseStatus,
)
from crossdock.models.order import Address, Channel
from crossdock.models.order_states import OrderState
from crossdock.workflow_sandbox import RUNNER
from starter.cases import deliver_buyer_message
from tests.conftest import skip_time
from tests.factories import order
from tests.workflows.order_harness import deliver, start, wait_for_state
from tests.workflows.stand_ins import Partners
from workflows.case import BuyerCaseWorkflow
from workflows.order import OrderWorkflow

RECORD = os.environ.get("CROSSDOCK_RECORD_HISTORIES", "")
OPERATOR = Principal(id="ops-1", role=Role.OPERATOR)
HOUR = 3600.0
POLICY = CasePolicy(storefront_deadline_seconds=HOUR)


@asynccontextmanager
async def running(env: WorkflowEnvironment, queue: str, partners: Partners) -> AsyncIterator[None]:
    async with Worker(
        env.client,
        task_queue=queue,
        workflows=[OrderWorkflow, BuyerCaseWorkflow],
        activities=[*partners.activities(), *_case_activities(env)],
        workflow_runner=RUNNER,
    ):
        yield


def _case_activities(env: WorkflowEnvironment) -> list[Callable[..., Any]]:
    cases = CaseActivities(env.client)
    return [cases.find_order, cases.order_facts, cases.act_on_order, cases.suggest_reply]


async def buyer_writes(
    env: WorkflowEnvironment, queue: str, text: str, order_id: str, n: int = 1
) -> WorkflowHandle[BuyerCaseWorkflow, CaseStatus]:
    message = BuyerMessage(
        channel=Channel.STOREFRONT,
        thread=f"mail-{order_id}",
        message_id=f"m-{order_id}-{n}",
        text=text,
        received_at=await env.get_current_time(),
        order_id=order_id,
        email="buyer@example.com",
    )
    workflow_id = await deliver_buyer_message(env.client, message, queue, POLICY)
    return env.client.get_workflow_handle_for(BuyerCaseWorkflow.run, workflow_id)


async def until(handle: WorkflowHandle[BuyerCaseWorkflow, CaseStatus], test: object) -> CaseStatus:
    for _ in range(600):
        status = await handle.query(BuyerCaseWorkflow.status)
        if test(status):  # type: ignore[operator]
            return status
        await asyncio.sleep(0.05)
    raise AssertionError(f"case never got there: {[e.event for e in status.timeline]}")


def events(status: CaseStatus) -> list[str]:
    return [entry.event for entry in status.timeline]


async def test_where_is_my_order_in_german_is_answered_from_the_live_facts(
    time_env: WorkflowEnvironment, task_queue: str
) -> None:
    partners = Partners()
    berlin = Address(name="Anna", line1="Weg 1", city="Berlin", postal_code="10115", country="DE")
    o = order(channel_order_id="SF70000001", ship_to=berlin)
    async with running(time_env, task_queue, partners):
        await wait_for_state(await start(time_env, task_queue, o), OrderState.PAYMENT_CAPTURED)
        case = await buyer_writes(time_env, task_queue, "Wo ist meine Bestellung?", "SF70000001")
        status = await until(case, lambda s: s.state is CaseState.ANSWERED)
    assert status.intents == ["where_is_my_order"] and status.language == "de"
    buyer, answer = status.thread
    assert buyer.inbound and answer.by == "auto" and not answer.inbound
    assert "EZ1000000001" in answer.text and "versandt" in answer.text
    assert status.first_response_seconds is not None and status.first_response_seconds < 60
    assert status.answered_in_time == [True]
    reply = partners.messages()[-1]
    assert reply.template == "case_reply" and reply.language == "de"


async def test_a_french_cancel_request_waits_for_a_person_who_cancels_the_order(
    time_env: WorkflowEnvironment, task_queue: str
) -> None:
    partners = Partners(hold_declaration=True, holds_before_release=10_000)
    async with running(time_env, task_queue, partners):
        handle = await start(time_env, task_queue, order(channel_order_id="SF70000002"))
        await wait_for_state(handle, OrderState.CUSTOMS_HOLD)
        case = await buyer_writes(
            time_env, task_queue, "Bonjour, je voudrais annuler ma commande.", "SF70000002"
        )
        status = await until(case, lambda s: s.suggested_reply is not None and s.approvals)
        assert status.intents == ["cancel"] and status.language == "fr"
        assert status.suggested_reply is not None and "douane" in status.suggested_reply.text
        receipt = await case.execute_update(
            BuyerCaseWorkflow.act,
            CaseAction(kind=CaseActionKind.CANCEL_ORDER, reason="the buyer asked", by=OPERATOR),
        )
        assert receipt.accepted
        await wait_for_state(handle, OrderState.CANCELLED)
        line = await case.execute_update(
            BuyerCaseWorkflow.reply,
            CaseReply(text="Votre commande est annulée.", by=OPERATOR),
        )
        status = await case.query(BuyerCaseWorkflow.status)
        if RECORD:
            history = await handle.fetch_history()
            path = Path(RECORD, "order-storefront-held-cancelled-from-case.json")
            path.write_text(history.to_json())  # noqa: ASYNC240
    assert line.by == "ops-1" and status.state is CaseState.ANSWERED
    assert status.answered_in_time == [True]
    assert "approval_reminder" not in events(status)
    assert "action_cancel_order" in events(status)


async def test_an_unanswered_buyer_is_reminded_escalated_then_flagged_as_missed(
    time_env: WorkflowEnvironment, task_queue: str
) -> None:
    partners = Partners(hold_declaration=True, holds_before_release=10_000)
    async with running(time_env, task_queue, partners):
        handle = await start(time_env, task_queue, order(channel_order_id="SF70000003"))
        await wait_for_state(handle, OrderState.CUSTOMS_HOLD)
        case = await buyer_writes(
            time_env, task_queue, "The mug arrived broken, what now?", "SF70000003"
        )
        await until(case, lambda s: s.approvals)
        await skip_time(time_env, timedelta(seconds=HOUR * 0.6))
        reminded = await until(case, lambda s: "approval_reminder" in events(s))
        assert reminded.needs_attention and "approval_escalated" not in events(reminded)
        await skip_time(time_env, timedelta(seconds=HOUR * 0.3))
        await until(case, lambda s: "approval_escalated" in events(s))
        await skip_time(time_env, timedelta(seconds=HOUR * 0.2))
        missed = await until(case, lambda s: s.missed == 1)
        assert missed.needs_attention and missed.state is CaseState.AWAITING_US
        await case.execute_update(
            BuyerCaseWorkflow.reply, CaseReply(text="Sorry! A new mug is on its way.", by=OPERATOR)
        )
        status = await case.query(BuyerCaseWorkflow.status)
        if RECORD:
            history = await case.fetch_history()
            path = Path(RECORD, "case-storefront-reminded-escalated-missed-answered.json")
            path.write_text(history.to_json())  # noqa: ASYNC240
    assert status.intents == ["damaged"]
    assert status.answered_in_time == [False] and not status.needs_attention
    assert status.first_response_seconds is not None and status.first_response_seconds > HOUR


async def test_a_delivered_order_and_a_second_message_join_the_same_case(
    time_env: WorkflowEnvironment, task_queue: str
) -> None:
    partners = Partners()
    async with running(time_env, task_queue, partners):
        handle = await start(time_env, task_queue, order(channel_order_id="SF70000004"))
        await wait_for_state(handle, OrderState.PAYMENT_CAPTURED)
        await deliver(handle)
        await wait_for_state(handle, OrderState.DELIVERED)
        case = await buyer_writes(time_env, task_queue, "Where is my order?", "SF70000004")
        await until(case, lambda s: s.state is CaseState.ANSWERED)
        again = await buyer_writes(
            time_env, task_queue, "Why did I pay customs?", "SF70000004", n=2
        )
        assert again.id == case.id
        status = await until(case, lambda s: len(s.intents) == 2 and s.approvals)
    assert status.intents == ["where_is_my_order", "customs_charges"]
    assert status.state is CaseState.AWAITING_US
