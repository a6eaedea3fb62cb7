"""eBay payment disputes (Sell Fulfillment API), seen as our `DisputeSnapshot`.

eBay's reasons and states are translated to Stripe's, which the dispute workflow speaks:
ACTION_NEEDED is `needs_response`, OPEN (answered, eBay deciding) is `under_review`,
CLOSED is `won` or `lost` by `resolution.reasonForClosure`. eBay takes no idempotency
key, so answers are made once by state: `contest` and `accept` read the dispute first and
do nothing when the seller's response is already recorded (a retried activity after a
lost answer), and send the dispute's current `revision`, which eBay checks.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import httpx

from crossdock.models.dispute import DisputeReason, DisputeSnapshot, ProviderStatus
from crossdock.models.order import Address
from crossdock.money import Money
from crossdock.partners.ebay_api import SELL_FULFILLMENT, EbayApi

REASONS = {
    "ITEM_NOT_RECEIVED": DisputeReason.PRODUCT_NOT_RECEIVED,
    "SIGNIFICANTLY_NOT_AS_DESCRIBED": DisputeReason.PRODUCT_UNACCEPTABLE,
    "COUNTERFEIT": DisputeReason.PRODUCT_UNACCEPTABLE,
    "FRAUD": DisputeReason.FRAUDULENT,
    "CREDIT_NOT_PROCESSED": DisputeReason.CREDIT_NOT_PROCESSED,
    "DUPLICATE_AMOUNT": DisputeReason.DUPLICATE,
}
CLOSED_AS = {
    "SELLER_WON": ProviderStatus.WON,
    "SELLER_LOST": ProviderStatus.LOST,
    "SELLER_ACCEPT": ProviderStatus.LOST,
}


def _status(body: dict[str, Any]) -> ProviderStatus:
    state = body["paymentDisputeStatus"]
    if state == "ACTION_NEEDED":
        return ProviderStatus.NEEDS_RESPONSE
    if state == "OPEN":
        return ProviderStatus.UNDER_REVIEW
    outcome = (body.get("resolution") or {}).get("reasonForClosure")
    if outcome not in CLOSED_AS:
        raise ValueError(f"closed payment dispute with reasonForClosure {outcome!r}")
    return CLOSED_AS[outcome]


def payment_dispute_snapshot(body: dict[str, Any]) -> DisputeSnapshot:
    """Our view of an eBay `PaymentDispute` (or summary).

    Raises:
        ValueError: A field is missing or has a value eBay does not document.
    """
    try:
        respond_by = body.get("respondByDate")
        return DisputeSnapshot(
            id=body["paymentDisputeId"],
            order_workflow_id=f"order-ebay-{body['orderId']}",
            amount=Money.parse(body["amount"]["value"], body["amount"]["currency"]),
            reason=REASONS.get(body["reason"], DisputeReason.GENERAL),
            status=_status(body),
            due_by=datetime.fromisoformat(respond_by) if respond_by else None,
            submission_count=1 if body.get("sellerResponse") == "SELLER_CONTEST" else 0,
        )
    except KeyError as missing:
        raise ValueError(f"payment dispute has no {missing.args[0]!r}") from None


def _return_address(address: Address) -> dict[str, str]:
    return {
        "fullName": address.name,
        "addressLine1": address.line1,
        "city": address.city,
        "postalCode": address.postal_code,
        "country": address.country,
    }


class EbayPaymentDisputesClient(EbayApi):
    """Read, contest and accept eBay payment disputes.

    Args:
        base_url: The root of eBay's payment-dispute host, e.g.
            "http://127.0.0.1:8700/ebay" or "https://apiz.ebay.com" (not api.ebay.com,
            which serves the rest of the Fulfillment API).
        access_token: The OAuth user access token.
        return_address: Where buyers return items (eBay requires it to contest SNAD).
    """

    root = SELL_FULFILLMENT

    def __init__(
        self,
        base_url: str,
        access_token: str,
        return_address: Address,
        http: httpx.AsyncClient | None = None,
        timeout: float = 10.0,
    ) -> None:
        super().__init__(base_url, access_token, http, timeout)
        self._return_address = _return_address(return_address)

    async def _get(self, dispute_id: str) -> dict[str, Any]:
        body: dict[str, Any] = (await self._call("GET", f"/payment_dispute/{dispute_id}")).json()
        return body

    async def summaries(self, page_size: int = 200) -> list[dict[str, Any]]:
        """Every payment dispute summary (all states), following the pages."""
        found: list[dict[str, Any]] = []
        while True:
            params = {"limit": page_size, "offset": len(found)}
            page = (await self._call("GET", "/payment_dispute_summary", params=params)).json()
            batch = page.get("paymentDisputeSummaries") or []
            found.extend(batch)
            if not batch or len(found) >= page.get("total", 0):
                return found

    async def get_dispute(self, dispute_id: str) -> DisputeSnapshot:
        """The payment dispute as eBay sees it now."""
        return payment_dispute_snapshot(await self._get(dispute_id))

    async def contest(self, dispute_id: str, note: str) -> DisputeSnapshot:
        """Contest the dispute, once: a dispute already contested is left as it is.

        Raises:
            PartnerRejected: eBay refuses (accepted or closed meanwhile, revision moved).
        """
        return await self._answer(dispute_id, "contest", "SELLER_CONTEST", note=note[:1000])

    async def accept(self, dispute_id: str) -> DisputeSnapshot:
        """Accept the dispute (the buyer is refunded), once."""
        return await self._answer(dispute_id, "accept", "SELLER_ACCEPT")

    async def _answer(
        self, dispute_id: str, verb: str, response: str, **extra: str
    ) -> DisputeSnapshot:
        body = await self._get(dispute_id)
        if body.get("sellerResponse") != response:
            payload = {"revision": body["revision"], "returnAddress": self._return_address, **extra}
            await self._call("POST", f"/payment_dispute/{dispute_id}/{verb}", json=payload)
            body = await self._get(dispute_id)
        return payment_dispute_snapshot(body)
