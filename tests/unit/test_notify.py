"""Buyer notifications: templates as data, the SendGrid-shaped adapter and the activity,
run against the mail sandbox."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import structlog
from fastapi import FastAPI
from pydantic import ValidationError
from structlog.testing import capture_logs
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities import notify as notify_activities
from activities.notify import NotifyActivities
from crossdock.models.notify import (
    NotificationTemplate,
    NotifyBuyerInput,
    render,
    text_of,
)
from crossdock.partners.errors import PartnerRejected, PartnerUnavailable
from crossdock.partners.mail import MailClient, read_sendgrid_error
from crossdock.sandbox.app import create_app
from crossdock.sandbox.context import SandboxConfig
from crossdock.sandbox.faults import FaultProfile

BUYER = "ann.buyer@example.com"
PARAMS = {"order_ref": "SF1", "tracking_code": "EZ00000000000001", "carrier": "Asendia"}
# The return templates' own parameters.
PARAMS |= {
    "rma": "RMA1",
    "label_url": "https://labels.example/1.pdf",
    "ship_by": "2026-12-01",
    "paid_by": "seller",
    "amount": "18.00 EUR",
    "refund_id": "re_1",
    "tracking_url": "https://track.easypost.com/trk_1",
    "expected_delivery": "3 December 2026",
    "duties": "€12.00",
    "reply": "Your parcel is with DHL.",
}


@pytest.fixture
def app() -> FastAPI:
    return create_app(SandboxConfig())


@pytest.fixture
async def mail(app: FastAPI) -> AsyncIterator[MailClient]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app)) as http:
        yield MailClient("http://sandbox/mail", "SG.test", http=http)


def sent(app: FastAPI) -> list[Any]:
    return list(app.state.sandbox.ledger.entries(partner="mail", kind="notification"))


def notify(template: NotificationTemplate, key: str, **params: str) -> NotifyBuyerInput:
    return NotifyBuyerInput(
        to=BUYER, template=template, params={**PARAMS, **params}, idempotency_key=key
    )


async def test_the_buyer_is_notified_once_per_key(
    mail: MailClient, app: FastAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    activities = NotifyActivities(mail)
    env = ActivityEnvironment()
    lost = notify(NotificationTemplate.PARCEL_LOST, "order-storefront-SF1:notify:lost")

    with capture_logs() as logs:
        # A fresh logger: one cached by an earlier test would bypass the capture.
        monkeypatch.setattr(notify_activities, "log", structlog.get_logger("notify"))
        first = await env.run(activities.notify_buyer, lost)
        retried = await env.run(activities.notify_buyer, lost)

    assert first == retried
    assert (first.template, first.idempotency_key, first.via, first.sent) == (
        NotificationTemplate.PARCEL_LOST,
        "order-storefront-SF1:notify:lost",
        "mail",
        True,
    )
    assert first.subject == "Your parcel for order SF1 has gone missing"
    [entry] = sent(app)
    assert entry.idempotency_key == "order-storefront-SF1:notify:lost"
    assert entry.details["custom_args"] == {"template": "parcel_lost", "language": "en"}
    assert entry.details["subject"] == "Your parcel for order SF1 has gone missing"
    # Only this activity's events: a server another test left running may log meanwhile.
    notified = [log["event"] for log in logs if log["event"].startswith("buyer_")]
    assert notified == ["buyer_notified", "buyer_notified"]
    assert BUYER not in json.dumps(logs)  # no personal data in logs


async def test_each_template_reaches_the_inbox_rendered(mail: MailClient, app: FastAPI) -> None:
    activities = NotifyActivities(mail)
    env = ActivityEnvironment()

    for template in NotificationTemplate:
        await env.run(
            activities.notify_buyer, notify(template, f"k:{template.value}", reason="out of stock")
        )

    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://sandbox") as http:
        inbox = (await http.get("/mail/_sandbox/messages")).json()
    assert [m["custom_args"]["template"] for m in inbox] == [t.value for t in NotificationTemplate]
    for message in inbox:
        assert message["to"] == [BUYER]
        assert message["from"] == "orders@crossdock.example"
        assert "SF1" in message["subject"] or "RMA1" in message["subject"]
        assert "{" not in message["text"]  # every parameter filled in
    cancelled = next(m for m in inbox if m["custom_args"]["template"] == "order_cancelled")
    assert "cancelled: out of stock." in cancelled["text"]


def test_templates_name_the_parameters_they_need() -> None:
    assert text_of(NotificationTemplate.DELIVERY_DELAYED).parameters == {
        "order_ref",
        "carrier",
        "tracking_code",
    }
    assert text_of(NotificationTemplate.ORDER_CANCELLED).parameters == {"order_ref", "reason"}
    subject, body = render(NotificationTemplate.ADDRESS_PROBLEM, PARAMS)
    assert subject == "We need your address for order SF1"
    assert "EZ00000000000001" in body


def test_a_missing_parameter_is_refused_when_the_input_is_built() -> None:
    with pytest.raises(ValidationError, match="'order_cancelled' lack reason"):
        NotifyBuyerInput(
            to=BUYER,
            template=NotificationTemplate.ORDER_CANCELLED,
            params={"order_ref": "SF1"},
            idempotency_key="k",
        )


def test_a_bad_address_is_refused_without_repeating_it() -> None:
    with pytest.raises(ValidationError) as refused:
        NotifyBuyerInput(
            to="ann.buyer-at-example.com",
            template=NotificationTemplate.PARCEL_LOST,
            params=PARAMS,
            idempotency_key="k",
        )

    assert "to is not an email address" in str(refused.value)
    assert "ann.buyer-at-example.com" not in str(refused.value).split("input_value")[0]


async def test_refusals_name_sendgrids_field(mail: MailClient) -> None:
    with pytest.raises(PartnerRejected) as refused:
        await mail.send(BUYER, "Subject", "", "k")

    assert refused.value.status == 400
    assert "content.0.value: The content value must be a string" in refused.value.message


def test_sendgrid_errors_without_a_field_are_read_too() -> None:
    body = {"errors": [{"field": None, "message": "The provided authorization grant is invalid"}]}

    assert read_sendgrid_error(body) == (None, "The provided authorization grant is invalid")


async def test_an_outage_is_retried() -> None:
    down = create_app(SandboxConfig(faults=FaultProfile.everywhere(error_rate=1.0)))
    lost = notify(NotificationTemplate.PARCEL_LOST, "k")
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=down)) as http:
        outage = NotifyActivities(MailClient("http://sandbox/mail", "SG.test", http=http))
        with pytest.raises(ApplicationError) as unavailable:
            await ActivityEnvironment().run(outage.notify_buyer, lost)

    assert (unavailable.value.type, unavailable.value.non_retryable) == (
        "PartnerUnavailable",
        False,
    )


async def test_a_refused_api_key_is_not_retried(app: FastAPI) -> None:
    lost = notify(NotificationTemplate.PARCEL_LOST, "k")
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app)) as http:
        activities = NotifyActivities(MailClient("http://sandbox/mail", "", http=http))
        with pytest.raises(ApplicationError) as refused:
            await ActivityEnvironment().run(activities.notify_buyer, lost)

    assert refused.value.non_retryable
    assert "authorization grant" in str(refused.value)


async def test_the_client_sends_sendgrids_shape() -> None:
    seen: list[httpx.Request] = []

    def accept(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(202, headers={"X-Message-Id": "abc"})

    async with httpx.AsyncClient(transport=httpx.MockTransport(accept)) as http:
        client = MailClient("https://api.sendgrid.test", "SG.key", http=http, sender="a@b.example")
        await client.send(BUYER, "Hi", "Text", "order-1:notify", tags={"template": "x"})

    [request] = seen
    assert (request.method, request.url.path) == ("POST", "/v3/mail/send")
    assert request.headers["Authorization"] == "Bearer SG.key"
    assert request.headers["Idempotency-Key"] == "order-1:notify"
    assert json.loads(request.content) == {
        "personalizations": [{"to": [{"email": BUYER}]}],
        "from": {"email": "a@b.example", "name": "Crossdock"},
        "subject": "Hi",
        "content": [{"type": "text/plain", "value": "Text"}],
        "custom_args": {"template": "x"},
    }


async def test_an_unreachable_mail_service_is_unavailable() -> None:
    def down(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    async with httpx.AsyncClient(transport=httpx.MockTransport(down)) as http:
        with pytest.raises(PartnerUnavailable):
            await MailClient("http://nowhere", "SG.key", http=http).send(BUYER, "s", "t", "k")
