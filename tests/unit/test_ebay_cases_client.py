"""The eBay cases adapter on eBay's own case bodies (a stand-in transport answers them)."""

from __future__ import annotations

from decimal import Decimal

import httpx
import pytest

from crossdock.money import Money
from crossdock.partners.amounts import partner_money
from crossdock.partners.ebay_cases import EbayCasesClient

# A CaseDetailsResponse as eBay writes it: Amount.value is a JSON number (a double).
CASE = b"""{"caseId": "5100000001", "caseType": "ITEM_NOT_RECEIVED", "status": "OPEN",
 "itemId": "110000000001", "transactionId": "10000000001", "orderId": "12-34567-89012",
 "claimAmount": {"value": 19.99, "currency": "USD"},
 "respondByDate": {"value": "2026-11-30T10:00:00.000Z"}}"""


def cases_answering(body: bytes) -> EbayCasesClient:
    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=body, headers={"content-type": "application/json"})

    http = httpx.AsyncClient(transport=httpx.MockTransport(answer))
    return EbayCasesClient("https://api.ebay.com", "v^1.1#test", http=http)


async def test_a_claim_amount_written_as_a_json_number_is_read_exactly() -> None:
    snapshot = await cases_answering(CASE).get_case("5100000001")

    assert snapshot.amount == Money(amount=1999, currency="USD")


async def test_a_yen_claim_as_a_json_integer_is_read() -> None:
    body = CASE.replace(
        b'{"value": 19.99, "currency": "USD"}', b'{"value": 1500, "currency": "JPY"}'
    )

    snapshot = await cases_answering(body).get_case("5100000001")

    assert snapshot.amount == Money(amount=1500, currency="JPY")


def test_amounts_are_read_from_strings_numbers_and_decimals_but_never_floats() -> None:
    assert partner_money("19.99", "USD") == Money(amount=1999, currency="USD")
    assert partner_money(Decimal("19.99"), "USD") == Money(amount=1999, currency="USD")
    assert partner_money(1500, "JPY") == Money(amount=1500, currency="JPY")
    with pytest.raises(ValueError, match="float"):
        partner_money(19.99, "USD")
    with pytest.raises(ValueError, match="not a number"):
        partner_money(True, "USD")
    with pytest.raises(ValueError, match="decimal places"):
        partner_money(Decimal("19.999"), "USD")
