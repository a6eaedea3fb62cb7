"""The payments adapter against the sandbox: contracts, idempotency, error classes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from urllib.parse import parse_qs

import httpx
import pytest
from fastapi import FastAPI

from crossdock.money import Money
from crossdock.partners.errors import PartnerRejected, PartnerUnavailable, RateLimited
from crossdock.partners.payments import PaymentIntentStatus, PaymentsClient, RefundStatus
from crossdock.sandbox.app import create_app
from crossdock.sandbox.context import SandboxConfig, SandboxContext
from crossdock.sandbox.faults import FaultProfile
from crossdock.sandbox.stripe import routes as sandbox_stripe

_NO_NETWORK = httpx.MockTransport(lambda request: httpx.Response(503))
YEN = Money(amount=1500, currency="JPY")
EUROS = Money(amount=5000, currency="EUR")


def client_for(app: FastAPI) -> PaymentsClient:
    http = httpx.AsyncClient(transport=httpx.ASGITransport(app=app))
    return PaymentsClient("http://sandbox/stripe", "sk_test_crossdock", http=http)


@pytest.fixture
def app() -> FastAPI:
    """The payments partner alone (the fault tests below use the whole sandbox app)."""
    ctx = SandboxContext(config=SandboxConfig(), http=httpx.AsyncClient(transport=_NO_NETWORK))
    app = FastAPI()
    app.state.sandbox = ctx
    app.include_router(sandbox_stripe.build(ctx))
    return app


@pytest.fixture
async def payments(app: FastAPI) -> AsyncIterator[PaymentsClient]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app)) as http:
        yield PaymentsClient("http://sandbox/stripe", "sk_test_crossdock", http=http)


async def test_authorize_holds_the_amount_in_our_money_terms(payments: PaymentsClient) -> None:
    intent = await payments.authorize(YEN, "pm_card_visa", "order-storefront-SF1", "o1:auth")

    assert intent.status is PaymentIntentStatus.REQUIRES_CAPTURE
    assert intent.currency == "JPY"
    assert intent.money == YEN
    assert intent.capturable == YEN
    assert intent.received == Money.zero("JPY")
    assert intent.metadata == {"order": "order-storefront-SF1"}
    assert intent.capture_method == "manual"


async def test_retried_authorize_replays_instead_of_charging_twice(
    payments: PaymentsClient, app: FastAPI
) -> None:
    first = await payments.authorize(EUROS, "pm_card_visa", "order-1", "o1:auth")
    again = await payments.authorize(EUROS, "pm_card_visa", "order-1", "o1:auth")

    assert again == first
    assert len(app.state.sandbox.ledger.entries(kind="authorization")) == 1


async def test_capture_cancel_refund_round_trip(payments: PaymentsClient, app: FastAPI) -> None:
    paid = await payments.authorize(EUROS, "pm_card_visa", "order-1", "o1:auth")
    held = await payments.authorize(EUROS, "pm_card_visa", "order-2", "o2:auth")

    captured = await payments.capture(
        paid.id, "o1:capture", amount=Money(amount=4000, currency="EUR")
    )
    voided = await payments.cancel(held.id, "o2:void")
    refund = await payments.refund(paid.id, Money(amount=1500, currency="EUR"), "o1:refund")
    fetched = await payments.retrieve(paid.id)

    assert captured.status is PaymentIntentStatus.SUCCEEDED
    assert captured.received == Money(amount=4000, currency="EUR")
    assert voided.status is PaymentIntentStatus.CANCELED
    assert voided.cancellation_reason == "requested_by_customer"
    assert refund.status is RefundStatus.SUCCEEDED
    assert refund.money == Money(amount=1500, currency="EUR")
    assert refund.payment_intent == paid.id
    assert fetched == captured
    kinds = [e.kind for e in app.state.sandbox.ledger.entries(partner="stripe")]
    assert kinds == ["authorization", "authorization", "capture", "cancellation", "refund"]


async def test_a_decline_is_a_business_rejection_naming_the_reason(
    payments: PaymentsClient,
) -> None:
    with pytest.raises(PartnerRejected) as caught:
        await payments.authorize(EUROS, "pm_card_insufficientFunds", "order-1", "o1:auth")

    assert caught.value.code == "card_declined"
    assert caught.value.status == 402
    assert not caught.value.retryable
    assert "insufficient_funds" in caught.value.message


async def test_refunding_more_than_captured_is_rejected(payments: PaymentsClient) -> None:
    paid = await payments.authorize(EUROS, "pm_card_visa", "order-1", "o1:auth")
    await payments.capture(paid.id, "o1:capture")

    with pytest.raises(PartnerRejected) as caught:
        await payments.refund(paid.id, Money(amount=5001, currency="EUR"), "o1:refund")

    assert caught.value.code == "amount_too_large"


async def test_capturing_twice_with_a_new_key_is_rejected(payments: PaymentsClient) -> None:
    paid = await payments.authorize(EUROS, "pm_card_visa", "order-1", "o1:auth")
    await payments.capture(paid.id, "o1:capture")

    with pytest.raises(PartnerRejected) as caught:
        await payments.capture(paid.id, "o1:capture-again")

    assert caught.value.code == "payment_intent_unexpected_state"


async def test_429_carries_the_partners_retry_after() -> None:
    faults = FaultProfile.everywhere(rate_limit_per_second=0.2, burst=1)
    payments = client_for(create_app(SandboxConfig(faults=faults)))
    await payments.authorize(EUROS, "pm_card_visa", "order-1", "o1:auth")

    with pytest.raises(RateLimited) as caught:
        await payments.retrieve("pi_whatever")

    assert caught.value.status == 429
    assert caught.value.retry_after is not None and caught.value.retry_after >= 1
    assert caught.value.retryable


async def test_outage_is_retryable_unavailability() -> None:
    payments = client_for(create_app(SandboxConfig(faults=FaultProfile.everywhere(error_rate=1.0))))

    with pytest.raises(PartnerUnavailable) as caught:
        await payments.authorize(EUROS, "pm_card_visa", "order-1", "o1:auth")

    assert caught.value.status == 503
    assert caught.value.retryable


async def test_unreachable_provider_is_unavailability() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    http = httpx.AsyncClient(transport=httpx.MockTransport(refuse))
    payments = PaymentsClient("http://nowhere/stripe", "sk_test_x", http=http)

    with pytest.raises(PartnerUnavailable):
        await payments.retrieve("pi_1")


async def test_requests_are_form_encoded_as_stripe_expects() -> None:
    seen: list[httpx.Request] = []

    def record(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        intent = {"id": "pi_1", "status": "requires_capture", "amount": 1500, "currency": "jpy"}
        return httpx.Response(200, json=intent)

    http = httpx.AsyncClient(transport=httpx.MockTransport(record))
    payments = PaymentsClient("https://api.stripe.test/", "sk_test_abc", http=http)

    await payments.authorize(YEN, "pm_card_visa", "order-7", "order-7:authorize")

    [request] = seen
    assert str(request.url) == "https://api.stripe.test/v1/payment_intents"
    assert request.headers["Authorization"] == "Bearer sk_test_abc"
    assert request.headers["Idempotency-Key"] == "order-7:authorize"
    assert request.headers["Content-Type"] == "application/x-www-form-urlencoded"
    form = {k: v[0] for k, v in parse_qs(request.content.decode()).items()}
    assert form["amount"] == "1500"
    assert form["currency"] == "jpy"
    assert form["capture_method"] == "manual"
    assert form["confirm"] == "true"
    assert form["metadata[order]"] == "order-7"
