"""Buyer e-mail into cases, through the Inbound Parse endpoint (multipart form, Basic
credentials) to real case workflows on the time-skipping server: an Amazon relay mail in
Japanese opens the order's Amazon case (once, however often SendGrid posts it), a
storefront mail names its order, a mail without credentials or text goes nowhere, and a
sender who names no order is threaded under a pseudonym, never their address."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI
from temporalio.client import WorkflowHandle
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from activities.cases import CaseActivities
from activities.registry import activity_methods
from crossdock.models.case import BuyerMessage, CaseStatus
from crossdock.models.order import Channel
from crossdock.workflow_sandbox import RUNNER
from starter.cases import deliver_buyer_message
from starter.mail_intake import USER, MailIntake, mail_intake_router
from workflows.case import BuyerCaseWorkflow

SECRET = "inbound-secret-for-tests-0123456789"
RELAY = "Taro Yamada <k4bq9xyz8m1qq2v@marketplace.amazon.co.jp>"
HEADERS = "Message-ID: <relay-0001@marketplace.amazon.co.jp>\r\nSubject: x\r\n"


@pytest.fixture
async def intake(
    time_env: WorkflowEnvironment, task_queue: str
) -> AsyncIterator[httpx.AsyncClient]:
    async def deliver(message: BuyerMessage) -> str:
        return await deliver_buyer_message(time_env.client, message, task_queue)

    app = FastAPI()
    app.state.mail = MailIntake(deliver, SECRET)
    app.include_router(mail_intake_router())
    cases = CaseActivities(time_env.client)
    async with Worker(
        time_env.client,
        task_queue=task_queue,
        workflows=[BuyerCaseWorkflow],
        activities=activity_methods(cases),
        workflow_runner=RUNNER,
    ):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://intake", auth=(USER, SECRET)
        ) as http:
            yield http


def mail(sender: str, subject: str, text: str, headers: str = "") -> dict[str, str]:
    return {"from": sender, "to": "shop@inbound.example", "subject": subject, "text": text,
            "headers": headers, "envelope": "{}"}  # fmt: skip


async def status_of(handle: WorkflowHandle[BuyerCaseWorkflow, CaseStatus]) -> CaseStatus:
    for _ in range(200):
        try:
            status = await handle.query(BuyerCaseWorkflow.status)
        except RPCError:
            await asyncio.sleep(0.05)
            continue
        if status.suggested_reply is not None:
            return status
        await asyncio.sleep(0.05)
    raise AssertionError("the mail never reached its case")


async def test_an_amazon_relay_mail_opens_the_orders_case_once(
    intake: httpx.AsyncClient, time_env: WorkflowEnvironment
) -> None:
    posted = mail(
        RELAY, "注文番号 503-1234567-7654321 について", "荷物はどこですか。まだ届きません", HEADERS
    )
    first = (await intake.post("/intake/mail/inbound", data=posted)).json()
    again = (await intake.post("/intake/mail/inbound", data=posted)).json()
    assert first == again == {"case": "case-amazon-503-1234567-7654321", "ignored": ""}
    case: WorkflowHandle[BuyerCaseWorkflow, CaseStatus] = time_env.client.get_workflow_handle_for(
        BuyerCaseWorkflow.run, first["case"]
    )
    status = await status_of(case)
    assert [line.text for line in status.thread] == ["荷物はどこですか。まだ届きません"]
    assert status.channel is Channel.AMAZON and status.intents == ["where_is_my_order"]
    assert status.language == "ja"
    await case.terminate("test over")


async def test_a_storefront_mail_names_its_order_and_bad_mail_goes_nowhere(
    intake: httpx.AsyncClient, time_env: WorkflowEnvironment
) -> None:
    posted = mail("Anna <anna@example.de>", "Bestellung SF10000042", "Ich möchte stornieren.")
    answer = (await intake.post("/intake/mail/inbound", data=posted)).json()
    assert answer["case"] == "case-storefront-SF10000042"
    case: WorkflowHandle[BuyerCaseWorkflow, CaseStatus] = time_env.client.get_workflow_handle_for(
        BuyerCaseWorkflow.run, answer["case"]
    )
    status = await status_of(case)
    assert status.intents == ["cancel"] and status.language == "de"
    await case.terminate("test over")
    unsigned = await intake.post("/intake/mail/inbound", data=posted, auth=(USER, "wrong"))
    assert unsigned.status_code == 401
    empty = (await intake.post("/intake/mail/inbound", data=mail(RELAY, "hi", " "))).json()
    assert empty["case"] == "" and "no text" in empty["ignored"]


async def test_a_sender_naming_no_order_is_threaded_under_a_pseudonym() -> None:
    async def nowhere(message: BuyerMessage) -> str:
        raise AssertionError("not delivered in this test")

    intake = MailIntake(nowhere, SECRET)
    message = intake._message("anna@example.de", "Frage", "Haben Sie das in Blau?", "")
    other = MailIntake(nowhere, "another-install-secret-0123456789")
    elsewhere = other._message("anna@example.de", "Frage", "Haben Sie das in Blau?", "")
    assert message is not None and elsewhere is not None
    assert message.thread.startswith("mail-") and "anna" not in message.thread
    assert message.thread != elsewhere.thread  # keyed per install
    assert message.email == "anna@example.de" and message.order_id == ""
