"""The SendGrid-shaped mail sandbox: accepted messages, SendGrid's errors, the sandbox's
Idempotency-Key dedupe, and a ledger that never holds the recipient's address."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from crossdock.sandbox.app import create_app
from crossdock.sandbox.context import SandboxConfig
from crossdock.sandbox.faults import FaultProfile

AUTH = {"Authorization": "Bearer SG.test"}
BUYER = "ann.buyer@example.com"


def message(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "personalizations": [{"to": [{"email": BUYER, "name": "Ann Buyer"}]}],
        "from": {"email": "orders@crossdock.example", "name": "Crossdock"},
        "subject": "Your order SF1 is running late",
        "content": [{"type": "text/plain", "value": "Hello, your parcel is late."}],
        "custom_args": {"template": "delivery_delayed"},
        **overrides,
    }
    return {k: v for k, v in body.items() if v is not None}


@pytest.fixture
def app() -> FastAPI:
    return create_app(SandboxConfig())


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://sandbox/mail") as http:
        yield http


async def send(
    client: httpx.AsyncClient, body: Any, key: str | None = None, auth: bool = True
) -> httpx.Response:
    headers = {**(AUTH if auth else {}), **({"Idempotency-Key": key} if key else {})}
    return await client.post("/v3/mail/send", json=body, headers=headers)


def notifications(app: FastAPI) -> list[Any]:
    return list(app.state.sandbox.ledger.entries(partner="mail", kind="notification"))


async def test_a_message_is_accepted_and_lands_in_the_inbox(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    response = await send(client, message(), key="order-1:notify:delayed")

    assert response.status_code == 202
    assert response.content == b""
    message_id = response.headers["X-Message-Id"]
    [sent] = (await client.get("/_sandbox/messages")).json()
    assert sent["message_id"] == message_id
    assert sent["to"] == [BUYER]
    assert sent["subject"] == "Your order SF1 is running late"
    assert sent["text"] == "Hello, your parcel is late."
    assert sent["custom_args"] == {"template": "delivery_delayed"}
    [entry] = notifications(app)
    assert (entry.reference, entry.idempotency_key) == (message_id, "order-1:notify:delayed")
    assert entry.details["subject"] == "Your order SF1 is running late"
    assert entry.details["custom_args"] == {"template": "delivery_delayed"}
    assert BUYER not in entry.model_dump_json()  # no personal data in the ledger


async def test_the_same_key_sends_once(client: httpx.AsyncClient, app: FastAPI) -> None:
    first = await send(client, message(), key="order-1:notify:lost")
    again = await send(client, message(), key="order-1:notify:lost")
    other_key = await send(client, message(), key="order-2:notify:lost")

    assert first.status_code == again.status_code == other_key.status_code == 202
    assert again.headers["X-Message-Id"] == first.headers["X-Message-Id"]
    assert again.headers["Idempotent-Replayed"] == "true"
    assert len(notifications(app)) == 2
    assert len((await client.get("/_sandbox/messages")).json()) == 2


async def test_a_key_reused_for_another_message_is_refused(client: httpx.AsyncClient) -> None:
    await send(client, message(), key="order-1:notify:lost")

    other = await send(client, message(subject="Something else"), key="order-1:notify:lost")

    assert other.status_code == 400
    [error] = other.json()["errors"]
    assert "order-1:notify:lost" in error["message"]


async def test_without_a_key_every_send_is_sent(client: httpx.AsyncClient, app: FastAPI) -> None:
    await send(client, message())
    await send(client, message())

    assert len(notifications(app)) == 2


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"personalizations": []}, "personalizations"),
        ({"personalizations": [{"to": []}]}, "personalizations.0.to"),
        (
            {"personalizations": [{"to": [{"email": "not-an-address"}]}]},
            "personalizations.0.to.0.email",
        ),
        ({"from": None}, "from"),
        ({"from": {"email": "nobody"}}, "from.email"),
        ({"subject": None}, "subject"),
        ({"content": []}, "content"),
        ({"content": [{"type": "text/plain", "value": ""}]}, "content.0.value"),
        (
            {
                "content": [
                    {"type": "text/html", "value": "<p>x</p>"},
                    {"type": "text/plain", "value": "x"},
                ]
            },
            "content.0.type",
        ),
        ({"custom_args": {"attempt": 1}}, "custom_args"),
    ],
)
async def test_invalid_messages_are_refused_as_sendgrid_does(
    client: httpx.AsyncClient, app: FastAPI, changes: dict[str, Any], field: str
) -> None:
    response = await send(client, message(**changes), key="order-1:notify:x")

    assert response.status_code == 400
    assert field in [error["field"] for error in response.json()["errors"]]
    assert notifications(app) == []
    # Refused before sending: the key is still free for the corrected message.
    assert (await send(client, message(), key="order-1:notify:x")).status_code == 202


async def test_a_subject_per_personalization_is_enough(client: httpx.AsyncClient) -> None:
    body = message(subject=None, personalizations=[{"to": [{"email": BUYER}], "subject": "Hi"}])

    assert (await send(client, body)).status_code == 202


async def test_no_api_key_is_401_and_bad_json_is_400(client: httpx.AsyncClient) -> None:
    anonymous = await send(client, message(), auth=False)
    garbled = await client.post("/v3/mail/send", content=b"{not json", headers=AUTH)

    assert anonymous.status_code == 401
    assert "authorization grant" in anonymous.json()["errors"][0]["message"]
    assert garbled.status_code == 400


async def test_faults_reach_the_mail_api_but_not_the_inbox() -> None:
    app = create_app(SandboxConfig(faults=FaultProfile.everywhere(error_rate=1.0)))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://sandbox/mail") as client:
        down = await send(client, message())
        inbox = await client.get("/_sandbox/messages")

    assert down.status_code == 503
    assert inbox.status_code == 200
