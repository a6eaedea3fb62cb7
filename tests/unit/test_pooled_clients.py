"""The pooled partner APIs go to the host each partner serves them from."""

from __future__ import annotations

import dataclasses

import httpx

from crossdock.config import Settings
from crossdock.partners.clients import PartnerClients
from crossdock.partners.ebay import EbayFulfillmentClient
from crossdock.partners.pooled import PooledApis
from tests.factories import NOW


def recording() -> tuple[httpx.AsyncClient, list[str]]:
    """An HTTP client answering every request with an empty eBay page, recording
    `host path` of each."""
    seen: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(f"{request.url.host} {request.url.path}")
        return httpx.Response(200, json={"total": 0, "orders": [], "members": []})

    return httpx.AsyncClient(transport=httpx.MockTransport(answer)), seen


async def test_ebay_payment_disputes_go_to_their_own_host() -> None:
    settings = Settings(
        ebay_base_url="https://api.ebay.com",
        ebay_payment_disputes_base_url="https://apiz.ebay.com",
    )
    http, seen = recording()
    partners = PartnerClients.from_settings(settings)
    ebay = EbayFulfillmentClient(settings.ebay_base_url, "token", http=http)
    apis = PooledApis.over(dataclasses.replace(partners, ebay=ebay), settings)

    await apis.ebay_disputes.summaries()
    await ebay.get_orders(NOW)
    await apis.ebay_cases.search()
    await partners.aclose()

    assert seen == [
        "apiz.ebay.com /sell/fulfillment/v1/payment_dispute_summary",
        "api.ebay.com /sell/fulfillment/v1/order",
        "api.ebay.com /post-order/v2/casemanagement/search",
    ]


async def test_one_ebay_base_url_serves_every_api_when_no_other_is_set() -> None:
    settings = Settings(ebay_base_url="http://127.0.0.1:8700/ebay")
    http, seen = recording()
    partners = PartnerClients.from_settings(settings)
    ebay = EbayFulfillmentClient(settings.ebay_base_url, "token", http=http)
    apis = PooledApis.over(dataclasses.replace(partners, ebay=ebay), settings)

    await apis.ebay_disputes.summaries()
    await partners.aclose()

    assert seen == ["127.0.0.1 /ebay/sell/fulfillment/v1/payment_dispute_summary"]
