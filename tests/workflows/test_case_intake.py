"""Inbound eBay buyer messages, read from the sandbox's Message API in eBay's wire shape
(getConversations, getConversation): the activity delivers each buyer message once per
poll, never the seller's own; the durable poller brings a buyer's message into its case
workflow, which reads it like any other."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from temporalio.client import WorkflowHandle
from temporalio.service import RPCError
from temporalio.testing import ActivityEnvironment, WorkflowEnvironment
from temporalio.worker import Worker

from activities.case_intake import CaseIntakeActivities
from activities.cases import CaseActivities
from activities.registry import activity_methods
from crossdock.models.case import BuyerMessage, CaseStatus, ImportBuyerMessagesInput
from crossdock.models.order import Channel
from crossdock.partners.ebay_messages import EbayMessagesClient
from crossdock.sandbox.app import create_app
from crossdock.sandbox.context import SandboxConfig
from crossdock.sandbox.ebay.orders import buyer_username
from crossdock.workflow_sandbox import RUNNER
from starter.cases import deliver_buyer_message
from tests.factories import order
from workflows.case import BuyerCaseWorkflow
from workflows.case_intake import BuyerMessagePollWorkflow, MessagePollInput

SELLER = "crossdock_seller"


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=create_app(SandboxConfig()))
    async with httpx.AsyncClient(transport=transport, base_url="http://sandbox") as client:
        yield client


async def ebay_order(http: httpx.AsyncClient, order_id: str) -> str:
    """The order, placed on the sandbox's eBay; its buyer's username."""
    o = order(channel=Channel.EBAY, channel_order_id=order_id)
    placed = await http.post("/ebay/_sandbox/orders", json=o.model_dump(mode="json"))
    assert placed.is_success
    return buyer_username(o)


async def buyer_writes(http: httpx.AsyncClient, order_id: str, text: str) -> None:
    answer = await http.post(
        f"/ebay/_sandbox/messages/{order_id}/buyer-messages", json={"text": text}
    )
    assert answer.status_code == 201


def client(http: httpx.AsyncClient) -> EbayMessagesClient:
    return EbayMessagesClient("http://sandbox/ebay", "v^1.1#t", http=http)


async def test_buyer_messages_are_delivered_to_their_case_and_the_sellers_are_not(
    http: httpx.AsyncClient,
) -> None:
    buyer = await ebay_order(http, "12-80000-00001")
    await buyer_writes(http, "12-80000-00001", "Wo ist meine Bestellung?")
    await client(http).send(buyer, "12-80000-00001", "Ihr Paket ist unterwegs.", "k-1")
    await buyer_writes(http, "12-80000-00001", "Danke! Und wann kommt es?")
    delivered: list[BuyerMessage] = []

    async def deliver(message: BuyerMessage) -> str:
        delivered.append(message)
        return f"case-ebay-{message.thread}"

    since = datetime.now(UTC) - timedelta(hours=1)
    intake = CaseIntakeActivities(client(http), deliver, SELLER)
    env = ActivityEnvironment()
    first = await env.run(
        intake.import_buyer_messages, ImportBuyerMessagesInput(channel=Channel.EBAY, since=since)
    )
    assert [m.text for m in delivered] == ["Wo ist meine Bestellung?", "Danke! Und wann kommt es?"]
    assert {m.thread for m in delivered} == {"conv-12-80000-00001"}
    assert {m.order_id for m in delivered} == {"12-80000-00001"}
    assert len({m.message_id for m in delivered}) == 2
    assert first.delivered == 2 and first.cursor == delivered[-1].received_at
    later = first.cursor + timedelta(seconds=1)
    again = await env.run(
        intake.import_buyer_messages, ImportBuyerMessagesInput(channel=Channel.EBAY, since=later)
    )
    assert again.delivered == 0 and again.cursor == later


async def test_the_poller_brings_a_buyers_message_into_its_case(
    time_env: WorkflowEnvironment, task_queue: str, http: httpx.AsyncClient
) -> None:
    await ebay_order(http, "12-80000-00002")
    await buyer_writes(http, "12-80000-00002", "Bonjour, où est ma commande ?")

    async def deliver(message: BuyerMessage) -> str:
        return await deliver_buyer_message(time_env.client, message, task_queue)

    intake = CaseIntakeActivities(client(http), deliver, SELLER)
    cases = CaseActivities(time_env.client)
    async with Worker(
        time_env.client,
        task_queue=task_queue,
        workflows=[BuyerMessagePollWorkflow, BuyerCaseWorkflow],
        activities=[*activity_methods(intake), *activity_methods(cases)],
        workflow_runner=RUNNER,
    ):
        poller = await time_env.client.start_workflow(
            BuyerMessagePollWorkflow.run,
            MessagePollInput(
                channel=Channel.EBAY,
                since=datetime.now(UTC) - timedelta(hours=1),
                poll_interval_seconds=60,
            ),
            id=f"intake-messages-ebay-{task_queue}",
            task_queue=task_queue,
        )
        case: WorkflowHandle[BuyerCaseWorkflow, CaseStatus] = (
            time_env.client.get_workflow_handle_for(
                BuyerCaseWorkflow.run, "case-ebay-conv-12-80000-00002"
            )
        )
        status = await _thread(case)
        await poller.terminate("test over")
        await case.terminate("test over")
    assert [line.text for line in status.thread] == ["Bonjour, où est ma commande ?"]
    assert status.intents == ["where_is_my_order"] and status.language == "fr"


async def _thread(case: WorkflowHandle[BuyerCaseWorkflow, CaseStatus]) -> CaseStatus:
    for _ in range(200):
        try:
            status = await case.query(BuyerCaseWorkflow.status)
        except RPCError:  # not started yet
            await asyncio.sleep(0.05)
            continue
        if status.intents:
            return status
        await asyncio.sleep(0.05)
    raise AssertionError("the buyer's message never reached its case")
