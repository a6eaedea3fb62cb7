"""Answering marketplace claims (eBay INR/SNAD cases, Amazon A-to-z claims): the dispute
workflow's contest and accept, translated into each marketplace's one call.

Contesting a claim means showing the shipment: eBay takes the tracking through
`provide_shipment_info`, Amazon through a representation that also carries the rest of
the staged packet as its note. Accepting is a full refund through the marketplace. Both
marketplaces take no idempotency key, so the clients answer once by the claim's state.
"""

from __future__ import annotations

from temporalio.exceptions import ApplicationError

from activities.errors import partner_errors
from crossdock.models.dispute import (
    CloseDisputeInput,
    DisputeAnswer,
    DisputeProvider,
    DisputeSnapshot,
    ReadDisputeInput,
    SubmitEvidenceInput,
)
from crossdock.partners.amazon_claims import AmazonClaimsClient
from crossdock.partners.ebay_cases import EbayCasesClient

CLAIM_PROVIDERS = frozenset({DisputeProvider.EBAY_CASE, DisputeProvider.AMAZON})
TRACKING_FIELDS = ("shipping_carrier", "shipping_tracking_number")


def _answer(snapshot: DisputeSnapshot) -> DisputeAnswer:
    return DisputeAnswer(
        dispute_id=snapshot.id, status=snapshot.status, submission_count=snapshot.submission_count
    )


def _note(evidence: dict[str, str]) -> str:
    return "; ".join(f"{k}: {v}" for k, v in sorted(evidence.items()) if k not in TRACKING_FIELDS)


class MarketplaceClaims:
    """The claim clients the worker has (None where a marketplace is not connected)."""

    def __init__(self, cases: EbayCasesClient | None, atoz: AmazonClaimsClient | None) -> None:
        self._cases = cases
        self._atoz = atoz

    def _ebay(self) -> EbayCasesClient:
        if self._cases is None:
            raise ApplicationError("no eBay cases client is configured", non_retryable=True)
        return self._cases

    def _amazon(self) -> AmazonClaimsClient:
        if self._atoz is None:
            raise ApplicationError("no Amazon A-to-z client is configured", non_retryable=True)
        return self._atoz

    async def contest(self, input: SubmitEvidenceInput) -> DisputeAnswer:
        """Show the marketplace the shipment's tracking (and, at Amazon, the packet)."""
        carrier = input.evidence.get("shipping_carrier", "")
        tracking = input.evidence.get("shipping_tracking_number", "")
        with partner_errors():
            if input.provider is DisputeProvider.EBAY_CASE:
                snapshot = await self._ebay().provide_shipment_info(
                    input.dispute_id, carrier, tracking
                )
            else:
                snapshot = await self._amazon().represent(
                    input.dispute_id, carrier, tracking, _note(input.evidence)
                )
        return _answer(snapshot)

    async def read(self, input: ReadDisputeInput) -> DisputeSnapshot:
        """The claim as the marketplace has it now."""
        with partner_errors():
            if input.provider is DisputeProvider.EBAY_CASE:
                return await self._ebay().get_case(input.dispute_id)
            return await self._amazon().get_claim(input.dispute_id)

    async def accept(self, input: CloseDisputeInput) -> DisputeAnswer:
        """Refund the buyer in full through the marketplace, closing the claim."""
        note = f"refund accepted ({input.idempotency_key})"
        with partner_errors():
            if input.provider is DisputeProvider.EBAY_CASE:
                snapshot = await self._ebay().issue_refund(input.dispute_id, note)
            else:
                snapshot = await self._amazon().refund(input.dispute_id, note)
        return _answer(snapshot)
