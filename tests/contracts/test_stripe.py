"""Stripe: every request our payments and disputes clients send, and every answer the
sandbox gives, fit Stripe's OpenAPI spec (API version 2023-08-16)."""

from __future__ import annotations

import httpx

from crossdock.money import Money
from crossdock.partners.stripe_disputes import StripeDisputesClient
from tests.contracts.contracts import Contracts

EUROS = Money(amount=5000, currency="EUR")


def client(http: httpx.AsyncClient) -> StripeDisputesClient:
    return StripeDisputesClient("http://sandbox/stripe", "sk_test_crossdock", http=http)


async def test_payment_round_trip_fits_the_contract(
    checked_http: httpx.AsyncClient, contracts: Contracts
) -> None:
    stripe = client(checked_http)
    paid = await stripe.authorize(EUROS, "pm_card_visa", "order-1", "c1:auth")
    held = await stripe.authorize(EUROS, "pm_card_visa", "order-2", "c2:auth")
    await stripe.capture(paid.id, "c1:capture", amount=Money(amount=4000, currency="EUR"))
    await stripe.cancel(held.id, "c2:void")
    refund = await stripe.refund(paid.id, Money(amount=1500, currency="EUR"), "c1:refund")
    await stripe.retrieve_refund(refund.id)
    await stripe.retrieve(paid.id)

    assert {
        "PostPaymentIntents",
        "PostPaymentIntentsIntentCapture",
        "PostPaymentIntentsIntentCancel",
        "PostRefunds",
        "GetRefundsRefund",
        "GetPaymentIntentsIntent",
    } <= contracts.seen


async def test_dispute_answers_fit_the_contract(
    checked_http: httpx.AsyncClient, raw_http: httpx.AsyncClient, contracts: Contracts
) -> None:
    stripe = client(checked_http)
    paid = await stripe.authorize(EUROS, "pm_card_visa", "order-4", "c4:auth")
    await stripe.capture(paid.id, "c4:capture")
    opened = await raw_http.post(
        "/stripe/_sandbox/disputes", json={"payment_intent": paid.id, "amount": 1000}
    )
    dispute_id = opened.json()["id"]
    again = await raw_http.post(
        "/stripe/_sandbox/disputes", json={"payment_intent": paid.id, "amount": 1000}
    )

    await stripe.retrieve_dispute(dispute_id)
    await stripe.submit_evidence(
        dispute_id, {"uncategorized_text": "Delivered on time."}, "c4:evidence"
    )
    await stripe.close_dispute(again.json()["id"], "c4:close")

    assert {
        "GetDisputesDispute",
        "PostDisputesDispute",
        "PostDisputesDisputeClose",
    } <= contracts.seen
