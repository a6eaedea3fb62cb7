"""eBay Post-Order API v2 adapter, cancellations: search, approve, reject, and the
seller's own cancellation of a whole order (create).

Buyers ask eBay to cancel an order before it ships; the seller must approve (eBay cancels
the order and refunds the buyer) or reject it (the order has shipped after all), within
three days. eBay's field names are kept as aliases. Post-Order dates arrive as objects
({"value": "...Z"}) and are read as datetimes.

`legacyOrderId` on a cancellation is the order id the Fulfillment API reports for orders
in eBay's 2019 id format (the only format eBay issues now); older "itemId-transactionId"
ids would need a Trading API lookup, which is not done here.

Failures arrive as `crossdock.partners.errors` types with eBay's errorId as the code.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

import httpx
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from crossdock.partners.ebay_api import ACCEPT_JSON, PostOrderApi

PARTNER = "ebay"
# The buyer's request waits for the seller in this status (CancelStatusEnum).
CANCEL_REQUESTED = "CANCEL_REQUESTED"
CANCEL_REJECTED = "CANCEL_REJECTED"
PAGE_SIZE = 200


def _unwrap_date(value: Any) -> Any:
    """Post-Order DateTime {"value": "...", "formattedValue": "..."} → its ISO value."""
    return value.get("value") if isinstance(value, dict) else value


PostOrderDate = Annotated[datetime, BeforeValidator(_unwrap_date)]


class EbayCancellation(BaseModel):
    """A CancelSummary from Search Cancellations (the fields Crossdock uses)."""

    model_config = ConfigDict(frozen=True, extra="ignore", populate_by_name=True)

    cancel_id: str = Field(alias="cancelId")
    legacy_order_id: str = Field(alias="legacyOrderId")
    cancel_state: str | None = Field(default=None, alias="cancelState")
    cancel_status: str | None = Field(default=None, alias="cancelStatus")
    cancel_reason: str | None = Field(default=None, alias="cancelReason")
    requestor_type: str | None = Field(default=None, alias="requestorType")
    marketplace_id: str | None = Field(default=None, alias="marketplaceId")
    cancel_request_date: PostOrderDate = Field(alias="cancelRequestDate")
    seller_response_due_date: PostOrderDate | None = Field(
        default=None, alias="sellerResponseDueDate"
    )
    shipment_date: PostOrderDate | None = Field(default=None, alias="shipmentDate")

    @property
    def order_id(self) -> str:
        """The order's id as the Fulfillment API (and Crossdock) knows it."""
        return self.legacy_order_id

    @property
    def awaits_seller(self) -> bool:
        """A buyer's request the seller has not answered yet."""
        return self.cancel_status == CANCEL_REQUESTED and self.requestor_type in (None, "BUYER")


def _date(moment: datetime) -> str:
    if moment.tzinfo is None:
        raise ValueError(f"{moment.isoformat()} has no time zone")
    utc = moment.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


class EbayPostOrderClient(PostOrderApi):
    """Async client for eBay Post-Order v2 cancellations.

    Args:
        base_url: API root, e.g. "http://127.0.0.1:8700/ebay" or "https://api.ebay.com".
        access_token: The OAuth user access token (sent as `IAF <token>`, the form the
            Post-Order API takes OAuth tokens in).
        http: A shared `httpx.AsyncClient`; one is created (and owned) when omitted.
        timeout: Seconds per request.
        marketplace_id: Sent as X-EBAY-C-MARKETPLACE-ID when given (e.g. "EBAY_DE").
    """

    root = "/post-order/v2/cancellation"
    extra_headers = ACCEPT_JSON

    def __init__(
        self,
        base_url: str,
        access_token: str,
        http: httpx.AsyncClient | None = None,
        timeout: float = 10.0,
        marketplace_id: str | None = None,
    ) -> None:
        super().__init__(base_url, access_token, http, timeout)
        if marketplace_id:
            self._headers["X-EBAY-C-MARKETPLACE-ID"] = marketplace_id

    async def search_cancellations(self, created_after: datetime) -> list[EbayCancellation]:
        """Every cancellation requested at or after `created_after`, oldest first.

        Follows the pages (numbered from 1) to the last. Without an end date eBay searches
        90 days forward from the start, which covers any poller's window.
        """
        found: list[EbayCancellation] = []
        page, pages = 1, 1
        while page <= pages:
            params = {
                "creation_date_range_from": _date(created_after),
                "sort": "+CANCEL_REQUEST_DATE",
                "limit": str(PAGE_SIZE),
                "offset": str(page),
            }
            body = (await self._call("GET", "/search", params=params)).json()
            found += [EbayCancellation.model_validate(c) for c in body.get("cancellations", [])]
            pages = (body.get("paginationOutput") or {}).get("totalPages", 0)
            page += 1
        return found

    async def get_cancellation(self, cancel_id: str) -> EbayCancellation | None:
        """The cancellation with this id (Search Cancellations by cancel_id), if any."""
        body = (await self._call("GET", "/search", params={"cancel_id": cancel_id})).json()
        found = body.get("cancellations") or []
        return EbayCancellation.model_validate(found[0]) if found else None

    async def order_cancellations(self, order_id: str) -> list[EbayCancellation]:
        """Every cancellation of one order (Search Cancellations by legacy_order_id)."""
        params = {"legacy_order_id": order_id, "limit": str(PAGE_SIZE)}
        body = (await self._call("GET", "/search", params=params)).json()
        return [EbayCancellation.model_validate(c) for c in body.get("cancellations", [])]

    async def create_cancellation(
        self, order_id: str, reason: str, paid_at: datetime | None = None
    ) -> str:
        """The seller cancels the whole order (eBay refunds the buyer); returns the cancelId.

        `reason` is a seller's CancelReasonEnum value (OUT_OF_STOCK_OR_CANNOT_FULFILL,
        BUYER_ASKED_CANCEL, ADDRESS_ISSUES). eBay takes no idempotency key and refuses to
        cancel a canceled order: callers that may repeat it look with
        `order_cancellations` first.
        """
        body: dict[str, Any] = {"legacyOrderId": order_id, "cancelReason": reason}
        if paid_at is not None:
            body |= {"buyerPaid": True, "buyerPaidDate": {"value": _date(paid_at)}}
        cancel_id: str = (await self._call("POST", "", json=body)).json()["cancelId"]
        return cancel_id

    async def approve_cancellation(self, cancel_id: str) -> None:
        """Approve the buyer's request: eBay cancels the order and refunds the buyer.

        eBay refuses a second approval (the request is closed then); callers that may
        repeat one read the request back with `get_cancellation`.
        """
        await self._call("POST", f"/{cancel_id}/approve")

    async def reject_cancellation(
        self,
        cancel_id: str,
        *,
        shipped_at: datetime | None = None,
        tracking_number: str | None = None,
    ) -> None:
        """Reject the buyer's request; the order goes ahead.

        eBay's RejectCancelRequest carries no reason, only the shipment's date and
        tracking number, which should be given when the order has shipped.
        """
        body: dict[str, Any] = {}
        if shipped_at is not None:
            body["shipmentDate"] = {"value": _date(shipped_at)}
        if tracking_number:
            body["trackingNumber"] = tracking_number
        await self._call("POST", f"/{cancel_id}/reject", json=body)
