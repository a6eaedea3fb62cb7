"""Stripe disputes: read a dispute, submit its evidence, accept (close) it.

Same wire format and errors as the payments adapter (form-encoded, `Idempotency-Key`,
Stripe's error shape); works against Stripe itself. `dispute_snapshot` turns Stripe's
dispute object (from the API or a webhook's `data.object`) into our `DisputeSnapshot`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx

from crossdock.models.dispute import DisputeSnapshot
from crossdock.money import Money
from crossdock.partners.evidence_pdf import text_pdf
from crossdock.partners.http import send
from crossdock.partners.payments import PARTNER, PaymentsClient, read_stripe_error

# Evidence fields that take a File id, not text (Stripe's dispute_evidence type expands
# them to files): text for them is typeset as a PDF and uploaded first.
FILE_EVIDENCE = frozenset(
    """cancellation_policy customer_communication customer_signature
    duplicate_charge_documentation receipt refund_policy service_documentation
    shipping_documentation uncategorized_file""".split()
)


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
    """Disputes on the payments connection (the same base URL, key and error mapping).

    Args:
        files_base_url: Where files are uploaded: Stripe serves the Files API from its
            own host (https://files.stripe.com); by default `base_url`, as the sandbox.
    """

    def __init__(
        self,
        base_url: str,
        api_key: str,
        http: httpx.AsyncClient | None = None,
        timeout: float = 10.0,
        files_base_url: str = "",
    ) -> None:
        super().__init__(base_url, api_key, http, timeout)
        self._files_base = (files_base_url or base_url).rstrip("/")

    async def upload_evidence_file(
        self, name: str, content: bytes, filename: str, idempotency_key: str
    ) -> str:
        """Upload `content` (a PDF, JPEG or PNG) with purpose `dispute_evidence`; its
        File id."""
        response = await send(
            self._http,
            PARTNER,
            "POST",
            f"{self._files_base}/v1/files",
            read_stripe_error,
            data={"purpose": "dispute_evidence"},
            files={"file": (filename, content, "application/pdf")},
            headers=self._headers | {"Idempotency-Key": idempotency_key},
            timeout=self._timeout,
        )
        file_id: str = response.json()["id"]
        return file_id

    async def _as_files(self, evidence: dict[str, str], idempotency_key: str) -> dict[str, str]:
        """`evidence` with the text of every file field uploaded and replaced by its File
        id (a value that already is one is kept)."""
        out = dict(evidence)
        for name in sorted(FILE_EVIDENCE & set(evidence)):
            value = evidence[name]
            if value.startswith("file_"):
                continue
            pdf = text_pdf(name.replace("_", " ").capitalize(), value)
            out[name] = await self.upload_evidence_file(
                name, pdf, f"{name}.pdf", f"{idempotency_key}:file:{name}"
            )
        return out

    async def retrieve_dispute(self, dispute_id: str) -> DisputeSnapshot:
        """The dispute as the provider sees it now."""
        return dispute_snapshot(await self._form("GET", f"/v1/disputes/{dispute_id}"))

    async def submit_evidence(
        self, dispute_id: str, evidence: dict[str, str], idempotency_key: str
    ) -> DisputeSnapshot:
        """Send `evidence` (Stripe field names) and submit it (`submit=true`). Text in a
        file field (receipt, refund_policy, ...) is uploaded as a PDF first and the field
        references it; each upload has a key derived from `idempotency_key`, so a retry
        uploads nothing twice.

        Raises:
            PartnerRejected: The dispute no longer takes evidence (closed, past due) or a
                field is unknown.
        """
        files = await self._as_files(evidence, idempotency_key)
        form = {f"evidence[{name}]": value for name, value in sorted(files.items())}
        form["submit"] = "true"
        body = await self._form("POST", f"/v1/disputes/{dispute_id}", form, idempotency_key)
        return dispute_snapshot(body)

    async def close_dispute(self, dispute_id: str, idempotency_key: str) -> DisputeSnapshot:
        """Accept the dispute: Stripe closes it as lost and keeps the funds withdrawn."""
        body = await self._form("POST", f"/v1/disputes/{dispute_id}/close", {}, idempotency_key)
        return dispute_snapshot(body)

    async def order_of_payment(self, intent_id: str) -> str:
        """The order workflow id a PaymentIntent was created for (`metadata[order]`), or ""."""
        intent = await self.retrieve(intent_id)
        return intent.metadata.get("order", "")
