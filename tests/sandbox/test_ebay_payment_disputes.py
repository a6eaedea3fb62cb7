"""eBay payment disputes: the Fulfillment API shape in the sandbox, and our client's
translation into dispute snapshots with answers made once by state."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from crossdock.models.dispute import DisputeReason, ProviderStatus
from crossdock.models.order import Channel
from crossdock.partners.ebay_payment_disputes import EbayPaymentDisputesClient
from crossdock.partners.errors import PartnerRejected
from crossdock.sandbox.app import create_app
from crossdock.sandbox.context import SandboxContext
from tests.factories import WAREHOUSE, order

AUTH = {"Authorization": "Bearer v^1.1#test"}
API = "/ebay/sell/fulfillment/v1"
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
def ebay(http: httpx.AsyncClient) -> EbayPaymentDisputesClient:
    return EbayPaymentDisputesClient("http://sandbox/ebay", "v^1.1#test", WAREHOUSE, http=http)


async def dispute_on_new_order(http: httpx.AsyncClient, reason: str) -> dict[str, Any]:
    order_id = f"27-{next(_numbers):05d}-77777"
    placed = order(channel=Channel.EBAY, channel_order_id=order_id)
    (
        await http.post("/ebay/_sandbox/orders", json=placed.model_dump(mode="json"))
    ).raise_for_status()
    opened = await http.post(
        "/ebay/_sandbox/payment_disputes", json={"order_id": order_id, "reason": reason}
    )
    assert opened.status_code == 200, opened.text
    return dict(opened.json())


async def test_a_payment_dispute_has_ebays_shape(http: httpx.AsyncClient) -> None:
    opened = await dispute_on_new_order(http, "ITEM_NOT_RECEIVED")
    got = (
        await http.get(f"{API}/payment_dispute/{opened['paymentDisputeId']}", headers=AUTH)
    ).json()
    assert got["paymentDisputeStatus"] == "ACTION_NEEDED"
    assert got["availableChoices"] == ["CONTEST", "ACCEPT"]
    assert set(got["amount"]) == {"value", "currency"} and got["revision"] == 1
    assert got["respondByDate"].endswith("Z")
    summaries = await http.get(
        f"{API}/payment_dispute_summary",
        params={"order_id": got["orderId"], "payment_dispute_status": "ACTION_NEEDED"},
        headers=AUTH,
    )
    assert [s["paymentDisputeId"] for s in summaries.json()["paymentDisputeSummaries"]] == [
        got["paymentDisputeId"]
    ]


async def test_routes_need_a_token_and_name_unknown_disputes(http: httpx.AsyncClient) -> None:
    assert (await http.get(f"{API}/payment_dispute/1")).status_code == 401
    missing = await http.get(f"{API}/payment_dispute/1", headers=AUTH)
    assert missing.status_code == 404
    assert missing.json()["errors"][0]["message"] == "Invalid Payment Dispute Id"


async def test_contest_is_made_once_and_reads_as_our_snapshot(
    app: FastAPI, http: httpx.AsyncClient, ebay: EbayPaymentDisputesClient
) -> None:
    opened = await dispute_on_new_order(http, "SIGNIFICANTLY_NOT_AS_DESCRIBED")
    dispute_id = opened["paymentDisputeId"]
    before = await ebay.get_dispute(dispute_id)
    assert (before.reason, before.status) == (
        DisputeReason.PRODUCT_UNACCEPTABLE,
        ProviderStatus.NEEDS_RESPONSE,
    )
    assert before.order_workflow_id == f"order-ebay-{opened['orderId']}"
    contested = await ebay.contest(dispute_id, "tracking shows delivery")
    again = await ebay.contest(dispute_id, "tracking shows delivery")  # a retried activity
    assert contested.status == again.status == ProviderStatus.UNDER_REVIEW
    ctx: SandboxContext = app.state.sandbox
    assert len(ctx.ledger.entries(kind="payment_dispute_contest", reference=dispute_id)) == 1
    with pytest.raises(PartnerRejected, match="No seller action is available"):
        await ebay.accept(dispute_id)
    await http.post(
        f"/ebay/_sandbox/payment_disputes/{dispute_id}/resolve", json={"outcome": "SELLER_WON"}
    )
    assert (await ebay.get_dispute(dispute_id)).status == ProviderStatus.WON


async def test_stale_revisions_and_snad_without_address_are_refused(
    http: httpx.AsyncClient,
) -> None:
    opened = await dispute_on_new_order(http, "SIGNIFICANTLY_NOT_AS_DESCRIBED")
    path = f"{API}/payment_dispute/{opened['paymentDisputeId']}"
    no_address = await http.post(f"{path}/contest", json={"revision": 1}, headers=AUTH)
    assert (
        no_address.status_code == 400
        and "returnAddress" in no_address.json()["errors"][0]["message"]
    )
    stale = await http.post(f"{path}/accept", json={"revision": 7}, headers=AUTH)
    assert stale.status_code == 400 and "not the latest" in stale.json()["errors"][0]["message"]


async def test_accepting_closes_it_as_lost(
    http: httpx.AsyncClient, ebay: EbayPaymentDisputesClient
) -> None:
    opened = await dispute_on_new_order(http, "ITEM_NOT_RECEIVED")
    accepted = await ebay.accept(opened["paymentDisputeId"])
    assert accepted.status == ProviderStatus.LOST
