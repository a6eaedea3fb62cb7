"""eBay Post-Order case management (INR and return/SNAD cases), seen as our
`DisputeSnapshot`, and the seller's two answers: tracking as evidence, or a refund.

Statuses are translated to Stripe's, which the dispute workflow speaks: OPEN (the seller
must act by `respondByDate`) is `needs_response`; WAITING_CS / ON_HOLD (answered, eBay
deciding) is `under_review`; CLOSED / CS_CLOSED is `won` when eBay closed it for the
seller, else `lost`. Case types map to reason codes through the `claim_reasons` table
(crossdock/data/dispute_evidence.json). eBay takes no idempotency key here, so each
answer is made once by state: the case is read first and left alone when the seller's
answer is already recorded (a retried activity whose first reply was lost).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import httpx

from crossdock.models.dispute import DisputeSnapshot, ProviderStatus
from crossdock.partners.amounts import exact_json, partner_money
from crossdock.partners.ebay import EbayFulfillmentClient
from crossdock.partners.ebay_api import ACCEPT_JSON, PostOrderApi
from crossdock.partners.errors import PartnerRejected
from crossdock.policies.disputes import claim_reason

PARTNER = "ebay"
PAGE_SIZE = 200
# How far before a case was opened its order may have been placed: eBay takes INR and
# return cases up to 30 days after the latest delivery date, itself weeks after the sale.
ORDER_LOOKBACK = timedelta(days=120)
CLOSED = frozenset({"CLOSED", "CS_CLOSED"})
# CaseCloseReasonEnum values that close a case in the seller's favour.
SELLER_WON = frozenset(
    {
        "AGENT_CLOSE_FOR_SELLER",
        "AUTO_DISPOSE_SELLER_WIN_BUYER_FAULT",
        "BUYER_CLOSE",
        "ITEM_ARRIVED",
        "WORKED_OUT_WITH_SELLER",
    }
)


def _date(value: Any) -> datetime | None:
    raw = value.get("value") if isinstance(value, dict) else value
    return datetime.fromisoformat(raw) if raw else None


def _status(body: dict[str, Any]) -> ProviderStatus:
    state = body.get("status") or body.get("caseStatusEnum")
    if state == "OPEN":
        return ProviderStatus.NEEDS_RESPONSE
    if state in CLOSED:
        won = body.get("buyerClosureReason") in SELLER_WON
        return ProviderStatus.WON if won else ProviderStatus.LOST
    return ProviderStatus.UNDER_REVIEW


def case_snapshot(body: dict[str, Any], order_id: str | None = None) -> DisputeSnapshot:
    """Our view of an eBay case (CaseSummaryType or CaseDetailsResponse).

    eBay's case names the order line (`itemId`, `transactionId`), not the order: pass
    the Fulfillment `order_id` the line belongs to (`EbayCasesClient` finds it).

    `claimAmount.value` may be a decimal string or a JSON number (Post-Order types it
    as a double); read the body with `exact_json` so a number arrives exact.

    Raises:
        ValueError: A field the dispute needs is missing, or the amount is not exact.
    """
    try:
        amount = body["claimAmount"]
        answered = bool(body.get("shipmentTrackingDetails"))
        return DisputeSnapshot(
            id=str(body["caseId"]),
            order_workflow_id=f"order-ebay-{order_id or body['orderId']}",
            amount=partner_money(amount["value"], amount["currency"]),
            reason=claim_reason("ebay_case", str(body.get("caseType", ""))),
            status=_status(body),
            due_by=_date(body.get("respondByDate")),
            submission_count=1 if answered else 0,
        )
    except KeyError as missing:
        raise ValueError(f"eBay case has no {missing.args[0]!r}") from None


class EbayCasesClient(PostOrderApi):
    """Read eBay cases and answer them once.

    Args:
        base_url: eBay API root, e.g. "http://127.0.0.1:8700/ebay" or "https://api.ebay.com".
        access_token: The OAuth user access token (sent as `IAF <token>`).
        orders: The Fulfillment API, where a case's line is found in its order; by
            default one on `base_url` with the same token and pool.
    """

    root = "/post-order/v2/casemanagement"
    extra_headers = ACCEPT_JSON

    def __init__(
        self,
        base_url: str,
        access_token: str,
        http: httpx.AsyncClient | None = None,
        timeout: float = 10.0,
        orders: EbayFulfillmentClient | None = None,
    ) -> None:
        super().__init__(base_url, access_token, http, timeout)
        self._orders = orders or EbayFulfillmentClient(base_url, access_token, self.http, timeout)
        self._order_of_line: dict[tuple[str, str], str] = {}

    async def order_of_line(self, item_id: str, transaction_id: str, opened: datetime) -> str:
        """The Fulfillment order id of the line (`itemId`, `transactionId`) a case opened
        at `opened` names, read from the orders placed in the lookback before it.

        Raises:
            PartnerRejected: No order in that window has the line.
        """
        line = (item_id, transaction_id)
        if line in self._order_of_line:
            return self._order_of_line[line]
        offset: int | None = 0
        while offset is not None:
            page = await self._orders.get_orders(opened - ORDER_LOOKBACK, offset)
            for order in page.orders:
                for item in order.line_items:
                    if (item.legacy_item_id, item.line_item_id) == line:
                        self._order_of_line[line] = order.order_id
                        return order.order_id
            offset = page.next_offset
        raise PartnerRejected(
            PARTNER, f"no eBay order has item {item_id} transaction {transaction_id}"
        )

    async def _snapshot(self, body: dict[str, Any]) -> DisputeSnapshot:
        """`case_snapshot` with the case's order found through its line."""
        try:
            line = str(body["itemId"]), str(body["transactionId"])
        except KeyError as missing:
            raise ValueError(f"eBay case has no {missing.args[0]!r}") from None
        opened = _date(body.get("creationDate")) or datetime.now().astimezone()
        return case_snapshot(body, await self.order_of_line(*line, opened))

    async def search(self) -> list[dict[str, Any]]:
        """Every case summary (all statuses), following the pages (numbered from 1)."""
        found: list[dict[str, Any]] = []
        page, pages = 1, 1
        while page <= pages:
            params = {"limit": str(PAGE_SIZE), "offset": str(page)}
            body = exact_json(await self._call("GET", "/search", params=params))
            found += body.get("members") or []
            pages = (body.get("paginationOutput") or {}).get("totalPages", 0)
            page += 1
        return found

    async def get(self, case_id: str) -> dict[str, Any]:
        body: dict[str, Any] = exact_json(await self._call("GET", f"/{case_id}"))
        return body

    async def get_case(self, case_id: str) -> DisputeSnapshot:
        return await self._snapshot(await self.get(case_id))

    async def provide_shipment_info(
        self, case_id: str, carrier: str, tracking_number: str
    ) -> DisputeSnapshot:
        """Give eBay the shipment's tracking as evidence, once.

        Raises:
            PartnerRejected: No tracking to give, or eBay refuses (the case closed).
        """
        body = await self.get(case_id)
        if not body.get("shipmentTrackingDetails"):
            if not carrier or not tracking_number:
                raise PartnerRejected(
                    PARTNER, "no carrier and tracking number to give eBay for this case"
                )
            payload = {"shippingCarrierName": carrier, "trackingNumber": tracking_number}
            await self._call("POST", f"/{case_id}/provide_shipment_info", json=payload)
            body = await self.get(case_id)
        return await self._snapshot(body)

    async def issue_refund(self, case_id: str, comment: str) -> DisputeSnapshot:
        """Refund the buyer in full to close the case, once."""
        body = await self.get(case_id)
        if body.get("status") not in CLOSED:
            payload = {"comments": {"content": comment[:1000]}}
            await self._call("POST", f"/{case_id}/issue_refund", json=payload)
            body = await self.get(case_id)
        return await self._snapshot(body)

    async def appeal(self, case_id: str, comment: str) -> DisputeSnapshot:
        """Appeal eBay's decision for the buyer, once (an appealed case is left alone)."""
        body = await self.get(case_id)
        if not body.get("appealDetails"):
            payload = {"comments": {"content": comment[:1000]}}
            await self._call("POST", f"/{case_id}/appeal", json=payload)
            body = await self.get(case_id)
        return await self._snapshot(body)
