"""The eBay cases adapter on eBay's own case bodies (a stand-in transport answers them)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import httpx
import pytest

from crossdock.money import Money
from crossdock.partners.amounts import partner_money
from crossdock.partners.ebay import (
    EbayAmount,
    EbayFulfillmentClient,
    EbayLineItem,
    EbayOrder,
    EbayOrdersPage,
)
from crossdock.partners.ebay_cases import ORDER_LOOKBACK, EbayCasesClient
from crossdock.partners.errors import PartnerRejected

# A CaseDetailsResponse as eBay writes it: Amount.value is a JSON number (a double), and
# the case names the order line (itemId, transactionId), not the order.
CASE = b"""{"caseId": "5100000001", "caseType": "ITEM_NOT_RECEIVED", "status": "OPEN",
 "itemId": "110000000001", "transactionId": "10000000001",
 "claimAmount": {"value": 19.99, "currency": "USD"},
 "creationDate": {"value": "2026-11-20T10:00:00.000Z"},
 "respondByDate": {"value": "2026-11-30T10:00:00.000Z"}}"""


class OrderBook(EbayFulfillmentClient):
    """Stand-in Fulfillment API: orders with one line each, (orderId, legacyItemId,
    lineItemId); records the windows it was asked for."""

    def __init__(self, *lines: tuple[str, str, str]) -> None:
        super().__init__("https://api.ebay.com", "v^1.1#test")
        self.lines = lines
        self.asked: list[datetime] = []

    async def get_orders(
        self, created_after: datetime, offset: int = 0, limit: int = 50
    ) -> EbayOrdersPage:
        self.asked.append(created_after)
        found = [
            EbayOrder(
                order_id=order_id,
                creation_date=created_after,
                order_fulfillment_status="FULFILLED",
                order_payment_status="PAID",
                line_items=[
                    EbayLineItem(
                        line_item_id=line,
                        legacy_item_id=item,
                        quantity=1,
                        line_item_cost=EbayAmount(value="19.99", currency="USD"),
                    )
                ],
            )
            for order_id, item, line in self.lines
        ]
        return EbayOrdersPage(orders=found, total=len(found))


def cases_answering(body: bytes, book: OrderBook | None = None) -> EbayCasesClient:
    book = book or OrderBook(
        ("12-00000-00000", "110000000001", "99"),
        ("12-34567-89012", "110000000001", "10000000001"),
    )

    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=body, headers={"content-type": "application/json"})

    http = httpx.AsyncClient(transport=httpx.MockTransport(answer))
    return EbayCasesClient("https://api.ebay.com", "v^1.1#test", http=http, orders=book)


async def test_the_case_is_tied_to_its_order_through_the_line_it_names() -> None:
    book = OrderBook(
        ("12-00000-00000", "110000000001", "99"),
        ("12-34567-89012", "110000000001", "10000000001"),
    )
    cases = cases_answering(CASE, book)

    snapshot = await cases.get_case("5100000001")
    again = await cases.get_case("5100000001")

    assert snapshot.order_workflow_id == again.order_workflow_id == "order-ebay-12-34567-89012"
    # read once, from the lookback before the case was opened
    assert book.asked == [datetime(2026, 11, 20, 10, tzinfo=UTC) - ORDER_LOOKBACK]


async def test_a_case_whose_line_no_order_has_is_refused() -> None:
    cases = cases_answering(CASE, OrderBook(("12-00000-00000", "110000000001", "99")))

    with pytest.raises(PartnerRejected, match="transaction 10000000001"):
        await cases.get_case("5100000001")


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
