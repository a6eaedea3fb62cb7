"""Amazon's Tokens API and restricted data. The contracts folder has no Tokens model
(Amazon publishes it apart from Orders), so these checks follow the Tokens API reference:
createRestrictedDataToken takes `restrictedResources` [{method, path, dataElements}] and
answers {restrictedDataToken, expiresIn}; without the token, getOrder's answer has no
buyer name, email, address lines or phone."""

from __future__ import annotations

import httpx

from crossdock.models.order import Channel
from crossdock.partners.amazon import AmazonOrdersClient
from tests.contracts.contracts import Contracts
from tests.factories import order

DE = "A1PA6795UKMFR9"


class Recorder(httpx.AsyncBaseTransport):
    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.seen: list[httpx.Request] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.seen.append(request)
        return await self.inner.handle_async_request(request)


async def test_the_orders_client_reads_restricted_fields_with_a_restricted_data_token(
    checked_http: httpx.AsyncClient, raw_http: httpx.AsyncClient, contracts: Contracts
) -> None:
    placed = order(channel=Channel.AMAZON, channel_order_id="171-0000009-0000009")
    await raw_http.post(
        "/amazon/_sandbox/orders",
        json=placed.model_dump(mode="json"),
        params={"marketplace_id": DE},
    )
    recorder = Recorder(checked_http._transport)  # the contract checks, recorded
    async with httpx.AsyncClient(transport=recorder) as http:
        amazon = AmazonOrdersClient("http://sandbox/amazon", "Atza|test", DE, http=http)
        got = await amazon.get_order(placed.channel_order_id)
        again = await amazon.get_order(placed.channel_order_id)

    assert got.ship_to() == again.ship_to() == placed.ship_to
    assert got.buyer() == placed.buyer
    asked, *reads = recorder.seen
    assert asked.url.path == "/amazon/tokens/2021-03-01/restrictedDataToken"
    assert httpx.Response(200, content=asked.content).json() == {
        "restrictedResources": [
            {
                "method": "GET",
                "path": "/orders/v0/orders/{orderId}",
                "dataElements": ["buyerInfo", "shippingAddress"],
            }
        ]
    }
    # one token for both reads, sent in place of the access token
    assert [r.url.path for r in reads] == [
        f"/amazon/orders/v0/orders/{placed.channel_order_id}"
    ] * 2
    assert {r.headers["x-amz-access-token"] for r in reads} != {"Atza|test"}
    assert "getOrder" in contracts.seen


async def test_without_a_token_the_restricted_fields_are_withheld(
    raw_http: httpx.AsyncClient,
) -> None:
    placed = order(channel=Channel.AMAZON, channel_order_id="171-0000010-0000010")
    await raw_http.post(
        "/amazon/_sandbox/orders",
        json=placed.model_dump(mode="json"),
        params={"marketplace_id": DE},
    )
    amazon = AmazonOrdersClient(
        "http://sandbox/amazon", "Atza|test", DE, http=raw_http, restricted_data=False
    )

    got = await amazon.get_order(placed.channel_order_id)

    assert got.shipping_address is not None and got.shipping_address.name is None
    assert got.buyer_info is not None and got.buyer_info.buyer_name is None
