"""The Stripe-shaped payments sandbox: wire format, money rules, idempotency, ledger."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import httpx
import pytest
from fastapi import FastAPI

from crossdock.sandbox.app import create_app
from crossdock.sandbox.context import SandboxConfig, SandboxContext
from crossdock.sandbox.core.ledger import LedgerEntry
from crossdock.sandbox.stripe import routes as stripe_routes
from crossdock.sandbox.stripe.form import parse_form

AUTH = {"Authorization": "Bearer sk_test_crossdock"}


def _offline(request: httpx.Request) -> httpx.Response:
    raise httpx.ConnectError("payments push no webhooks in these tests", request=request)


@pytest.fixture
def app() -> FastAPI:
    """Only the payments partner: building every partner's routes costs ~0.1 s a test.
    `test_the_app_mounts_payments` checks the real `create_app` wiring."""
    ctx = SandboxContext(
        config=SandboxConfig(), http=httpx.AsyncClient(transport=httpx.MockTransport(_offline))
    )
    app = FastAPI()
    app.state.sandbox = ctx
    app.include_router(stripe_routes.build(ctx))
    return app


@pytest.fixture
async def stripe(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://sandbox/stripe") as client:
        yield client


@pytest.fixture
def ledger(app: FastAPI) -> Ledger:
    """What the payments sandbox recorded, optionally of one kind."""
    ctx: SandboxContext = app.state.sandbox

    def entries(kind: str | None = None) -> list[LedgerEntry]:
        return ctx.ledger.entries(partner="stripe", kind=kind)

    return entries


Ledger = Callable[..., list[LedgerEntry]]


async def authorize(
    client: httpx.AsyncClient,
    key: str | None = None,
    *,
    amount: int = 1500,
    currency: str = "jpy",
    payment_method: str = "pm_card_visa",
    **extra: str,
) -> httpx.Response:
    form = {
        "amount": str(amount),
        "currency": currency,
        "capture_method": "manual",
        "confirm": "true",
        "payment_method": payment_method,
        "metadata[order]": "order-storefront-SF1",
        **extra,
    }
    headers = {**AUTH, **({"Idempotency-Key": key} if key else {})}
    return await client.post("/v1/payment_intents", data=form, headers=headers)


async def authorize_at(client: httpx.AsyncClient, path: str) -> httpx.Response:
    form = {
        "amount": "990",
        "currency": "eur",
        "capture_method": "manual",
        "confirm": "true",
        "payment_method": "pm_card_visa",
    }
    return await client.post(path, data=form, headers=AUTH)


async def captured(client: httpx.AsyncClient, amount: int = 5000) -> str:
    intent = (await authorize(client, amount=amount, currency="eur")).json()
    response = await client.post(f"/v1/payment_intents/{intent['id']}/capture", headers=AUTH)
    assert response.status_code == 200
    return str(intent["id"])


async def test_missing_api_key_is_401_in_stripes_shape(
    stripe: httpx.AsyncClient, ledger: Ledger
) -> None:
    response = await stripe.post("/v1/payment_intents", data={"amount": "100"})

    assert response.status_code == 401
    assert response.json()["error"]["type"] == "invalid_request_error"
    assert "API key" in response.json()["error"]["message"]
    assert ledger() == []


async def test_live_keys_are_refused(stripe: httpx.AsyncClient) -> None:
    response = await stripe.get(
        "/v1/payment_intents/pi_x", headers={"Authorization": "Bearer sk_live_realmoney1234"}
    )

    assert response.status_code == 401
    assert "Invalid API Key" in response.json()["error"]["message"]


async def test_manual_capture_authorization_holds_the_amount(
    stripe: httpx.AsyncClient, ledger: Ledger
) -> None:
    response = await authorize(stripe, "order-1:authorize", amount=1500, currency="JPY")

    intent = response.json()
    assert response.status_code == 200
    assert intent["object"] == "payment_intent"
    assert intent["id"].startswith("pi_")
    assert intent["status"] == "requires_capture"
    assert (intent["amount"], intent["amount_capturable"], intent["amount_received"]) == (
        1500,
        1500,
        0,
    )
    assert intent["currency"] == "jpy"
    assert intent["metadata"] == {"order": "order-storefront-SF1"}
    [entry] = ledger()
    assert (entry.kind, entry.reference, entry.amount, entry.currency) == (
        "authorization",
        intent["id"],
        1500,
        "JPY",
    )
    assert entry.idempotency_key == "order-1:authorize"
    assert entry.details["order"] == "order-storefront-SF1"


async def test_replay_returns_the_stored_response_without_a_new_effect(
    stripe: httpx.AsyncClient,
    ledger: Ledger,
) -> None:
    first = await authorize(stripe, "order-1:authorize")
    again = await authorize(stripe, "order-1:authorize")

    assert again.json() == first.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert len(ledger("authorization")) == 1


async def test_reusing_a_key_with_other_params_is_an_idempotency_error(
    stripe: httpx.AsyncClient,
    ledger: Ledger,
) -> None:
    await authorize(stripe, "order-1:authorize", amount=1500)
    response = await authorize(stripe, "order-1:authorize", amount=1600)

    assert response.status_code == 400
    assert response.json()["error"]["type"] == "idempotency_error"
    assert "order-1:authorize" in response.json()["error"]["message"]
    assert len(ledger()) == 1


async def test_declined_card_is_402_and_the_decline_is_replayed(
    stripe: httpx.AsyncClient,
    ledger: Ledger,
) -> None:
    response = await authorize(stripe, "k-decline", payment_method="pm_card_chargeDeclined")
    replay = await authorize(stripe, "k-decline", payment_method="pm_card_chargeDeclined")

    error = response.json()["error"]
    assert response.status_code == 402
    assert (error["type"], error["code"], error["decline_code"]) == (
        "card_error",
        "card_declined",
        "generic_decline",
    )
    assert error["payment_intent"]["status"] == "requires_payment_method"
    assert replay.status_code == 402
    assert replay.json() == response.json()
    assert ledger() == []
    # The intent survives the decline, as at Stripe.
    intent = await stripe.get(f"/v1/payment_intents/{error['payment_intent']['id']}", headers=AUTH)
    assert intent.json()["last_payment_error"]["decline_code"] == "generic_decline"


@pytest.mark.parametrize(
    "payment_method", ["pm_card_insufficientFunds", "pm_card_chargeDeclinedInsufficientFunds"]
)
async def test_insufficient_funds(stripe: httpx.AsyncClient, payment_method: str) -> None:
    response = await authorize(stripe, payment_method=payment_method)

    assert response.status_code == 402
    assert response.json()["error"]["code"] == "card_declined"
    assert response.json()["error"]["decline_code"] == "insufficient_funds"


async def test_unconfirmed_intent_waits_for_confirmation(
    stripe: httpx.AsyncClient, ledger: Ledger
) -> None:
    response = await authorize(stripe, confirm="false")
    intent = response.json()
    assert intent["status"] == "requires_confirmation"
    assert ledger() == []

    confirmed = await stripe.post(f"/v1/payment_intents/{intent['id']}/confirm", headers=AUTH)

    assert confirmed.json()["status"] == "requires_capture"
    assert len(ledger("authorization")) == 1


async def test_partial_capture_releases_the_rest(stripe: httpx.AsyncClient, ledger: Ledger) -> None:
    intent = (await authorize(stripe, amount=5000, currency="eur")).json()
    path = f"/v1/payment_intents/{intent['id']}/capture"

    too_much = await stripe.post(path, data={"amount_to_capture": "5001"}, headers=AUTH)
    response = await stripe.post(path, data={"amount_to_capture": "4200"}, headers=AUTH)
    twice = await stripe.post(path, headers=AUTH)

    assert too_much.status_code == 400
    assert too_much.json()["error"]["code"] == "amount_too_large"
    assert too_much.json()["error"]["param"] == "amount_to_capture"
    captured_intent = response.json()
    assert captured_intent["status"] == "succeeded"
    assert (captured_intent["amount_received"], captured_intent["amount_capturable"]) == (4200, 0)
    assert twice.status_code == 400
    assert twice.json()["error"]["code"] == "payment_intent_unexpected_state"
    [capture] = ledger("capture")
    assert (capture.amount, capture.currency) == (4200, "EUR")


async def test_cancel_voids_an_authorization_but_not_a_capture(
    stripe: httpx.AsyncClient, ledger: Ledger
) -> None:
    held = (await authorize(stripe, amount=2500, currency="usd")).json()
    canceled = await stripe.post(
        f"/v1/payment_intents/{held['id']}/cancel",
        data={"cancellation_reason": "requested_by_customer"},
        headers=AUTH,
    )
    paid = await captured(stripe)
    refused = await stripe.post(f"/v1/payment_intents/{paid}/cancel", headers=AUTH)

    assert canceled.json()["status"] == "canceled"
    assert canceled.json()["cancellation_reason"] == "requested_by_customer"
    assert canceled.json()["amount_capturable"] == 0
    [cancellation] = ledger("cancellation")
    assert (cancellation.reference, cancellation.amount) == (held["id"], 2500)
    assert refused.status_code == 400
    assert refused.json()["error"]["message"].startswith(
        "You cannot cancel this PaymentIntent because it has a status of succeeded."
    )


async def test_cancel_refuses_an_unknown_reason(stripe: httpx.AsyncClient) -> None:
    held = (await authorize(stripe)).json()
    response = await stripe.post(
        f"/v1/payment_intents/{held['id']}/cancel",
        data={"cancellation_reason": "changed_mind"},
        headers=AUTH,
    )

    assert response.status_code == 400
    assert response.json()["error"]["param"] == "cancellation_reason"
    assert (await stripe.get(f"/v1/payment_intents/{held['id']}", headers=AUTH)).json()[
        "status"
    ] == "requires_capture"


async def test_refunds_never_exceed_what_was_received(
    stripe: httpx.AsyncClient, ledger: Ledger
) -> None:
    intent_id = await captured(stripe, amount=5000)

    partial = await stripe.post(
        "/v1/refunds", data={"payment_intent": intent_id, "amount": "1200"}, headers=AUTH
    )
    too_much = await stripe.post(
        "/v1/refunds", data={"payment_intent": intent_id, "amount": "3801"}, headers=AUTH
    )
    rest = await stripe.post("/v1/refunds", data={"payment_intent": intent_id}, headers=AUTH)
    none_left = await stripe.post(
        "/v1/refunds", data={"payment_intent": intent_id, "amount": "1"}, headers=AUTH
    )

    assert partial.json()["object"] == "refund"
    assert (partial.json()["status"], partial.json()["amount"]) == ("succeeded", 1200)
    assert too_much.status_code == 400
    assert too_much.json()["error"]["code"] == "amount_too_large"
    assert "38.00 EUR" in too_much.json()["error"]["message"]
    assert rest.json()["amount"] == 3800
    assert none_left.json()["error"]["code"] == "charge_already_refunded"
    assert [e.amount for e in ledger("refund")] == [1200, 3800]
    fetched = await stripe.get(f"/v1/refunds/{rest.json()['id']}", headers=AUTH)
    assert fetched.json() == rest.json()


async def test_nothing_captured_means_nothing_to_refund(
    stripe: httpx.AsyncClient, ledger: Ledger
) -> None:
    held = (await authorize(stripe)).json()

    response = await stripe.post("/v1/refunds", data={"payment_intent": held["id"]}, headers=AUTH)

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "payment_intent_unexpected_state"
    assert ledger("refund") == []


async def test_refund_replay_adds_no_second_refund(
    stripe: httpx.AsyncClient, ledger: Ledger
) -> None:
    intent_id = await captured(stripe)
    headers = {**AUTH, "Idempotency-Key": "return-1:refund"}
    form = {"payment_intent": intent_id, "amount": "1000"}

    first = await stripe.post("/v1/refunds", data=form, headers=headers)
    again = await stripe.post("/v1/refunds", data=form, headers=headers)

    assert again.json()["id"] == first.json()["id"]
    assert len(ledger("refund")) == 1


@pytest.mark.parametrize(
    ("form", "param", "code"),
    [
        ({"currency": "eur"}, "amount", "parameter_missing"),
        ({"amount": "-5", "currency": "eur"}, "amount", "parameter_invalid_integer"),
        ({"amount": "12.50", "currency": "eur"}, "amount", "parameter_invalid_integer"),
        ({"amount": "100", "currency": "xyz"}, "currency", None),
        (
            {"amount": "100", "currency": "eur", "capture_methd": "manual"},
            "capture_methd",
            "parameter_unknown",
        ),
        ({"amount": "100", "currency": "eur", "capture_method": "later"}, "capture_method", None),
    ],
)
async def test_bad_parameters_are_named(
    stripe: httpx.AsyncClient, form: dict[str, str], param: str, code: str | None
) -> None:
    response = await stripe.post("/v1/payment_intents", data=form, headers=AUTH)

    error = response.json()["error"]
    assert response.status_code == 400
    assert error["param"] == param
    assert error.get("code") == code
    assert param in error["message"]


async def test_unknown_intent_is_404_resource_missing(stripe: httpx.AsyncClient) -> None:
    response = await stripe.get("/v1/payment_intents/pi_nope", headers=AUTH)

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "resource_missing"
    assert "pi_nope" in response.json()["error"]["message"]


def test_form_nesting_follows_stripes_bracket_encoding() -> None:
    body = b"amount=100&metadata[order]=A1&metadata[rma]=R9&items[0][price]=p_1&description="

    assert parse_form(body) == {
        "amount": "100",
        "metadata": {"order": "A1", "rma": "R9"},
        "items": {"0": {"price": "p_1"}},
        "description": "",
    }


async def test_the_app_mounts_payments() -> None:
    app = create_app(SandboxConfig())
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://sandbox") as client:
        response = await authorize_at(client, "/stripe/v1/payment_intents")
        ledger = await client.get("/_sandbox/ledger", params={"partner": "stripe"})

    assert response.json()["status"] == "requires_capture"
    assert [entry["kind"] for entry in ledger.json()] == ["authorization"]


async def test_a_refused_bad_request_does_not_burn_the_key(
    stripe: httpx.AsyncClient, ledger: Ledger
) -> None:
    """As at Stripe: parameter errors happen before execution, so nothing is saved."""
    headers = {**AUTH, "Idempotency-Key": "order-1:authorize"}
    bad = await stripe.post(
        "/v1/payment_intents", data={"amount": "15.00", "currency": "eur"}, headers=headers
    )
    fixed = await authorize(stripe, "order-1:authorize")

    assert bad.status_code == 400
    assert fixed.status_code == 200
    assert len(ledger("authorization")) == 1
