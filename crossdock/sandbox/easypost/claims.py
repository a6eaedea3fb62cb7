"""Claims for lost, damaged or stolen parcels, in the shape of EasyPost's Claims API.

    POST /easypost/v2/claims         file a claim: {"type", "tracking_code", "amount",
                                     "description", "email_evidence_attachments",
                                     "invoice_attachments",
                                     "supporting_documentation_attachments",
                                     "contact_email"?} (flat, not wrapped)
    GET  /easypost/v2/claims/{id}    retrieve it

EasyPost's claims are insurance claims: a parcel whose label was not insured (at purchase,
`insurance` on /buy, or after it, /insure) is answered 404 "No eligible insurance found",
and no more than the insured amount can be claimed. Amounts are US dollars and a claim
has no `currency` parameter (the sandbox refuses one, as an unknown field). Evidence comes
as attachments (data URIs or URLs): an email and an invoice always, supporting documents
for damage and theft (EasyPost's claim guide; the recorded SDK test sends all three).
The claim comes back as EasyPost's Claim object (`clm_...`, status "submitted", a
`history`, the stored `attachments`); each filed claim is one ledger entry of kind
"claim". The refusal codes CLAIM.INVALID_PARAMS, CLAIM.NOT_ELIGIBLE and
CLAIM.ALREADY_EXISTS follow EasyPost's `<OBJECT>.<PROBLEM>` form without being its
documented ones.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from crossdock.money import Money
from crossdock.sandbox.core.store import Table
from crossdock.sandbox.easypost.shapes import (
    PARTNER,
    EasyPostError,
    InvalidRequest,
    Json,
    dated,
    field_error,
    new_id,
    not_found,
    timestamp,
)

if TYPE_CHECKING:
    from crossdock.sandbox.easypost.carrier import Carrier
    from crossdock.sandbox.easypost.shipments import Shipment
    from crossdock.sandbox.easypost.tracking import Tracker

CLAIM_TYPES = ("damage", "loss", "theft")
# A claim in one of these states still stands, so a second one for the parcel is refused.
_OPEN = frozenset({"submitted", "in_review", "approved", "approved_partial", "needs_action"})


def _text(body: Json, name: str) -> str:
    value = body.get(name)
    return value.strip() if isinstance(value, str) else ""


FIELDS = frozenset(
    """type tracking_code amount description contact_email recipient_name
    check_delivery_address payment_method email_evidence_attachments invoice_attachments
    supporting_documentation_attachments""".split()
)
ATTACHMENTS = ("email_evidence_attachments", "invoice_attachments")
SUPPORTING = "supporting_documentation_attachments"


def _amount_errors(body: Json) -> Iterator[Json]:
    try:
        amount = Money.parse(str(body.get("amount")), "USD")
    except ValueError as exc:
        yield field_error("amount", f"{body.get('amount')!r} US dollars: {exc}.")
        return
    if amount.amount <= 0:
        yield field_error("amount", f"{body.get('amount')!r} must be more than zero.")


def _attachment_errors(body: Json) -> Iterator[Json]:
    needed = ATTACHMENTS + ((SUPPORTING,) if body.get("type") in ("damage", "theft") else ())
    for name in needed:
        value = body.get(name)
        if not isinstance(value, list) or not value:
            yield field_error(name, "Required: a list of files (data URIs or URLs).")
    for name in (*ATTACHMENTS, SUPPORTING):
        for item in body.get(name) or []:
            if not isinstance(item, str) or not item.startswith(("data:", "https://")):
                yield field_error(name, "Each attachment is a data URI or an https URL.")
                break


def _claim_errors(body: Json) -> list[Json]:
    errors = []
    if body.get("type") not in CLAIM_TYPES:
        errors.append(
            field_error("type", f"{body.get('type')!r} is not one of {', '.join(CLAIM_TYPES)}.")
        )
    for name in ("tracking_code", "description"):
        if not _text(body, name):
            errors.append(field_error(name, "Required and missing."))
    errors += [
        field_error(name, "Not a parameter of a claim.") for name in sorted(set(body) - FIELDS)
    ]
    errors.extend(_amount_errors(body))
    errors.extend(_attachment_errors(body))
    return errors


def validate_claim(body: Any) -> Json:
    """The claim request, or the EasyPost error naming every field that is wrong."""
    request: Json = body if isinstance(body, dict) else {}
    errors = _claim_errors(request)
    if errors:
        raise InvalidRequest(
            422,
            "CLAIM.INVALID_PARAMS",
            "Unable to create claim, one or more parameters were invalid.",
            errors,
        )
    return request


class ClaimDesk:
    """The carrier's claims department: claims against the parcels it carries."""

    def __init__(self, carrier: Carrier) -> None:
        self.carrier = carrier
        self.claims: Table[Json] = carrier.ctx.store.table(PARTNER, "claim", Json)

    def file(self, body: Any, key: str | None) -> Json:
        """File a claim for a bought parcel; refuse one the parcel does not qualify for."""
        request = validate_claim(body)
        tracking_code = _text(request, "tracking_code")
        shipment, tracker = self._parcel(tracking_code)
        self._check_eligible(request["type"], tracking_code, shipment, tracker)
        amount = Money.parse(str(request["amount"]), "USD")
        self._check_insured(shipment, amount)
        claim = self._claim(request, shipment, amount, datetime.now(UTC))
        self.claims[claim["id"]] = claim
        self.carrier.ctx.ledger.record(
            PARTNER,
            "claim",
            shipment.data["id"],
            idempotency_key=key,
            money=amount,
            claim_id=claim["id"],
            claim_type=claim["type"],
            tracking_code=tracking_code,
            shipment_reference=shipment.data["reference"],
        )
        return copy.deepcopy(claim)

    def get(self, claim_id: str) -> Json:
        found = self.claims.get(claim_id)
        if found is None:
            raise not_found("claim", claim_id)
        return copy.deepcopy(found)

    def _parcel(self, tracking_code: str) -> tuple[Shipment, Tracker]:
        for tracker in self.carrier.trackers.peek():
            if tracker.data["tracking_code"] == tracking_code:
                return self.carrier.shipment(tracker.data["shipment_id"]), tracker
        raise InvalidRequest(
            422,
            "CLAIM.INVALID_PARAMS",
            f"No parcel with tracking code {tracking_code!r} was shipped with this account.",
            [field_error("tracking_code", "Unknown tracking code.")],
        )

    def _check_eligible(
        self, kind: str, tracking_code: str, shipment: Shipment, tracker: Tracker
    ) -> None:
        # Executed and refused (EasyPostError, not InvalidRequest): replayed under the key.
        if shipment.refunded:
            raise EasyPostError(
                422,
                "CLAIM.NOT_ELIGIBLE",
                f"The label of {tracking_code} was refunded: nothing was shipped to claim for.",
            )
        if kind == "loss" and tracker.data["status"] == "delivered":
            raise EasyPostError(
                422,
                "CLAIM.NOT_ELIGIBLE",
                f"{tracking_code} was delivered; a delivered parcel cannot be claimed as lost.",
            )
        for claim in self.claims.peek():
            if claim["tracking_code"] == tracking_code and claim["status"] in _OPEN:
                raise EasyPostError(
                    422,
                    "CLAIM.ALREADY_EXISTS",
                    f"Claim {claim['id']} ({claim['type']}, {claim['status']}) already "
                    f"stands for {tracking_code}.",
                    [field_error("tracking_code", f"Already claimed by {claim['id']}.")],
                )

    @staticmethod
    def _check_insured(shipment: Shipment, amount: Money) -> None:
        insured = shipment.data.get("insurance")
        if not insured:
            raise EasyPostError(404, "NOT_FOUND", "No eligible insurance found")
        if amount.amount > Money.parse(str(insured), "USD").amount:
            raise EasyPostError(
                422,
                "CLAIM.INVALID_PARAMS",
                f"The claim of {amount.to_decimal_string()} is more than the "
                f"{insured} the parcel is insured for.",
                [field_error("amount", f"At most {insured}.")],
            )

    @staticmethod
    def _claim(request: Json, shipment: Shipment, amount: Money, now: datetime) -> Json:
        created = "Claim was created."
        stored = [
            f"https://easypost-files.s3-us-west-2.amazonaws.com/insurance/{new_id('att')}.pdf"
            for name in (*ATTACHMENTS, SUPPORTING)
            for _ in request.get(name) or []
        ]
        fields = {
            "type": request["type"],
            "status": "submitted",
            "status_detail": created,
            "status_timestamp": timestamp(now),
            "tracking_code": _text(request, "tracking_code"),
            "shipment_id": shipment.data["id"],
            "requested_amount": amount.to_decimal_string(),
            "approved_amount": None,
            "insurance_amount": shipment.data["insurance"],
            "insurance_id": f"ins_{shipment.data['id'].removeprefix('shp_')}",
            "salvage_value": None,
            "description": _text(request, "description"),
            "contact_email": request.get("contact_email"),
            "recipient_name": None,
            "check_delivery_address": None,
            "payment_method": "easypost_wallet",
            "attachments": stored,
            "history": [
                {"status": "submitted", "status_detail": created, "timestamp": timestamp(now)}
            ],
        }
        return dated("clm", "Claim", now, fields)
