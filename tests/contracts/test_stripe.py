"""Stripe: every request our payments and disputes clients send, and every answer the
sandbox gives, fit Stripe's OpenAPI spec (API version 2023-08-16)."""

from __future__ import annotations

import httpx

from crossdock.money import Money
from crossdock.partners.evidence_pdf import text_pdf
from crossdock.partners.stripe_disputes import StripeDisputesClient
from tests.contracts.contracts import Contracts

EUROS = Money(amount=5000, currency="EUR")
AUTH = {"Authorization": "Bearer sk_test_crossdock"}


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


async def open_dispute(stripe: StripeDisputesClient, raw_http: httpx.AsyncClient, n: int) -> str:
    paid = await stripe.authorize(EUROS, "pm_card_visa", f"order-f{n}", f"f{n}:auth")
    await stripe.capture(paid.id, f"f{n}:capture")
    opened = await raw_http.post("/stripe/_sandbox/disputes", json={"payment_intent": paid.id})
    return str(opened.json()["id"])


async def test_document_evidence_is_uploaded_as_files_then_referenced(
    checked_http: httpx.AsyncClient, raw_http: httpx.AsyncClient, contracts: Contracts
) -> None:
    stripe = client(checked_http)
    dispute_id = await open_dispute(stripe, raw_http, 1)
    evidence = {
        "receipt": "Order f1: 1 x Scarf, EUR 50.00, paid 2026-11-02.",
        "shipping_documentation": "DHL EZ1000000001, delivered 2026-11-05 (signed: M. Rossi).",
        "shipping_tracking_number": "EZ1000000001",
    }

    await stripe.submit_evidence(dispute_id, evidence, "f1:evidence")
    first = (await raw_http.get(f"/stripe/v1/disputes/{dispute_id}", headers=AUTH)).json()
    # A retry: the uploads replay under their keys, so the submission's parameters are
    # the same and Stripe replays it too (new file ids would be an idempotency error).
    await stripe.submit_evidence(dispute_id, evidence, "f1:evidence")

    shown = (await raw_http.get(f"/stripe/v1/disputes/{dispute_id}", headers=AUTH)).json()
    receipt, shipping = shown["evidence"]["receipt"], shown["evidence"]["shipping_documentation"]
    assert receipt.startswith("file_") and shipping.startswith("file_")
    assert shown["evidence"]["shipping_tracking_number"] == "EZ1000000001"
    upload = (await raw_http.get(f"/stripe/v1/files/{receipt}", headers=AUTH)).json()
    assert (upload["purpose"], upload["type"]) == ("dispute_evidence", "pdf")
    assert "PostFiles" in contracts.seen
    assert shown["evidence"] == first["evidence"]


async def test_prose_in_a_file_field_is_refused_as_stripe_does(
    raw_http: httpx.AsyncClient,
) -> None:
    stripe = client(raw_http)
    dispute_id = await open_dispute(stripe, raw_http, 2)

    response = await raw_http.post(
        f"/stripe/v1/disputes/{dispute_id}",
        data={"evidence[receipt]": "Paid in full on 2 November.", "submit": "true"},
        headers=AUTH,
    )

    assert response.status_code == 400
    error = response.json()["error"]
    assert (error["code"], error["param"]) == ("resource_missing", "evidence[receipt]")


async def test_dispute_evidence_must_be_a_pdf_jpeg_or_png(raw_http: httpx.AsyncClient) -> None:
    text = await raw_http.post(
        "/stripe/v1/files",
        data={"purpose": "dispute_evidence"},
        files={"file": ("receipt.txt", b"Paid in full.", "text/plain")},
        headers=AUTH,
    )
    pdf = await raw_http.post(
        "/stripe/v1/files",
        data={"purpose": "dispute_evidence"},
        files={"file": ("receipt.pdf", text_pdf("Receipt", "Paid in full."), "application/pdf")},
        headers=AUTH,
    )

    assert text.status_code == 400 and text.json()["error"]["param"] == "file"
    assert pdf.status_code == 200 and pdf.json()["id"].startswith("file_")
