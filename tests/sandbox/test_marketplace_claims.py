"""Marketplace claims in the sandbox: eBay INR/return cases (Post-Order case management)
and Amazon A-to-z claims (the modelled Seller Central surface), read by our clients as
dispute snapshots and answered once by state."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI

from crossdock.models.dispute import DisputeReason, ProviderStatus
from crossdock.models.order import Channel
from crossdock.partners.amazon_claims import AmazonClaimsClient
from crossdock.partners.ebay_cases import EbayCasesClient
from crossdock.partners.errors import PartnerRejected
from crossdock.sandbox.app import create_app
from crossdock.sandbox.context import SandboxContext
from tests.claim_orders import (
    AMAZON_AUTH,
    file_atoz_claim,
    open_ebay_case,
    shipped_amazon_order,
    shipped_ebay_order,
)
from tests.factories import order

CASES = "/ebay/post-order/v2/casemanagement"
CLAIMS = "/amazon/atoz/v0/claims"
IAF = {"Authorization": "IAF v^1.1#test"}
_numbers = itertools.count(1)


@pytest.fixture(scope="module")
def app() -> FastAPI:
    return create_app()


@pytest.fixture
async def http(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://sandbox") as client:
        yield client


@pytest.fixture
def cases(http: httpx.AsyncClient) -> EbayCasesClient:
    return EbayCasesClient("http://sandbox/ebay", "v^1.1#test", http=http)


@pytest.fixture
def atoz(http: httpx.AsyncClient) -> AmazonClaimsClient:
    return AmazonClaimsClient("http://sandbox/amazon", "Atza|test", http=http)


def ledger(app: FastAPI, kind: str, reference: str) -> int:
    ctx: SandboxContext = app.state.sandbox
    return len(ctx.ledger.entries(kind=kind, reference=reference))


async def ebay_case(
    http: httpx.AsyncClient, case_type: str = "ITEM_NOT_RECEIVED"
) -> dict[str, str]:
    order_id = f"28-{next(_numbers):05d}-77777"
    await shipped_ebay_order(http, order_id)
    opened = await open_ebay_case(http, order_id, case_type)
    # eBay's case names no order (only the line); the test keeps the one it placed.
    return {"order": order_id} | {k: str(v) for k, v in opened.items()}


async def atoz_claim(http: httpx.AsyncClient, claim_type: str = "ITEM_NOT_RECEIVED") -> str:
    order_id = f"303-{next(_numbers):07d}-1234567"
    await shipped_amazon_order(http, order_id)
    return str((await file_atoz_claim(http, order_id, claim_type))["ClaimId"])


class TestEbayCases:
    async def test_a_case_has_ebays_shape_and_is_found_by_search(
        self, http: httpx.AsyncClient
    ) -> None:
        opened = await ebay_case(http)
        got = (await http.get(f"{CASES}/{opened['caseId']}", headers=IAF)).json()
        assert got["status"] == "OPEN" and got["caseType"] == "ITEM_NOT_RECEIVED"
        assert set(got["claimAmount"]) == {"value", "currency"}
        assert got["respondByDate"]["value"].endswith("Z")
        found = (
            await http.get(f"{CASES}/search", params={"case_status_filter": "OPEN"}, headers=IAF)
        ).json()
        assert opened["caseId"] in {m["caseId"] for m in found["members"]}
        assert found["paginationOutput"]["totalEntries"] == found["totalNumberOfCases"]

    async def test_cases_need_a_token_a_shipped_order_and_a_known_type(
        self, http: httpx.AsyncClient
    ) -> None:
        assert (await http.get(f"{CASES}/1")).status_code == 401
        assert (await http.get(f"{CASES}/1", headers=IAF)).status_code == 404
        unshipped = f"28-{next(_numbers):05d}-88888"
        placed = order(channel=Channel.EBAY, channel_order_id=unshipped)
        await http.post("/ebay/_sandbox/orders", json=placed.model_dump(mode="json"))
        refused = await http.post("/ebay/_sandbox/cases", json={"order_id": unshipped})
        assert refused.status_code == 400 and "has not shipped" in refused.text
        await shipped_ebay_order(http, unshipped + "0")
        wrong = await http.post(
            "/ebay/_sandbox/cases", json={"order_id": unshipped + "0", "case_type": "SNAD"}
        )
        assert wrong.status_code == 400 and "ITEM_NOT_RECEIVED or RETURN" in wrong.text

    async def test_shipment_info_is_given_once_and_ebay_decides_after(
        self, app: FastAPI, http: httpx.AsyncClient, cases: EbayCasesClient
    ) -> None:
        opened = await ebay_case(http)
        case_id = opened["caseId"]
        before = await cases.get_case(case_id)
        assert (before.reason, before.status) == (
            DisputeReason.PRODUCT_NOT_RECEIVED,
            ProviderStatus.NEEDS_RESPONSE,
        )
        assert "orderId" not in opened
        assert before.order_workflow_id == f"order-ebay-{opened['order']}"
        first = await cases.provide_shipment_info(case_id, "DHL", "JD0146001")
        again = await cases.provide_shipment_info(case_id, "DHL", "JD0146001")  # a retry
        assert first.status == again.status == ProviderStatus.UNDER_REVIEW
        assert again.submission_count == 1
        assert ledger(app, "case_shipment_info", case_id) == 1
        with pytest.raises(PartnerRejected, match="issue_refund is not available"):
            await cases.issue_refund(case_id, "too late")  # not OPEN: eBay refuses
        decided = await http.post(
            f"/ebay/_sandbox/cases/{case_id}/decide", json={"winner": "SELLER"}
        )
        assert decided.json()["buyerClosureReason"] == "AGENT_CLOSE_FOR_SELLER"
        assert (await cases.get_case(case_id)).status == ProviderStatus.WON

    async def test_a_refund_closes_the_case_lost_once_and_a_return_case_is_snad(
        self, app: FastAPI, http: httpx.AsyncClient, cases: EbayCasesClient
    ) -> None:
        case_id = (await ebay_case(http, "RETURN"))["caseId"]
        assert (await cases.get_case(case_id)).reason == DisputeReason.PRODUCT_UNACCEPTABLE
        refunded = await cases.issue_refund(case_id, "accepted")
        await cases.issue_refund(case_id, "accepted")  # a retry: the case is closed already
        assert refunded.status == ProviderStatus.LOST
        assert ledger(app, "case_refund", case_id) == 1
        appealed = await cases.appeal(case_id, "the parcel was delivered")
        assert appealed.status == ProviderStatus.UNDER_REVIEW

    async def test_no_tracking_is_refused_before_calling_ebay(
        self, app: FastAPI, http: httpx.AsyncClient, cases: EbayCasesClient
    ) -> None:
        case_id = (await ebay_case(http))["caseId"]
        with pytest.raises(PartnerRejected, match="no carrier and tracking number"):
            await cases.provide_shipment_info(case_id, "", "")
        assert ledger(app, "case_shipment_info", case_id) == 0

    async def test_an_unanswered_case_closes_for_the_buyer(
        self, http: httpx.AsyncClient, cases: EbayCasesClient
    ) -> None:
        order_id = f"28-{next(_numbers):05d}-77777"
        await shipped_ebay_order(http, order_id)
        opened = await open_ebay_case(http, order_id, respond_within_days=0.000001)  # 86 ms
        await asyncio.sleep(0.1)
        closed = await cases.get(str(opened["caseId"]))
        assert (closed["status"], closed["buyerClosureReason"]) == (
            "CLOSED",
            "AUTO_DISPOSE_BUYER_WIN_NO_SELLER_FAULT",
        )


class TestAtozClaims:
    async def test_a_claim_has_the_seller_central_fields(self, http: httpx.AsyncClient) -> None:
        claim_id = await atoz_claim(http)
        got = (await http.get(f"{CLAIMS}/{claim_id}", headers=AMAZON_AUTH)).json()["payload"]
        assert {"ClaimId", "AmazonOrderId", "ClaimType", "ClaimAmount", "ClaimReason"} <= set(got)
        assert got["ClaimStatus"] == "ACTION_REQUIRED" and got["RespondByDate"].endswith("Z")
        assert set(got["ClaimAmount"]) == {"CurrencyCode", "Amount"}
        assert (await http.get(CLAIMS)).status_code == 403
        listed = (
            await http.get(CLAIMS, params={"claimStatuses": "ACTION_REQUIRED"}, headers=AMAZON_AUTH)
        ).json()
        assert claim_id in {c["ClaimId"] for c in listed["payload"]["Claims"]}

    async def test_a_claim_needs_a_shipped_order(self, http: httpx.AsyncClient) -> None:
        order_id = f"303-{next(_numbers):07d}-7654321"
        placed = order(channel=Channel.AMAZON, channel_order_id=order_id)
        await http.post("/amazon/_sandbox/orders", json=placed.model_dump(mode="json"))
        refused = await http.post("/amazon/_sandbox/claims", json={"order_id": order_id})
        assert refused.status_code == 400 and "Unshipped" in refused.text

    async def test_a_representation_is_made_once_and_amazon_denies_the_claim(
        self, app: FastAPI, http: httpx.AsyncClient, atoz: AmazonClaimsClient
    ) -> None:
        claim_id = await atoz_claim(http)
        before = await atoz.get_claim(claim_id)
        assert (before.reason, before.status) == (
            DisputeReason.PRODUCT_NOT_RECEIVED,
            ProviderStatus.NEEDS_RESPONSE,
        )
        assert before.order_workflow_id and before.order_workflow_id.startswith("order-amazon-")
        first = await atoz.represent(claim_id, "UPS", "1Z999", "delivered, signed for")
        again = await atoz.represent(claim_id, "UPS", "1Z999", "delivered, signed for")
        assert first.status == again.status == ProviderStatus.UNDER_REVIEW
        assert again.submission_count == 1 and ledger(app, "atoz_representation", claim_id) == 1
        with pytest.raises(PartnerRejected, match="no seller response is possible"):
            await http_refund(http, claim_id)
        await http.post(f"/amazon/_sandbox/claims/{claim_id}/decide", json={"winner": "SELLER"})
        assert (await atoz.get_claim(claim_id)).status == ProviderStatus.WON

    async def test_a_refund_grants_the_claim_once(
        self, app: FastAPI, http: httpx.AsyncClient, atoz: AmazonClaimsClient
    ) -> None:
        claim_id = await atoz_claim(http, "NOT_AS_DESCRIBED")
        assert (await atoz.get_claim(claim_id)).reason == DisputeReason.PRODUCT_UNACCEPTABLE
        refunded = await atoz.refund(claim_id, "accepted")
        await atoz.refund(claim_id, "accepted")
        assert refunded.status == ProviderStatus.LOST and ledger(app, "atoz_refund", claim_id) == 1


async def http_refund(http: httpx.AsyncClient, claim_id: str) -> None:
    """A refund sent without reading the claim first, as a careless client would."""
    response = await http.post(f"{CLAIMS}/{claim_id}/refund", json={}, headers=AMAZON_AUTH)
    if response.status_code == 400:
        raise PartnerRejected("amazon", response.json()["errors"][0]["message"])
