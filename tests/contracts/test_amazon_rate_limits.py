"""SP-API's rate-limit headers: every Amazon answer names its request and its rate, a
throttled one is 429 QuotaExceeded with no Retry-After, and the clients wait 1 / rate."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest

from crossdock.partners.amazon import AmazonOrdersClient
from crossdock.partners.errors import RateLimited
from crossdock.sandbox.app import create_app
from crossdock.sandbox.context import SandboxConfig
from crossdock.sandbox.faults import FaultProfile, FaultRule
from tests.factories import NOW

DE = "A1PA6795UKMFR9"
AUTH = {"x-amz-access-token": "Atza|test"}


async def test_every_answer_carries_a_request_id_and_the_operations_rate(
    raw_http: httpx.AsyncClient,
) -> None:
    orders = await raw_http.get(
        "/amazon/orders/v0/orders",
        params={"MarketplaceIds": DE, "CreatedAfter": "2026-11-01T00:00:00Z"},
        headers=AUTH,
    )
    missing = await raw_http.get("/amazon/orders/v0/orders/999-0000000-0000000", headers=AUTH)

    assert orders.headers["x-amzn-RateLimit-Limit"] == "0.0167"  # getOrders' usage plan
    assert missing.headers["x-amzn-RateLimit-Limit"] == "0.5"
    assert orders.headers["x-amzn-RequestId"] != missing.headers["x-amzn-RequestId"]


async def test_a_throttled_client_waits_one_requests_share_of_the_rate() -> None:
    throttled = FaultProfile(partners={"amazon": FaultRule(rate_limit_per_second=0.25, burst=1)})
    app = create_app(SandboxConfig(faults=throttled))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app)) as http:
        amazon = AmazonOrdersClient(
            "http://sandbox/amazon", "Atza|test", DE, http=http, restricted_data=False
        )
        await amazon.get_orders(NOW - timedelta(days=1))
        with pytest.raises(RateLimited) as refused:
            await amazon.get_orders(NOW - timedelta(days=1))
        raw = await http.get("http://sandbox/amazon/orders/v0/orders/1", headers=AUTH)

    assert (refused.value.status, refused.value.code) == (429, "QuotaExceeded")
    assert refused.value.retry_after == 4.0
    assert "retry-after" not in raw.headers
    assert raw.headers["x-amzn-RateLimit-Limit"] == "0.25"
