"""Stripe disputes: read a dispute, submit its evidence, accept (close) it.

Same wire format and errors as the payments adapter (form-encoded, `Idempotency-Key`,
Stripe's error shape); works against Stripe itself. `dispute_snapshot` turns Stripe's
dispute object (from the API or a webhook's `data.object`) into our `DisputeSnapshot`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from crossdock.models.dispute import DisputeSnapshot
from crossdock.money import Money
from crossdock.partners.payments import PaymentsClient


def dispute_snapshot(body: Any) -> DisputeSnapshot:
    """Our view of a Stripe dispute object.

    Raises:
        ValueError: Not a dispute object, or a field is missing or not Stripe's (the
            message names it).
    """
    if not isinstance(body, dict) or body.get("object") != "dispute":
        shown = body.get("object") if isinstance(body, dict) else type(body).__name__
        raise ValueError(f"object is {str(shown)[:40]!r}, expected 'dispute'")
    details = body.get("evidence_details") or {}
    if not isinstance(details, dict):
        raise ValueError("evidence_details must be an object (due_by, submission_count)")
    intent = body.get("payment_intent")
    if isinstance(intent, dict):
        intent = intent.get("id")
    try:
        return DisputeSnapshot(
            id=body["id"],
            charge=body.get("charge") or "",
            payment_intent=intent,
            amount=Money(amount=body["amount"], currency=str(body["currency"]).upper()),
            reason=body["reason"],
            status=body["status"],
            due_by=_due_by(details.get("due_by")),
            submission_count=details.get("submission_count", 0),
        )
    except KeyError as missing:
        raise ValueError(f"dispute has no {missing.args[0]!r}") from None


def _due_by(value: Any) -> datetime | None:
    """`evidence_details.due_by` (unix seconds) as a time; ValueError if it is none."""
    if value is None or value == 0:
        return None  # Stripe's "no deadline"
    # Past the year 2286 (or a bool, a float, a string) it is no Stripe timestamp, and
    # `fromtimestamp` would overflow.
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value < 10**10:
        raise ValueError(f"evidence_details.due_by {str(value)[:24]!r} is not a unix timestamp")
    return datetime.fromtimestamp(value, UTC)


class StripeDisputesClient(PaymentsClient):
    """Disputes on the payments connection (the same base URL, key and error mapping)."""

    async def retrieve_dispute(self, dispute_id: str) -> DisputeSnapshot:
        """The dispute as the provider sees it now."""
        return dispute_snapshot(await self._call("GET", f"/v1/disputes/{dispute_id}"))

    async def submit_evidence(
        self, dispute_id: str, evidence: dict[str, str], idempotency_key: str
    ) -> DisputeSnapshot:
        """Send `evidence` (Stripe field names) and submit it (`submit=true`).

        Raises:
            PartnerRejected: The dispute no longer takes evidence (closed, past due) or a
                field is unknown.
        """
        form = {f"evidence[{name}]": value for name, value in sorted(evidence.items())}
        form["submit"] = "true"
        body = await self._call("POST", f"/v1/disputes/{dispute_id}", form, idempotency_key)
        return dispute_snapshot(body)

    async def close_dispute(self, dispute_id: str, idempotency_key: str) -> DisputeSnapshot:
        """Accept the dispute: Stripe closes it as lost and keeps the funds withdrawn."""
        body = await self._call("POST", f"/v1/disputes/{dispute_id}/close", {}, idempotency_key)
        return dispute_snapshot(body)

    async def order_of_payment(self, intent_id: str) -> str:
        """The order workflow id a PaymentIntent was created for (`metadata[order]`), or ""."""
        intent = await self.retrieve(intent_id)
        return intent.metadata.get("order", "")
