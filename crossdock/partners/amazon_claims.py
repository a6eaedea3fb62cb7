"""Amazon A-to-z Guarantee claims, seen as our `DisputeSnapshot`, and the seller's answers:
a representation with tracking (contest) or a refund (accept).

SP-API has no claims API; this client speaks the modelled surface described in
`crossdock/sandbox/amazon/claims.py` (Seller Central's claim fields in SP-API
conventions). Statuses translate to Stripe's: ACTION_REQUIRED is `needs_response`,
UNDER_REVIEW is `under_review`, CLOSED is `won` when Amazon DENIED the claim (or the buyer
WITHDREW it) and `lost` when GRANTED. Answers are once-only by state: the claim is read
first and left alone when the seller's response is already recorded.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from crossdock.models.dispute import DisputeSnapshot, ProviderStatus
from crossdock.money import Money
from crossdock.partners.amazon_api import PARTNER, SpApi
from crossdock.partners.errors import PartnerRejected
from crossdock.policies.disputes import claim_reason

SELLER_WON = frozenset({"DENIED", "WITHDRAWN"})


def _status(body: dict[str, Any]) -> ProviderStatus:
    state = body["ClaimStatus"]
    if state == "ACTION_REQUIRED":
        return ProviderStatus.NEEDS_RESPONSE
    if state == "CLOSED":
        return ProviderStatus.WON if body.get("Decision") in SELLER_WON else ProviderStatus.LOST
    return ProviderStatus.UNDER_REVIEW


def claim_snapshot(body: dict[str, Any]) -> DisputeSnapshot:
    """Our view of an A-to-z claim.

    Raises:
        ValueError: A field the dispute needs is missing.
    """
    try:
        amount = body["ClaimAmount"]
        response = (body.get("SellerResponse") or {}).get("ResponseType")
        return DisputeSnapshot(
            id=body["ClaimId"],
            order_workflow_id=f"order-amazon-{body['AmazonOrderId']}",
            amount=Money.parse(amount["Amount"], amount["CurrencyCode"]),
            reason=claim_reason("amazon", str(body.get("ClaimType", ""))),
            status=_status(body),
            due_by=datetime.fromisoformat(body["RespondByDate"]),
            submission_count=1 if response == "REPRESENTATION" else 0,
        )
    except KeyError as missing:
        raise ValueError(f"A-to-z claim has no {missing.args[0]!r}") from None


class AmazonClaimsClient(SpApi):
    """Read A-to-z claims and answer them once."""

    root = "/atoz/v0/claims"
    accept = None

    async def _payload(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        # The A-to-z API wraps every answer in {"payload": ...}.
        payload: dict[str, Any] = (await self._json(method, path, **kwargs))["payload"]
        return payload

    async def claims(self) -> list[dict[str, Any]]:
        """Every claim of the seller (all statuses), newest first."""
        found: list[dict[str, Any]] = (await self._payload("GET", ""))["Claims"]
        return found

    async def get(self, claim_id: str) -> dict[str, Any]:
        return await self._payload("GET", f"/{claim_id}")

    async def get_claim(self, claim_id: str) -> DisputeSnapshot:
        return claim_snapshot(await self.get(claim_id))

    async def represent(
        self, claim_id: str, carrier: str, tracking_number: str, note: str
    ) -> DisputeSnapshot:
        """Contest the claim with the shipment's tracking, once.

        Raises:
            PartnerRejected: No tracking to show, or Amazon refuses (the claim closed).
        """
        body = await self.get(claim_id)
        if not body.get("SellerResponse"):
            if not carrier or not tracking_number:
                raise PartnerRejected(PARTNER, "no carrier and tracking number to represent with")
            payload = {
                "carrierCode": carrier,
                "trackingNumber": tracking_number,
                "note": note[:2000],
            }
            body = await self._payload("POST", f"/{claim_id}/representation", json=payload)
        return claim_snapshot(body)

    async def refund(self, claim_id: str, note: str) -> DisputeSnapshot:
        """Refund the buyer, which closes the claim granted, once."""
        body = await self.get(claim_id)
        if not body.get("SellerResponse"):
            body = await self._payload("POST", f"/{claim_id}/refund", json={"note": note[:2000]})
        return claim_snapshot(body)
