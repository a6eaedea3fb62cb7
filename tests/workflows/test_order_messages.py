"""Buyer messages from the order workflow on the time-skipping server: the real notify
activity renders and sends through the sandbox's mail, Amazon Messaging and eBay Message
APIs (in process), the other partners are stand-ins."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from temporalio import activity
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from activities.notify import NotifyActivities
from crossdock.models.notify import NotificationSent, NotifyBuyerInput
from crossdock.models.order import Address, Buyer, Channel, Incoterm, Order
from crossdock.models.order_states import OrderState
from crossdock.money import Money
from crossdock.partners.amazon_messaging import AmazonMessagingClient
from crossdock.partners.ebay import EbayFulfillmentClient
from crossdock.partners.ebay_messages import EbayMessagesClient
from crossdock.partners.mail import MailClient
from crossdock.sandbox.app import create_app
from crossdock.sandbox.context import SandboxConfig
from crossdock.workflow_sandbox import RUNNER
from tests.factories import line_item, order
from tests.workflows.order_harness import deliver, start, wait_for_state
from tests.workflows.stand_ins import Partners
from workflows.order import OrderWorkflow

MARKETPLACE = "A1PA6795UKMFR9"


@pytest.fixture
def sandbox() -> FastAPI:
    return create_app(SandboxConfig())


@pytest.fixture
async def http(sandbox: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=sandbox)
    async with httpx.AsyncClient(transport=transport, base_url="http://sandbox") as client:
        yield client


def notify(http: httpx.AsyncClient) -> NotifyActivities:
    return NotifyActivities(
        MailClient("http://sandbox/mail", "SG.test", http=http),
        AmazonMessagingClient("http://sandbox/amazon", "Atza|t", MARKETPLACE, http=http),
        EbayMessagesClient("http://sandbox/ebay", "v^1.1#t", http=http),
        EbayFulfillmentClient("http://sandbox/ebay", "v^1.1#t", http=http),
    )


def worker(env: WorkflowEnvironment, queue: str, partners: Partners, sender: Any) -> Worker:
    stand_ins = [a for a in partners.activities() if a != partners.notify_buyer]
    return Worker(
        env.client,
        task_queue=queue,
        workflows=[OrderWorkflow],
        activities=[*stand_ins, sender],
        workflow_runner=RUNNER,
    )


def buyer_in(country: str, city: str, currency: str, **fields: Any) -> Order:
    price = Money(amount=4980 if currency == "JPY" else 1800, currency=currency)
    address = Address(name="Buyer", line1="1 Street", city=city, postal_code="1", country=country)
    return order(
        ship_to=address,
        currency=currency,
        incoterm=Incoterm.DAP,
        items=[line_item(unit_price=price)],
        shipping=Money.zero(currency),
        **fields,
    )


async def told(handle: Any, count: int) -> list[tuple[str, str]]:
    """The first `count` buyer-message lines of the timeline (event, template), once
    there are that many."""
    for _ in range(400):
        status = await handle.query(OrderWorkflow.status)
        lines = [
            (e.event, e.detail.split(" ")[0])
            for e in status.timeline
            if e.event.startswith(("buyer_notified", "buyer_message"))
        ]
        if len(lines) >= count:
            return lines[:count]
        await asyncio.sleep(0.05)
    raise AssertionError(f"only {lines} told")


async def inbox(http: httpx.AsyncClient) -> list[dict[str, Any]]:
    return list((await http.get("/mail/_sandbox/messages")).json())


@pytest.mark.parametrize(
    ("country", "city", "currency", "words"),
    [
        ("DE", "Berlin", "EUR", ("Vielen Dank für Ihre Bestellung", "Einfuhrabgaben", "5,00")),
        ("JP", "Tokyo", "JPY", ("ご注文", "輸入関税", "￥500")),
        ("FR", "Lyon", "EUR", ("Merci pour votre commande", "Droits d'importation", "5,00")),
    ],
)
async def test_a_storefront_buyer_hears_of_every_step_in_their_language(
    time_env: WorkflowEnvironment,
    task_queue: str,
    http: httpx.AsyncClient,
    country: str,
    city: str,
    currency: str,
    words: tuple[str, str, str],
) -> None:
    partners = Partners(duties=500, taxes=1200)
    o = buyer_in(country, city, currency)
    async with worker(time_env, task_queue, partners, notify(http).notify_buyer):
        handle = await start(time_env, task_queue, o)
        await wait_for_state(handle, OrderState.PAYMENT_CAPTURED)
        await deliver(handle)
        await told(handle, 4)
    sent = await inbox(http)
    assert [m["custom_args"]["template"] for m in sent] == [
        "order_confirmed",
        "shipped",
        "duties_due",
        "delivered",
    ]
    texts = " ".join(f"{m['subject']} {m['text']}" for m in sent).replace("\xa0", " ")
    confirmed, duties, amount = words
    assert confirmed in sent[0]["subject"] and duties in sent[2]["subject"]
    assert amount in texts  # the duties at the door, in the buyer's currency and locale
    assert "https://track.easypost.com/" in sent[1]["text"]
    assert {m["custom_args"]["language"] for m in sent} == {
        {"DE": "de", "JP": "ja", "FR": "fr"}[country]
    }


async def test_an_amazon_buyer_gets_only_what_amazon_allows(
    time_env: WorkflowEnvironment, task_queue: str, http: httpx.AsyncClient, sandbox: FastAPI
) -> None:
    """Amazon tells buyers of confirmation, shipment and delivery itself: those are not
    sent; the duties notice goes as confirmDeliveryDetails once Amazon has the order
    shipped; nothing Amazon did not list is ever posted."""
    partners = Partners(duties=500, taxes=1200)
    o = buyer_in("DE", "Berlin", "EUR", channel=Channel.AMAZON, channel_order_id="302-1-1")
    o = o.model_copy(update={"payment_method": None, "buyer": Buyer(name="Anna")})
    created = await http.post("/amazon/_sandbox/orders", json=o.model_dump(mode="json"))
    assert created.status_code == 201, created.text
    async with worker(time_env, task_queue, partners, notify(http).notify_buyer):
        handle = await start(time_env, task_queue, o)
        lines = await told(handle, 3)
    # The stand-in carrier never told the sandbox's Amazon that the order shipped, so
    # Amazon does not allow confirmDeliveryDetails yet: refused before any POST.
    assert lines == [
        ("buyer_message_not_sent", "order_confirmed"),
        ("buyer_message_not_sent", "shipped"),
        ("buyer_message_not_sent", "duties_due"),
    ]
    assert sandbox.state.sandbox.ledger.entries(partner="amazon", kind="buyer_message") == []


async def test_a_message_is_sent_once_when_the_worker_dies_after_sending(
    time_env: WorkflowEnvironment, task_queue: str, http: httpx.AsyncClient, sandbox: FastAPI
) -> None:
    """The first attempt sends, then its worker dies before reporting; the retry carries
    the same idempotency key and the mail service does not send again."""
    real = notify(http)
    attempts: list[str] = []

    @activity.defn(name="notify_buyer")
    async def dies_after_sending(input: NotifyBuyerInput) -> NotificationSent:
        sent = await real.notify_buyer(input)
        attempts.append(input.template.value)
        if activity.info().attempt == 1:
            raise RuntimeError("worker lost after the partner accepted the message")
        return sent

    partners = Partners(duties=500, taxes=1200)
    async with worker(time_env, task_queue, partners, dies_after_sending):
        handle = await start(time_env, task_queue, buyer_in("DE", "Berlin", "EUR"))
        await told(handle, 3)
    assert attempts[:2] == ["order_confirmed", "order_confirmed"]
    ledger = sandbox.state.sandbox.ledger.entries(partner="mail", kind="notification")
    keys = [entry.idempotency_key for entry in ledger]
    assert len(keys) == len(set(keys)) == 3  # confirmed, shipped, duties: each once
