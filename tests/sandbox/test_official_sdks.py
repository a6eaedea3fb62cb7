"""The official `stripe` and `easypost` SDKs, pointed at the sandbox, work unchanged.

The SDKs are synchronous (requests), so these tests are plain functions talking to the
sandbox served by uvicorn on a real port.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest
import stripe
from easypost.easypost_client import EasyPostClient
from easypost.errors.api.invalid_request_error import InvalidRequestError
from easypost.models.shipment import Shipment
from easypost.models.tracker import Tracker

PARIS = {
    "name": "Ann Buyer",
    "street1": "1 Rue de Rivoli",
    "city": "Paris",
    "zip": "75001",
    "country": "FR",
}
HAMBURG = {
    "name": "Warehouse",
    "street1": "Am Sandtorkai 1",
    "city": "Hamburg",
    "zip": "20457",
    "country": "DE",
}
CUSTOMS = {
    "contents_type": "merchandise",
    "customs_certify": True,
    "customs_signer": "Warehouse",
    "eel_pfc": "NOEEI 30.37(a)",
    "customs_items": [
        {
            "description": "Stoneware mug",
            "quantity": 2,
            "value": 36.0,
            "currency": "EUR",
            "weight": 29.7,
            "hs_tariff_number": "691200",
            "origin_country": "DE",
        }
    ],
}


@pytest.fixture
def stripe_client(live_sandbox: str) -> stripe.StripeClient:
    return stripe.StripeClient(
        "sk_test_official_sdk",
        base_addresses={"api": f"{live_sandbox}/stripe"},
        max_network_retries=0,
    )


@pytest.fixture
def easypost_client(live_sandbox: str) -> EasyPostClient:
    return EasyPostClient("EZTK_official_sdk", api_base=f"{live_sandbox}/easypost/v2")


def authorize(client: stripe.StripeClient, payment_method: str, key: str | None = None) -> Any:
    params: Any = {
        "amount": 5000,
        "currency": "eur",
        "capture_method": "manual",
        "confirm": True,
        "payment_method": payment_method,
        "metadata": {"order": "order-storefront-SF1"},
    }
    options: Any = {"idempotency_key": key} if key else None
    return client.v1.payment_intents.create(params, options)


def test_stripe_sdk_authorize_capture_refund(stripe_client: stripe.StripeClient) -> None:
    intent = authorize(stripe_client, "pm_card_visa")
    assert intent.status == "requires_capture"
    assert intent.amount_capturable == 5000
    assert intent.metadata["order"] == "order-storefront-SF1"

    captured = stripe_client.v1.payment_intents.capture(intent.id, {"amount_to_capture": 4500})
    refund = stripe_client.v1.refunds.create({"payment_intent": intent.id, "amount": 1000})
    fetched = stripe_client.v1.payment_intents.retrieve(intent.id)

    assert isinstance(captured, stripe.PaymentIntent)
    assert (captured.status, captured.amount_received) == ("succeeded", 4500)
    assert isinstance(refund, stripe.Refund)
    assert (refund.status, refund.amount, refund.payment_intent) == ("succeeded", 1000, intent.id)
    assert fetched.status == "succeeded"


def test_stripe_sdk_sees_declines_as_card_errors(stripe_client: stripe.StripeClient) -> None:
    with pytest.raises(stripe.CardError) as caught:
        authorize(stripe_client, "pm_card_chargeDeclined")

    assert caught.value.code == "card_declined"
    assert caught.value.http_status == 402
    assert caught.value.error is not None
    assert caught.value.error.decline_code == "generic_decline"


def test_stripe_sdk_idempotency(stripe_client: stripe.StripeClient) -> None:
    key = f"sdk-{uuid.uuid4()}"
    first = authorize(stripe_client, "pm_card_visa", key)
    again = authorize(stripe_client, "pm_card_visa", key)

    with pytest.raises(stripe.IdempotencyError):
        stripe_client.v1.payment_intents.create(
            {"amount": 1, "currency": "eur"}, {"idempotency_key": key}
        )
    assert again.id == first.id


def test_stripe_sdk_cancel(stripe_client: stripe.StripeClient) -> None:
    intent = authorize(stripe_client, "pm_card_visa")

    canceled = stripe_client.v1.payment_intents.cancel(
        intent.id, {"cancellation_reason": "abandoned"}
    )

    assert canceled.status == "canceled"
    assert canceled.cancellation_reason == "abandoned"


def test_easypost_sdk_create_buy_track_refund(easypost_client: EasyPostClient) -> None:
    shipment = easypost_client.shipment.create(
        reference="order-storefront-SF1",
        to_address=PARIS,
        from_address=HAMBURG,
        parcel={"weight": 30.0},
        customs_info=CUSTOMS,
    )
    assert isinstance(shipment, Shipment)
    assert shipment.customs_info.customs_items[0].hs_tariff_number == "691200"

    lowest = shipment.lowest_rate()
    bought = easypost_client.shipment.buy(shipment.id, rate=lowest)
    tracker = easypost_client.tracker.retrieve(bought.tracker.id)
    refunded = easypost_client.shipment.refund(shipment.id)

    assert bought.selected_rate.id == lowest.id
    assert bought.postage_label.label_url.startswith("https://")
    assert isinstance(tracker, Tracker)
    assert (tracker.status, tracker.tracking_code) == ("pre_transit", bought.tracking_code)
    assert refunded.refund_status == "submitted"


def test_easypost_sdk_raises_its_own_errors(easypost_client: EasyPostClient) -> None:
    with pytest.raises(InvalidRequestError) as caught:
        easypost_client.shipment.create(
            to_address=PARIS, from_address=HAMBURG, parcel={"weight": 30.0}
        )

    assert caught.value.http_status == 422
    assert caught.value.code == "SHIPMENT.CUSTOMS_INFO.REQUIRED"
