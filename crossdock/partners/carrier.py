"""The carrier adapter, in EasyPost's wire format (works against EasyPost itself).

`buy_label` turns a `LabelRequest` into an EasyPost shipment with customs info, picks
the cheapest rate and buys it; `verify_address` asks for delivery verification of an
address; `file_claim` claims for a lost or damaged parcel (EasyPost's Claims API);
`parse_tracker_event` (`carrier_events.py`) reads the Events EasyPost pushes to our webhook;
EasyPost's objects as pydantic models are in `carrier_objects.py`.
Failures arrive as `crossdock.partners.errors` types: an invalid address or missing
customs data is `PartnerRejected` with EasyPost's code (e.g. "SHIPMENT.INVALID_PARAMS"),
429 is `RateLimited`, 5xx and timeouts `PartnerUnavailable`.
"""

from __future__ import annotations

import base64
from decimal import ROUND_CEILING, Decimal
from typing import Any

import httpx
from pydantic import ValidationError

from crossdock.models.order import Address, LineItem
from crossdock.models.shipment import (
    ClaimKind,
    Label,
    LabelRequest,
)
from crossdock.money import Money
from crossdock.partners.carrier_events import NotATrackerEvent, parse_tracker_event
from crossdock.partners.carrier_objects import (
    PARTNER,
    AddressVerification,
    CarrierAddress,
    Claim,
    Rate,
    Shipment,
    Tracker,
    TrackingDetail,
    VerificationError,
)
from crossdock.partners.errors import PartnerRejected, PartnerUnavailable
from crossdock.partners.evidence_pdf import text_pdf
from crossdock.partners.http import PartnerApi

__all__ = [
    "AddressVerification",
    "CarrierClient",
    "Claim",
    "Label",
    "LabelRequest",
    "NotATrackerEvent",
    "Rate",
    "Shipment",
    "Tracker",
    "TrackingDetail",
    "cheapest_rate",
    "grams_to_ounces",
    "parse_tracker_event",
]

_GRAMS_PER_OUNCE = Decimal("28.349523125")

# EasyPost's address field names in ours.
_ADDRESS_FIELDS = {"street1": "line1", "street2": "line2", "state": "region", "zip": "postal_code"}


def _verification_text(error: VerificationError) -> str:
    field = _ADDRESS_FIELDS.get(error.field or "address", error.field or "address")
    code = f" ({error.code})" if error.code else ""
    return f"{field}: {error.message or 'invalid'}{code}"


def _our_address(found: CarrierAddress, sent: Address) -> Address | None:
    """`found` in our terms; None if the carrier's version lacks what an Address needs."""
    try:
        return Address(
            name=found.name or found.company or sent.name,
            line1=found.street1 or "",
            line2=found.street2 or "",
            city=found.city or "",
            region=found.state or "",
            postal_code=found.zip or "",
            country=(found.country or sent.country).upper(),
            phone=found.phone or sent.phone,
        )
    except ValidationError:
        return None


def read_easypost_error(body: Any) -> tuple[str | None, str | None]:
    """(code, message) from EasyPost's `{"error": {...}}`, field errors spelled out."""
    error = body["error"]
    message = str(error.get("message") or "")
    details = [_field_message(item) for item in error.get("errors") or []]
    if details:
        message = f"{message} ({'; '.join(details)})"
    return error.get("code"), message or None


def _field_message(item: Any) -> str:
    # EasyPost's field errors come as {"field", "message"}, as {"field": "message"}, or
    # as plain strings, depending on the endpoint.
    if isinstance(item, dict) and "field" in item:
        return f"{item['field']}: {item.get('message')}"
    if isinstance(item, dict):
        return "; ".join(f"{name}: {text}" for name, text in item.items())
    return str(item)


def grams_to_ounces(grams: int) -> float:
    """EasyPost weights: ounces to one decimal, rounded up so we never under-declare."""
    ounces = (Decimal(grams) / _GRAMS_PER_OUNCE).quantize(Decimal("0.1"), ROUND_CEILING)
    return float(max(ounces, Decimal("0.1")))


def _address(address: Address) -> dict[str, str]:
    return {
        "name": address.name,
        "street1": address.line1,
        "street2": address.line2,
        "city": address.city,
        "state": address.region,
        "zip": address.postal_code,
        "country": address.country,
        "phone": address.phone,
    }


def _customs_item(item: LineItem) -> dict[str, Any]:
    # EasyPost's customs value and weight are per line (all units together).
    return {
        "description": item.title,
        "quantity": item.quantity,
        "value": item.line_total.to_decimal_string(),
        "currency": item.unit_price.currency,
        "weight": grams_to_ounces(item.weight_grams * item.quantity),
        "hs_tariff_number": item.hs_code,
        "origin_country": item.origin_country,
        "code": item.sku,
    }


def shipment_body(request: LabelRequest) -> dict[str, Any]:
    """The EasyPost create-shipment body for `request` (customs info when international)."""
    shipment: dict[str, Any] = {
        "reference": request.reference,
        "to_address": _address(request.to_address),
        "from_address": _address(request.from_address),
        "parcel": {"weight": grams_to_ounces(request.weight_grams)},
    }
    if request.is_return:
        shipment["is_return"] = True
    if request.international:
        shipment["customs_info"] = {
            "contents_type": "merchandise",
            "customs_certify": True,
            "customs_signer": request.from_address.name,
            "eel_pfc": "NOEEI 30.37(a)",
            "non_delivery_option": "return",
            "restriction_type": "none",
            "customs_items": [_customs_item(item) for item in request.items],
        }
    return {"shipment": shipment}


INSURANCE_CURRENCY = "USD"


def _pdf_data_uri(title: str, text: str) -> str:
    """`text` as a PDF in a data URI, the form EasyPost takes claim attachments in."""
    encoded = base64.b64encode(text_pdf(title, text)).decode("ascii")
    return f"data:application/pdf;base64,{encoded}"


def cheapest_rate(rates: list[Rate], currency: str) -> Rate:
    """The cheapest rate, compared within one currency: `currency` if any rate is in it,
    else the first rate's (carriers may quote in several; we never compare across)."""
    if not rates:
        raise PartnerRejected(
            PARTNER, "the carrier offered no rates", code="SHIPMENT.RATES.UNAVAILABLE"
        )
    comparable = [r for r in rates if r.currency.upper() == currency.upper()] or [
        r for r in rates if r.currency == rates[0].currency
    ]
    return min(comparable, key=lambda rate: rate.money.amount)


class CarrierClient(PartnerApi):
    """Async client for an EasyPost-compatible carrier API (the sandbox or EasyPost).

    Args:
        base_url: API root without the version, e.g. "http://127.0.0.1:8700/easypost" or
            "https://api.easypost.com".
        api_key: sent as the HTTP Basic username, as EasyPost documents.
        http: a shared `httpx.AsyncClient`; one is created (and owned) when omitted.
        timeout: seconds per request.
        insure_labels: insure each label at purchase for its contents' value, which is
            what makes a parcel claimable: EasyPost's claims are insurance claims. It
            insures in US dollars only, so contents declared in another currency are not
            insured (and cannot be claimed through EasyPost).
    """

    def __init__(
        self,
        base_url: str,
        api_key: str,
        http: httpx.AsyncClient | None = None,
        timeout: float = 10.0,
        *,
        insure_labels: bool = False,
    ) -> None:
        super().__init__(
            base_url,
            http,
            timeout,
            partner=PARTNER,
            read_error=read_easypost_error,
            # The key as the HTTP Basic username with an empty password.
            headers={"Authorization": f"Basic {base64.b64encode(f'{api_key}:'.encode()).decode()}"},
        )
        self._insure_labels = insure_labels

    async def _easypost(
        self,
        method: str,
        path: str,
        body: dict[str, Any] | None = None,
        idempotency_key: str | None = None,
    ) -> dict[str, Any]:
        """An EasyPost call: the body as JSON, the answer's JSON object."""
        result: dict[str, Any] = await self._json(method, path, idempotency_key, json=body)
        return result

    async def buy_label(self, request: LabelRequest, idempotency_key: str) -> Label:
        """Create a shipment for `request`, buy its cheapest rate, return the label.

        The two calls use `{idempotency_key}:create` and `{idempotency_key}:buy`, so a
        retried activity replays both instead of buying a second label.

        Raises:
            PartnerRejected: invalid address, customs data or parcel (EasyPost's code).
        """
        created = await self._easypost(
            "POST", "/v2/shipments", shipment_body(request), f"{idempotency_key}:create"
        )
        shipment = Shipment.model_validate(created)
        rate = cheapest_rate(shipment.rates, request.currency)
        try:
            bought = Shipment.model_validate(
                await self._easypost(
                    "POST",
                    f"/v2/shipments/{shipment.id}/buy",
                    {"rate": {"id": rate.id}},
                    f"{idempotency_key}:buy",
                )
            )
        except PartnerRejected as exc:
            # Bought before, but the answer was lost (a carrier without idempotency
            # keys): the label exists, so read it instead of failing the order.
            if exc.code != "SHIPMENT.POSTAGE.EXISTS":
                raise
            bought = await self.retrieve_shipment(shipment.id)
        await self._insure(bought, request, idempotency_key)
        return bought.label()

    async def _insure(self, bought: Shipment, request: LabelRequest, idempotency_key: str) -> None:
        """Insure a bought label for its contents' value (EasyPost's /insure, as its SDK
        does), when the settings ask for it and the contents are in US dollars; once."""
        if not self._insure_labels or request.currency != INSURANCE_CURRENCY:
            return
        if bought.insurance is not None:
            return
        value = sum((item.line_total for item in request.items), Money.zero("USD"))
        await self._easypost(
            "POST",
            f"/v2/shipments/{bought.id}/insure",
            {"amount": value.to_decimal_string()},
            f"{idempotency_key}:insure",
        )

    async def retrieve_shipment(self, shipment_id: str) -> Shipment:
        """The shipment as the carrier sees it now (with its tracker once bought)."""
        return Shipment.model_validate(await self._easypost("GET", f"/v2/shipments/{shipment_id}"))

    async def refund_label(self, shipment_id: str, idempotency_key: str) -> Shipment:
        """Void an unused label; the shipment comes back with `refund_status` "submitted".

        A refund already submitted counts as done. A label the carrier has scanned can no
        longer be refunded: `PartnerRejected` with code "SHIPMENT.REFUND.UNAVAILABLE".
        """
        path = f"/v2/shipments/{shipment_id}/refund"
        try:
            return Shipment.model_validate(await self._easypost("POST", path, {}, idempotency_key))
        except PartnerRejected as exc:
            if exc.code != "SHIPMENT.REFUND.UNAVAILABLE":
                raise
            shipment = await self.retrieve_shipment(shipment_id)
            if shipment.refund_status is None:
                raise
            return shipment

    async def verify_address(self, address: Address) -> AddressVerification:
        """Ask the carrier whether it can deliver to `address` (delivery verification).

        Read-only in effect (EasyPost stores an Address object, nothing is bought), so no
        idempotency key. An undeliverable address is an answer, not an error.

        Raises:
            PartnerRejected: the carrier refused the request itself (e.g. no street).
            PartnerUnavailable: the answer has no delivery verification.
        """
        body = {"address": _address(address), "verify": True}
        found = CarrierAddress.model_validate(await self._easypost("POST", "/v2/addresses", body))
        delivery = found.verifications.get("delivery")
        if delivery is None:
            raise PartnerUnavailable(
                PARTNER, f"address {found.id} came back without a delivery verification"
            )
        return AddressVerification(
            deliverable=delivery.success,
            errors=[_verification_text(error) for error in delivery.errors],
            normalised=_our_address(found, address) if delivery.success else None,
        )

    async def file_claim(
        self,
        tracking_code: str,
        amount: Money,
        kind: ClaimKind,
        description: str,
        idempotency_key: str,
    ) -> Claim:
        """Claim `amount` from the carrier's insurance for a parcel lost, damaged or stolen.

        EasyPost's claims are insurance claims in US dollars, with no currency parameter;
        the evidence goes as attachments: `description` typeset as a PDF, sent as the
        email evidence, the invoice and (damage, theft) the supporting documentation.

        Raises:
            PartnerRejected: `amount` is not in US dollars ("CLAIM.CURRENCY", nothing is
                sent); the label was not insured (404 "NOT_FOUND", "No eligible insurance
                found"); invalid claim ("CLAIM.INVALID_PARAMS", naming the field), or one
                the parcel does not qualify for ("CLAIM.NOT_ELIGIBLE": a loss claim for a
                delivered parcel, a refunded label; "CLAIM.ALREADY_EXISTS").
        """
        if amount.currency != INSURANCE_CURRENCY:
            raise PartnerRejected(
                PARTNER,
                f"EasyPost insures and pays claims in US dollars; {amount.currency} "
                "cannot be claimed",
                code="CLAIM.CURRENCY",
            )
        kind = ClaimKind(kind)
        evidence = _pdf_data_uri(f"Claim for {tracking_code}", description)
        body: dict[str, Any] = {
            "type": kind.value,
            "tracking_code": tracking_code,
            "amount": amount.to_decimal_string(),
            "description": description,
            "email_evidence_attachments": [evidence],
            "invoice_attachments": [evidence],
        }
        if kind is not ClaimKind.LOSS:
            body["supporting_documentation_attachments"] = [evidence]
        return Claim.model_validate(
            await self._easypost("POST", "/v2/claims", body, idempotency_key)
        )

    async def retrieve_claim(self, claim_id: str) -> Claim:
        """A claim as the carrier sees it now."""
        return Claim.model_validate(await self._easypost("GET", f"/v2/claims/{claim_id}"))

    async def retrieve_tracker(self, tracker_id: str) -> Tracker:
        """A tracker with its full tracking history."""
        return Tracker.model_validate(await self._easypost("GET", f"/v2/trackers/{tracker_id}"))
