"""Our partner clients against every fault kind, over real HTTP: each one becomes a
retryable `ApplicationError` in the activity (a 429 with the partner's Retry-After as
`next_retry_delay`), never a business refusal and never an unclassified exception."""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from temporalio.exceptions import ApplicationError

from activities.errors import partner_errors
from crossdock.money import Money
from crossdock.partners.amazon import AmazonOrdersClient
from crossdock.partners.ebay import EbayFulfillmentClient
from crossdock.partners.errors import PartnerUnavailable
from crossdock.partners.http import send
from crossdock.partners.payments import PaymentsClient
from crossdock.partners.warehouse import WarehouseClient
from crossdock.sandbox.app import create_app
from crossdock.sandbox.context import SandboxConfig
from crossdock.sandbox.faults import FaultProfile
from tests.servers import serve

TIMEOUT = 2.0  # the clients' timeout here (a loaded machine answers a first call late); the
# profile's timeouts hold 5 s
SINCE = datetime.now(UTC) - timedelta(days=1)

Call = Callable[[str], Awaitable[Any]]


def served(rule: dict[str, Any]) -> Iterator[str]:
    faults = FaultProfile.model_validate({"seed": 1, "hang_seconds": 5, "default": rule})
    with serve(create_app(SandboxConfig(faults=faults))) as url:
        yield url


async def classified(call: Awaitable[Any]) -> ApplicationError:
    """The ApplicationError an activity raises when `call` fails."""
    with pytest.raises(ApplicationError) as raised:
        with partner_errors():
            await call
    return raised.value


async def authorize(sandbox: str) -> Any:
    client = PaymentsClient(f"{sandbox}/stripe", "sk_test_crossdock", timeout=TIMEOUT)
    try:
        return await client.authorize(
            Money(amount=2500, currency="EUR"), "pm_card_visa", "order-storefront-SF1", "o1:auth"
        )
    finally:
        await client.aclose()


async def amazon_orders(sandbox: str) -> Any:
    client = AmazonOrdersClient(f"{sandbox}/amazon", "Atza|x", "A1PA6795UKMFR9", timeout=TIMEOUT)
    try:
        return await client.get_orders(SINCE)
    finally:
        await client.aclose()


async def ebay_orders(sandbox: str) -> Any:
    client = EbayFulfillmentClient(f"{sandbox}/ebay", "v^1.1#x", timeout=TIMEOUT)
    try:
        return await client.get_orders(SINCE)
    finally:
        await client.aclose()


async def warehouse_stock(sandbox: str) -> Any:
    client = WarehouseClient(f"{sandbox}/warehouse", timeout=TIMEOUT)
    try:
        return await client.stock("HEADPHONES-BT")
    finally:
        await client.aclose()


KINDS = [
    {"before": {"error_500": 1.0}},
    {"before": {"error_502": 1.0}},
    {"before": {"error_503": 1.0}},
    {"before": {"timeout": 1.0}},
    {"before": {"reset": 1.0}},
    {"after": {"error_500": 1.0}},
    {"after": {"timeout": 1.0}},
    {"after": {"reset": 1.0}},
    {"after": {"malformed": 1.0}},
]


def kind_id(rule: dict[str, Any]) -> str:
    place, rates = next(iter(rule.items()))
    return f"{place}.{next(iter(rates))}"


@pytest.mark.parametrize("rule", KINDS, ids=kind_id)
async def test_the_payments_client_retries_every_fault(rule: dict[str, Any]) -> None:
    for sandbox in served(rule):
        error = await classified(authorize(sandbox))
    assert error.type == "PartnerUnavailable"
    assert not error.non_retryable


@pytest.mark.parametrize("call", [amazon_orders, ebay_orders, warehouse_stock])
async def test_a_truncated_200_is_retried_by_every_client(call: Call) -> None:
    for sandbox in served({"after": {"malformed": 1.0}}):
        error = await classified(call(sandbox))
    assert error.type == "PartnerUnavailable" and not error.non_retryable
    assert "malformed" in error.message


@pytest.mark.parametrize("call", [authorize, amazon_orders, ebay_orders, warehouse_stock])
async def test_a_rate_limit_waits_for_the_partners_retry_after(call: Call) -> None:
    for sandbox in served({"rate_limit_per_second": 0.25, "burst": 1}):
        with contextlib.suppress(Exception):
            await call(sandbox)  # takes the only token (its own answer does not matter)
        error = await classified(call(sandbox))
    assert error.type == "RateLimited" and not error.non_retryable
    assert error.next_retry_delay is not None
    assert error.next_retry_delay >= timedelta(seconds=1)


async def test_only_json_answers_are_checked_for_parsing() -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/label.zpl":
            return httpx.Response(
                200, content=b"^XA^FO50,50{", headers={"content-type": "text/plain"}
            )
        return httpx.Response(
            200, content=b'{"id": "x"', headers={"content-type": "application/json"}
        )

    async with httpx.AsyncClient(transport=httpx.MockTransport(answer)) as http:
        label = await send(http, "easypost", "GET", "http://p/label.zpl", lambda body: (None, None))
        assert label.content.startswith(b"^XA")
        with pytest.raises(PartnerUnavailable, match="malformed JSON in the 200 answer"):
            await send(http, "easypost", "GET", "http://p/x", lambda body: (None, None))
