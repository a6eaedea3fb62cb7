"""eBay returns: buyers' return requests (Post-Order API return search), the seller's
refund (Fulfillment API issueRefund) and the refund's status as getOrder reports it
(`paymentSummary.refunds`).

eBay processes refunds asynchronously: issueRefund answers `PENDING` (or `FAILED`) with
a `refundId`, and the refund shows as `REFUNDED` (or `FAILED`) in getOrder later.
issueRefund takes no idempotency key; Crossdock puts its own key in `comment` (max 100
characters) so a person, and the sandbox, can tell a retried call from a second refund.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from crossdock.money import Money
from crossdock.partners.ebay_api import SELL_FULFILLMENT, EbayApi, PostOrderApi

PARTNER = "ebay"
COMMENT_LIMIT = 100
PAGE_SIZE = 200


class EbayRefund(BaseModel):
    """issueRefund's answer, or one of getOrder's `paymentSummary.refunds`."""

    model_config = ConfigDict(frozen=True, extra="ignore", populate_by_name=True)

    refund_id: str | None = Field(default=None, alias="refundId")
    # issueRefund: PENDING | FAILED; getOrder: PENDING | REFUNDED | FAILED.
    refund_status: str = Field(alias="refundStatus")


def _amount(money: Money) -> dict[str, str]:
    return {"value": money.to_decimal_string(), "currency": money.currency}


class EbayRefundsClient(EbayApi):
    """issueRefund and the refund's status, on the Fulfillment API.

    Args:
        base_url: API root, e.g. "http://127.0.0.1:8700/ebay" or "https://api.ebay.com".
        access_token: The OAuth user access token (sent as a Bearer token).
        http: A shared `httpx.AsyncClient` (e.g. the Fulfillment client's pool).
        timeout: Seconds per request.
    """

    root = SELL_FULFILLMENT

    async def issue_refund(
        self,
        order_id: str,
        amount: Money,
        reason: str,
        comment: str,
        line_amounts: list[tuple[str, Money]] | None = None,
    ) -> EbayRefund:
        """Refund `amount` of `order_id`: per line item when `line_amounts` is given,
        else at the order level. `reason` is a ReasonForRefundEnum value
        (BUYER_RETURN, BUYER_CANCEL, ITEM_NOT_RECEIVED, ITEM_NOT_AS_DESCRIBED, ...).

        Raises:
            PartnerRejected: more than is left to refund, or an order eBay will not refund.
        """
        body: dict[str, Any] = {"reasonForRefund": reason, "comment": comment[:COMMENT_LIMIT]}
        if line_amounts:
            body["refundItems"] = [
                {"lineItemId": line_id, "refundAmount": _amount(money)}
                for line_id, money in line_amounts
            ]
        else:
            body["orderLevelRefundAmount"] = _amount(amount)
        response = await self._call("POST", f"/order/{order_id}/issue_refund", json=body)
        return EbayRefund.model_validate(response.json())

    async def refund_status(self, order_id: str, refund_id: str) -> EbayRefund | None:
        """The refund as getOrder lists it now; None if eBay does not list it (yet)."""
        body = (await self._call("GET", f"/order/{order_id}")).json()
        refunds = list(body.get("paymentSummary", {}).get("refunds", []))
        for line in body.get("lineItems", []):
            refunds += line.get("refunds", [])
        for refund in refunds:
            if refund.get("refundId") == refund_id:
                return EbayRefund.model_validate(refund)
        return None


class EbayReturnRequest(BaseModel):
    """A buyer's return request as Post-Order's return search summarises it."""

    model_config = ConfigDict(frozen=True)

    return_id: str
    order_id: str
    # The order line: the listing and the line's transaction (Fulfillment lineItemId).
    item_id: str
    transaction_id: str
    quantity: int
    reason: str  # ReturnReasonEnum, e.g. ARRIVED_DAMAGED, NO_LONGER_NEED
    comments: str = ""
    created_at: datetime

    @classmethod
    def from_summary(cls, summary: dict[str, Any]) -> EbayReturnRequest:
        info = summary.get("creationInfo") or {}
        item = info.get("item") or {}
        created = (info.get("creationDate") or {}).get("value")
        return cls(
            return_id=str(summary["returnId"]),
            order_id=str(summary["orderId"]),
            item_id=str(item.get("itemId", "")),
            transaction_id=str(item.get("transactionId", "")),
            quantity=int(item.get("returnQuantity", 1)),
            reason=str(info.get("reason", "")),
            comments=str((info.get("comments") or {}).get("content", "")),
            created_at=datetime.fromisoformat(str(created).replace("Z", "+00:00")),
        )


class EbayReturnRequestsClient(PostOrderApi):
    """Post-Order v2 return search (`Authorization: IAF <token>`).

    Args:
        base_url: API root, e.g. "http://127.0.0.1:8700/ebay" or "https://api.ebay.com".
        access_token: The OAuth user access token.
        http: A shared `httpx.AsyncClient` (e.g. the Fulfillment client's pool).
        timeout: Seconds per request.
    """

    root = "/post-order/v2/return"

    async def search(self, created_after: datetime, offset: int = 0) -> list[EbayReturnRequest]:
        """Every return request created at or after `created_after`, oldest first."""
        found: list[EbayReturnRequest] = []
        while True:
            params = {
                "creation_date_range_from": _date(created_after),
                "offset": str(offset),
                "limit": str(PAGE_SIZE),
            }
            response = await self._call("GET", "/search", params=params)
            body = response.json()
            members = body.get("members", [])
            found += [EbayReturnRequest.from_summary(m) for m in members]
            total = int(body.get("paginationOutput", {}).get("totalEntries", len(found)))
            offset += len(members)
            if not members or offset >= total:
                return found


def _date(moment: datetime) -> str:
    utc = moment.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"
