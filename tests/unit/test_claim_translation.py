"""Marketplace claims read as dispute snapshots: eBay case and A-to-z claim statuses,
closure reasons and claim types translate into the dispute workflow's terms; and the claim
activities refuse, without retrying, what no marketplace would take."""

from __future__ import annotations

from typing import Any

import pytest
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities.disputes import DisputeActivities
from crossdock.models.dispute import (
    CloseDisputeInput,
    DisputeProvider,
    DisputeReason,
    ProviderStatus,
    SubmitEvidenceInput,
)
from crossdock.partners.amazon_claims import claim_snapshot
from crossdock.partners.ebay_cases import case_snapshot
from crossdock.partners.stripe_disputes import StripeDisputesClient
from crossdock.policies.disputes import claim_reason


def ebay_case(**fields: Any) -> dict[str, Any]:
    return {
        "caseId": 5100000001,
        "caseType": "ITEM_NOT_RECEIVED",
        "status": "OPEN",
        "orderId": "12-34567-89012",
        "claimAmount": {"value": "42.50", "currency": "EUR"},
        "respondByDate": {"value": "2026-11-30T10:00:00.000Z"},
        **fields,
    }


def atoz_claim(**fields: Any) -> dict[str, Any]:
    return {
        "ClaimId": "AZ-70000001",
        "AmazonOrderId": "303-1234567-1234567",
        "ClaimType": "ITEM_NOT_RECEIVED",
        "ClaimAmount": {"CurrencyCode": "EUR", "Amount": "42.50"},
        "RespondByDate": "2026-11-30T10:00:00Z",
        "ClaimStatus": "ACTION_REQUIRED",
        **fields,
    }


@pytest.mark.parametrize(
    ("source", "claim_type", "reason"),
    [
        ("ebay_case", "ITEM_NOT_RECEIVED", DisputeReason.PRODUCT_NOT_RECEIVED),
        ("ebay_case", "RETURN", DisputeReason.PRODUCT_UNACCEPTABLE),
        ("amazon", "NOT_AS_DESCRIBED", DisputeReason.PRODUCT_UNACCEPTABLE),
        ("amazon", "RETURN_NOT_REFUNDED", DisputeReason.CREDIT_NOT_PROCESSED),
        ("amazon", "SOMETHING_NEW", DisputeReason.GENERAL),
        ("walmart", "ITEM_NOT_RECEIVED", DisputeReason.GENERAL),
    ],
)
def test_claim_types_map_to_reason_codes_as_data(
    source: str, claim_type: str, reason: DisputeReason
) -> None:
    assert claim_reason(source, claim_type) is reason


@pytest.mark.parametrize(
    ("fields", "status"),
    [
        ({}, ProviderStatus.NEEDS_RESPONSE),
        ({"status": "WAITING_CS"}, ProviderStatus.UNDER_REVIEW),
        ({"status": "ON_HOLD"}, ProviderStatus.UNDER_REVIEW),
        ({"status": "CLOSED", "buyerClosureReason": "AGENT_CLOSE_FOR_SELLER"}, ProviderStatus.WON),
        ({"status": "CS_CLOSED", "buyerClosureReason": "ITEM_ARRIVED"}, ProviderStatus.WON),
        ({"status": "CLOSED", "buyerClosureReason": "BUYER_REFUNDED"}, ProviderStatus.LOST),
        ({"status": "CLOSED"}, ProviderStatus.LOST),
    ],
)
def test_ebay_case_statuses_and_closures(fields: dict[str, Any], status: ProviderStatus) -> None:
    assert case_snapshot(ebay_case(**fields)).status is status


def test_an_ebay_case_names_its_order_amount_and_deadline() -> None:
    snapshot = case_snapshot(ebay_case(shipmentTrackingDetails={"trackingNumber": "JD1"}))
    assert snapshot.id == "5100000001" and snapshot.order_workflow_id == "order-ebay-12-34567-89012"
    assert (snapshot.amount.amount, snapshot.amount.currency) == (4250, "EUR")
    assert snapshot.due_by is not None and snapshot.due_by.day == 30
    assert snapshot.submission_count == 1  # the tracking was given
    with pytest.raises(ValueError, match="no 'claimAmount'"):
        case_snapshot({k: v for k, v in ebay_case().items() if k != "claimAmount"})


@pytest.mark.parametrize(
    ("fields", "status"),
    [
        ({}, ProviderStatus.NEEDS_RESPONSE),
        ({"ClaimStatus": "UNDER_REVIEW"}, ProviderStatus.UNDER_REVIEW),
        ({"ClaimStatus": "CLOSED", "Decision": "DENIED"}, ProviderStatus.WON),
        ({"ClaimStatus": "CLOSED", "Decision": "WITHDRAWN"}, ProviderStatus.WON),
        ({"ClaimStatus": "CLOSED", "Decision": "GRANTED"}, ProviderStatus.LOST),
    ],
)
def test_atoz_claim_statuses_and_decisions(fields: dict[str, Any], status: ProviderStatus) -> None:
    assert claim_snapshot(atoz_claim(**fields)).status is status


def test_an_atoz_claim_names_its_order_and_counts_a_representation() -> None:
    snapshot = claim_snapshot(atoz_claim(SellerResponse={"ResponseType": "REPRESENTATION"}))
    assert snapshot.order_workflow_id == "order-amazon-303-1234567-1234567"
    assert snapshot.submission_count == 1
    refunded = claim_snapshot(atoz_claim(SellerResponse={"ResponseType": "REFUND"}))
    assert refunded.submission_count == 0
    with pytest.raises(ValueError, match="no 'ClaimId'"):
        claim_snapshot({k: v for k, v in atoz_claim().items() if k != "ClaimId"})


async def test_claims_without_a_connected_marketplace_are_refused_not_retried() -> None:
    activities = DisputeActivities(
        client=None,  # type: ignore[arg-type]  # not reached: no order is read
        disputes=StripeDisputesClient("http://unused", "sk_test_x"),
    )
    submit = SubmitEvidenceInput(
        dispute_id="5100000001",
        evidence={"shipping_carrier": "DHL", "shipping_tracking_number": "JD1"},
        idempotency_key="dispute-ebay-case-5100000001/submit-1",
        provider=DisputeProvider.EBAY_CASE,
    )
    env = ActivityEnvironment()
    with pytest.raises(ApplicationError, match="no eBay cases client") as refused:
        await env.run(activities.submit_dispute_evidence, submit)
    assert refused.value.non_retryable
    close = CloseDisputeInput(
        dispute_id="AZ-1", idempotency_key="k", provider=DisputeProvider.AMAZON
    )
    with pytest.raises(ApplicationError, match="no Amazon A-to-z client"):
        await env.run(activities.close_dispute, close)


def test_ebay_cases_are_filed_under_the_ebay_marketplace() -> None:
    assert DisputeProvider.EBAY_CASE.marketplace == "ebay"
    assert DisputeProvider.AMAZON.marketplace == "amazon"
