"""The carrier in EasyPost's shape: shipments with customs info, rates, labels, trackers.

    POST /easypost/v2/shipments              create a shipment and rate it
    POST /easypost/v2/shipments/{id}/buy     buy a rate: label, tracking code, tracker
    POST /easypost/v2/shipments/{id}/refund  void an unused label
    GET  /easypost/v2/shipments/{id}         GET /easypost/v2/trackers/{id}
    POST /easypost/v2/addresses              create an address; verify it with `verify`
                                             or `verify_strict` (delivery verification)
    POST /easypost/v2/addresses/create_and_verify   create, verify, refuse if undeliverable
    GET  /easypost/v2/addresses/{id}
    POST /easypost/v2/claims                 GET /easypost/v2/claims/{id}   (carrier_claims)

    POST /easypost/_sandbox/shipments/{id}/scenario   {"scenario": "lost"}: force what the
    GET  /easypost/_sandbox/shipments/{id}/scenario   parcel goes through (sandbox only)
    POST /easypost/_sandbox/scenarios        {"reference", "scenario"}: for the next label
                                             bought under that shipment reference

JSON bodies wrapped as EasyPost does (`{"shipment": {...}}`), the API key as HTTP Basic
username (or a Bearer token, as the official SDK sends it), errors as
`{"error": {"code", "message", "errors"}}`. Parcel weights are ounces, customs values and
rates are decimal strings. Bought parcels then move on their own, one tracking scan per
`tracking_step_seconds` (longer where a scan holds them), following the scenario drawn
for them (normal delivery, or a delay, customs hold, loss, return or address problem:
see `tracker_scenarios`; `options.sandbox_scenario` on the shipment forces one), and
every change is pushed to `carrier_webhook_url` as an EasyPost Event, at least once and
sometimes twice, as real webhooks are.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import copy
import json
import random
import re
import secrets
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

import httpx
import structlog
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from crossdock.money import Money, exponent
from crossdock.sandbox._easypost import (
    PARTNER,
    EasyPostError,
    InvalidRequest,
    Json,
    dated,
    field_error,
    new_id,
    not_found,
    sign,
    timestamp,
)
from crossdock.sandbox.carrier_claims import ClaimDesk
from crossdock.sandbox.context import SandboxContext
from crossdock.sandbox.idempotency import fingerprint
from crossdock.sandbox.tracker_scenarios import (
    JOURNEYS,
    Scan,
    Scenario,
    draw_scenario,
    fits,
    parse_scenario,
)

log = structlog.get_logger(__name__)

_COUNTRY = re.compile(r"^[A-Z]{2}$")
_HS_CODE = re.compile(r"^\d{6,10}$")

# (carrier, service, base price in USD cents, USD cents per ounce, transit days)
_DOMESTIC = (
    ("USPS", "GroundAdvantage", 450, 12, 4),
    ("USPS", "Priority", 850, 20, 2),
    ("UPS", "Ground", 1050, 15, 3),
)
_INTERNATIONAL = (
    ("Asendia", "ePAQStandard", 1450, 45, 12),
    ("FedEx", "INTERNATIONAL_ECONOMY", 2900, 50, 5),
    ("DHLExpress", "ExpressWorldwideNonDoc", 3900, 60, 3),
)
_EUROZONE = frozenset("AT BE CY DE EE ES FI FR GR HR IE IT LT LU LV MT NL PT SI SK".split())
_ORIGIN_CURRENCY = {"US": "USD", "GB": "GBP", "JP": "JPY", "CA": "CAD", "AU": "AUD", "CH": "CHF"}
# Fixed sandbox conversion from the USD price list: carriers bill in the shipper's currency.
_PER_USD = {
    "USD": Decimal(1),
    "EUR": Decimal("0.92"),
    "GBP": Decimal("0.79"),
    "JPY": Decimal(150),
    "CAD": Decimal("1.36"),
    "AUD": Decimal("1.52"),
    "CHF": Decimal("0.88"),
}

# --- validation -----------------------------------------------------------------------


def _address_errors(side: str, value: Any) -> Iterator[Json]:
    if not isinstance(value, dict):
        yield field_error(side, "Required and missing.")
        return
    for name in ("street1", "city", "country"):
        if not str(value.get(name) or "").strip():
            yield field_error(f"{side}.{name}", "Required and missing.")
    country = str(value.get("country") or "")
    if country and not _COUNTRY.match(country):
        yield field_error(
            f"{side}.country", f"{country!r} is not an ISO 3166 alpha-2 code such as 'DE'."
        )


def _positive_number(value: Any) -> bool:
    try:
        return Decimal(str(value)) > 0
    except InvalidOperation:
        return False


def _shipment_errors(shipment: Json) -> list[Json]:
    errors = [
        *_address_errors("to_address", shipment.get("to_address")),
        *_address_errors("from_address", shipment.get("from_address")),
    ]
    parcel = shipment.get("parcel")
    if not isinstance(parcel, dict) or not _positive_number(parcel.get("weight")):
        errors.append(field_error("parcel.weight", "Must be a positive number of ounces."))
    return errors


def _item_errors(index: int, item: Any) -> Iterator[Json]:
    where = f"customs_info.customs_items[{index}]"
    if not isinstance(item, dict):
        yield field_error(where, "Must be a customs item object.")
        return
    if not str(item.get("description") or "").strip():
        yield field_error(f"{where}.description", "Required and missing.")
    if not str(item.get("quantity", "")).isdigit() or int(item["quantity"]) < 1:
        yield field_error(f"{where}.quantity", "Must be a positive whole number.")
    try:
        if Decimal(str(item.get("value"))) < 0:
            raise InvalidOperation
    except InvalidOperation:
        yield field_error(f"{where}.value", f"{item.get('value')!r} is not a decimal amount.")
    if not _positive_number(item.get("weight")):
        yield field_error(f"{where}.weight", "Must be a positive number of ounces.")
    if not _COUNTRY.match(str(item.get("origin_country") or "")):
        yield field_error(f"{where}.origin_country", "Required: an ISO 3166 alpha-2 code.")
    tariff = str(item.get("hs_tariff_number") or "").replace(".", "")
    if tariff and not _HS_CODE.match(tariff):
        yield field_error(f"{where}.hs_tariff_number", f"{tariff!r} must have 6 to 10 digits.")


def _check_customs(info: Any) -> None:
    if not isinstance(info, dict):
        raise InvalidRequest(
            422, "CUSTOMS_INFO.PARAMETERS.INVALID", "customs_info must be an object."
        )
    items = info.get("customs_items")
    errors: list[Json] = []
    if not isinstance(items, list) or not items:
        errors.append(field_error("customs_info.customs_items", "Required and missing."))
        items = []
    for index, item in enumerate(items):
        errors.extend(_item_errors(index, item))
    if info.get("customs_certify") in (True, "true") and not info.get("customs_signer"):
        errors.append(
            field_error("customs_info.customs_signer", "Required when customs_certify is true.")
        )
    if errors:
        raise InvalidRequest(
            422, "CUSTOMS_INFO.PARAMETERS.INVALID", "Customs info is invalid.", errors
        )
    currencies = {item.get("currency") for item in items if item.get("currency")}
    if len(currencies) > 1:
        raise InvalidRequest(
            422,
            "CUSTOMS_ITEM.CURRENCY.ONE_CURRENCY_SUPPORTED",
            f"All customs items must share one currency, got {sorted(currencies)}.",
        )


def validate_shipment(body: Any) -> Json:
    """The `shipment` of a create request, or the EasyPost error refusing it."""
    shipment = body.get("shipment") if isinstance(body, dict) else None
    if not isinstance(shipment, dict):
        raise InvalidRequest(
            422,
            "SHIPMENT.INVALID_PARAMS",
            "Unable to create shipment, one or more parameters were invalid.",
            [field_error("shipment", "Required and missing.")],
        )
    errors = _shipment_errors(shipment)
    if errors:
        raise InvalidRequest(
            422,
            "SHIPMENT.INVALID_PARAMS",
            "Unable to create shipment, one or more parameters were invalid.",
            errors,
        )
    origin, destination = shipment["from_address"]["country"], shipment["to_address"]["country"]
    if origin != destination and not shipment.get("customs_info"):
        raise InvalidRequest(
            422,
            "SHIPMENT.CUSTOMS_INFO.REQUIRED",
            f"customs_info is required to ship from {origin} to {destination}.",
            [field_error("customs_info", "Required for international shipments.")],
        )
    if shipment.get("customs_info"):
        _check_customs(shipment["customs_info"])
    return shipment


def _scenario_field(body: Any) -> Scenario:
    value = body.get("scenario") if isinstance(body, dict) else None
    try:
        return parse_scenario(value, "scenario")
    except ValueError as exc:
        raise InvalidRequest(
            422, "SANDBOX.SCENARIO.INVALID", str(exc), [field_error("scenario", str(exc))]
        ) from None


def _option_scenario(shipment: Json) -> Scenario | None:
    """The scenario a test forces through `options.sandbox_scenario` (sandbox only)."""
    options = shipment.get("options")
    if not isinstance(options, dict) or options.get("sandbox_scenario") is None:
        return None
    try:
        return parse_scenario(options["sandbox_scenario"], "options.sandbox_scenario")
    except ValueError as exc:
        raise InvalidRequest(
            422,
            "SHIPMENT.INVALID_PARAMS",
            "Unable to create shipment, one or more parameters were invalid.",
            [field_error("options.sandbox_scenario", str(exc))],
        ) from None


# --- EasyPost objects -----------------------------------------------------------------


def _address(value: Json, now: datetime) -> Json:
    names = ("name", "company", "street1", "street2", "city", "state", "zip", "country")
    fields = {name: value.get(name) for name in (*names, "phone", "email")}
    return dated("adr", "Address", now, {**fields, "residential": None, "verifications": {}})


def _parcel(value: Json, now: datetime) -> Json:
    fields = {name: value.get(name) for name in ("length", "width", "height", "predefined_package")}
    return dated("prcl", "Parcel", now, {**fields, "weight": float(value["weight"])})


def _customs_info(value: Json, now: datetime) -> Json:
    names = (
        "contents_type",
        "contents_explanation",
        "customs_certify",
        "customs_signer",
        "eel_pfc",
        "non_delivery_option",
        "restriction_type",
        "restriction_comments",
    )
    items = [
        dated("cstitem", "CustomsItem", now, {**item, "value": str(item["value"])})
        for item in value["customs_items"]
    ]
    fields = {name: value.get(name) for name in names}
    return dated("cstinfo", "CustomsInfo", now, {**fields, "customs_items": items})


def rate_currency(origin_country: str) -> str:
    """Carriers bill in the shipper's currency (USD when the sandbox has no rate for it)."""
    if origin_country in _EUROZONE:
        return "EUR"
    currency = _ORIGIN_CURRENCY.get(origin_country, "USD")
    return currency if currency in _PER_USD else "USD"


def _price(usd_cents: int, currency: str) -> Money:
    places = Decimal(1).scaleb(-exponent(currency))
    local = (Decimal(usd_cents) / 100 * _PER_USD[currency]).quantize(places, ROUND_HALF_UP)
    return Money.parse(local, currency)


def quote_rates(shipment_id: str, origin: str, destination: str, weight_oz: Decimal) -> list[Json]:
    """Deterministic rates: a base price plus a price per (started) ounce per service."""
    table = _DOMESTIC if origin == destination else _INTERNATIONAL
    currency = rate_currency(origin)
    now = datetime.now(UTC)
    ounces = int(weight_oz.to_integral_value(rounding=ROUND_CEILING))
    rates = []
    for carrier, service, base, per_ounce, days in table:
        price = _price(base + per_ounce * ounces, currency).to_decimal_string()
        fields = {
            "carrier": carrier,
            "service": service,
            "carrier_account_id": f"ca_sandbox_{carrier.lower()}",
            "shipment_id": shipment_id,
            "rate": price,
            "currency": currency,
            "list_rate": price,
            "list_currency": currency,
            "retail_rate": price,
            "retail_currency": currency,
            "billing_type": "easypost",
            "delivery_days": days,
            "est_delivery_days": days,
            "delivery_date": None,
            "delivery_date_guaranteed": False,
        }
        rates.append(dated("rate", "Rate", now, fields))
    return rates


# --- address verification -------------------------------------------------------------

# Postal code formats of destinations we serve, as their posts publish them (indicative).
# A country listed here needs a postal code to be deliverable; others are not checked.
POSTAL_CODE_FORMATS: dict[str, re.Pattern[str]] = {
    country: re.compile(pattern)
    for country, pattern in {
        "US": r"^\d{5}(-\d{4})?$",
        "CA": r"^[A-Z]\d[A-Z] \d[A-Z]\d$",
        "GB": r"^[A-Z]{1,2}\d[A-Z\d]? \d[A-Z]{2}$",
        "DE": r"^\d{5}$",
        "FR": r"^\d{5}$",
        "IT": r"^\d{5}$",
        "ES": r"^\d{5}$",
        "NL": r"^\d{4}( [A-Z]{2})?$",
        "BE": r"^\d{4}$",
        "AT": r"^\d{4}$",
        "CH": r"^\d{4}$",
        "DK": r"^\d{4}$",
        "SE": r"^\d{3} \d{2}$",
        "PL": r"^\d{2}-\d{3}$",
        "PT": r"^\d{4}-\d{3}$",
        "JP": r"^\d{3}-\d{4}$",
        "AU": r"^\d{4}$",
        "NZ": r"^\d{4}$",
    }.items()
}
# A street containing this word is never found: EasyPost's own test addresses use
# "UNDELIVERABLE ST" for the failure case.
UNDELIVERABLE_MARKER = "UNDELIVERABLE"
# Posts that write a space before the last three characters of the postal code.
_INWARD_SPACE = frozenset({"GB", "CA"})


def _verification_error(code: str, field: str, message: str) -> Json:
    return {"code": code, "field": field, "message": message, "suggestion": None}


def _canonical_zip(country: str, raw: str) -> str:
    """The postal code as the post writes it: upper case, its own spacing."""
    compact = re.sub(r"\s+", "", raw.upper())
    if country in _INWARD_SPACE and len(compact) > 3:
        return f"{compact[:-3]} {compact[-3:]}"
    if country == "NL" and len(compact) == 6:
        return f"{compact[:4]} {compact[4:]}"
    if country == "SE" and len(compact) == 5:
        return f"{compact[:3]} {compact[3:]}"
    if country == "JP" and len(compact) == 7 and compact.isdigit():
        return f"{compact[:3]}-{compact[3:]}"
    return compact


def delivery_errors(address: Json) -> list[Json]:
    """Why the sandbox cannot deliver to `address` (EasyPost field names), if it cannot.

    `E.ADDRESS.NOT_FOUND` is EasyPost's code; the others are the sandbox's own, in the
    same `E.<FIELD>.<PROBLEM>` form.
    """
    errors = []
    street = str(address.get("street1") or "").strip()
    country = str(address.get("country") or "").upper()
    postal_code = _canonical_zip(country, str(address.get("zip") or ""))
    pattern = POSTAL_CODE_FORMATS.get(country)
    if not street:
        errors.append(_verification_error("E.STREET.MISSING", "street1", "Street is missing"))
    elif UNDELIVERABLE_MARKER in street.upper():
        errors.append(_verification_error("E.ADDRESS.NOT_FOUND", "address", "Address not found"))
    if not str(address.get("city") or "").strip():
        errors.append(_verification_error("E.CITY.MISSING", "city", "City is missing"))
    if pattern is not None and not postal_code:
        message = f"Postal code is required for addresses in {country}"
        errors.append(_verification_error("E.ZIP.MISSING", "zip", message))
    elif pattern is not None and not pattern.match(postal_code):
        message = f"{str(address.get('zip')).strip()!r} is not a postal code of {country}"
        errors.append(_verification_error("E.ZIP.INVALID", "zip", message))
    return errors


def _corrected(address: Json) -> Json:
    """The address as the carrier's verification rewrites it: upper case, canonical
    postal code, phone digits only."""
    country = str(address.get("country") or "").strip().upper()
    fields: Json = {
        name: (str(address[name]).strip().upper() if address.get(name) else address.get(name))
        for name in ("name", "company", "street1", "street2", "city", "state")
    }
    phone = re.sub(r"\D", "", str(address.get("phone") or ""))
    return {
        **fields,
        "zip": _canonical_zip(country, str(address.get("zip") or "")),
        "country": country,
        "phone": phone or None,
        "email": address.get("email"),
    }


def _verifications(address: Json, errors: list[Json]) -> Json:
    delivery = {"success": not errors, "errors": errors, "details": {}}
    if address.get("country") != "US":
        return {"delivery": delivery}
    # EasyPost also checks the ZIP+4 of US addresses.
    return {"delivery": delivery, "zip4": {**delivery, "details": None}}


# --- the simulated carrier ------------------------------------------------------------


@dataclass
class Tracker:
    """A bought parcel's tracker and where it is in its journey."""

    data: Json
    origin: Json  # the from address, where the first scans happen
    destination: Json
    last_step_at: datetime
    scenario: Scenario = Scenario.NORMAL
    step: int = 0  # index of the latest scan in the scenario's journey
    active: bool = True  # False once the label is refunded

    @property
    def journey(self) -> tuple[Scan, ...]:
        return JOURNEYS[self.scenario]

    @property
    def finished(self) -> bool:
        """No scan is left: delivered, returned, failed, or lost in silence."""
        return self.step >= len(self.journey) - 1

    def due(self, now: datetime, step_length: timedelta) -> bool:
        """Whether the next scan is due: the latest one's hold has passed."""
        waited = now - self.last_step_at
        return self.active and not self.finished and waited >= step_length * self.current.hold

    @property
    def current(self) -> Scan:
        return self.journey[self.step]

    def scans_made(self) -> list[tuple[str, str]]:
        return [(scan.status, scan.status_detail) for scan in self.journey[: self.step + 1]]


@dataclass
class Shipment:
    data: Json
    label: Money | None = None
    tracker_id: str | None = None
    refunded: bool = False
    # The rate ids offered, so a buy can only pick one of this shipment's rates.
    rate_ids: set[str] = field(default_factory=set)
    # Forced before the label is bought (options.sandbox_scenario or the admin route).
    scenario: Scenario | None = None


def _tracking_detail(scan: Scan, carrier: str, where: Json, now: datetime) -> Json:
    return {
        "object": "TrackingDetail",
        "message": scan.message,
        "description": scan.message,
        "status": scan.status,
        "status_detail": scan.status_detail,
        "datetime": timestamp(now),
        "source": carrier,
        "carrier_code": None,
        "tracking_location": {
            "object": "TrackingLocation",
            "city": where.get("city"),
            "state": where.get("state"),
            "country": where.get("country"),
            "zip": where.get("zip"),
        },
    }


class Carrier:
    """EasyPost shipments and trackers in memory; pushes tracker Events to a webhook."""

    def __init__(
        self,
        ctx: SandboxContext,
        *,
        duplicate_rate: float = 0.05,
        retry_initial: float = 1.0,
        retry_max: float = 300.0,
        retry_window: float = 3 * 24 * 3600.0,
    ) -> None:
        self.ctx = ctx
        self.shipments: dict[str, Shipment] = {}
        self.trackers: dict[str, Tracker] = {}
        self.outbox: list[Json] = []
        self.addresses: dict[str, Json] = {}
        self.duplicate_rate = duplicate_rate
        self.retry_initial = retry_initial
        self.retry_max = retry_max
        self.retry_window = retry_window
        # Seeded, so a run's duplicated deliveries are reproducible.
        self.random = random.Random(ctx.config.seed)
        # Its own stream, so drawing scenarios does not shift the duplicates' draws.
        self.scenario_random = random.Random(f"tracker-scenarios:{ctx.config.seed}")
        # Scenarios waiting for the next label bought under a shipment reference.
        self.scenario_by_reference: dict[str, Scenario] = {}
        self.claims = ClaimDesk(self)

    # -- API operations --

    def create_shipment(self, body: Any) -> Json:
        request = validate_shipment(body)
        forced = _option_scenario(request)
        now = datetime.now(UTC)
        shipment_id = new_id("shp")
        origin, destination = request["from_address"], request["to_address"]
        rates = quote_rates(
            shipment_id,
            origin["country"],
            destination["country"],
            Decimal(str(request["parcel"]["weight"])),
        )
        info = request.get("customs_info")
        data = {
            "id": shipment_id,
            "object": "Shipment",
            "mode": "test",
            "reference": request.get("reference"),
            "status": "unknown",
            "tracking_code": None,
            "to_address": _address(destination, now),
            "from_address": _address(origin, now),
            "return_address": _address(origin, now),
            "buyer_address": _address(destination, now),
            "parcel": _parcel(request["parcel"], now),
            "customs_info": _customs_info(info, now) if info else None,
            "options": request.get("options") or {},
            "is_return": bool(request.get("is_return", False)),
            "rates": rates,
            "selected_rate": None,
            "postage_label": None,
            "tracker": None,
            "refund_status": None,
            "insurance": None,
            "messages": [],
            "fees": [],
            "forms": [],
            "created_at": timestamp(now),
            "updated_at": timestamp(now),
        }
        self.shipments[shipment_id] = Shipment(
            data=data, rate_ids={r["id"] for r in rates}, scenario=forced
        )
        return self.render(shipment_id)

    def create_address(self, body: Any, *, strict: bool = False) -> Json:
        """Create an Address; verify its deliverability when the body asks to.

        As EasyPost does: sending `verify` or `verify_strict` at all (whatever the value,
        e.g. `true` or `["delivery"]`) asks for verification, which also corrects the
        address. A failed `verify` still creates the address, with
        `verifications.delivery.success` false and its errors; a failed `verify_strict`
        (or `strict`, for create_and_verify) refuses with ADDRESS.VERIFY.FAILURE.
        """
        address = body.get("address") if isinstance(body, dict) else None
        if not isinstance(address, dict):
            raise InvalidRequest(
                422,
                "ADDRESS.PARAMETERS.INVALID",
                'address is required: send {"address": {...}}.',
                [field_error("address", "Required and missing.")],
            )
        address = {**address, "country": address.get("country") or "US"}  # EasyPost's default
        # Older SDKs send the verify flags inside the address object.
        flags = {name for name in ("verify", "verify_strict") if name in body or name in address}
        strict = strict or "verify_strict" in flags
        fields = {k: v for k, v in address.items() if k not in ("verify", "verify_strict")}
        return self._store_address(fields, verify=bool(flags) or strict, strict=strict)

    def _store_address(self, fields: Json, *, verify: bool, strict: bool) -> Json:
        now = datetime.now(UTC)
        if not verify:
            data = _address(fields, now)
        else:
            errors = delivery_errors(fields)
            if strict and errors:
                raise InvalidRequest(
                    422, "ADDRESS.VERIFY.FAILURE", "Unable to verify address.", errors
                )
            data = _address(_corrected(fields) if not errors else fields, now)
            data["verifications"] = _verifications(data, errors)
        self.addresses[data["id"]] = data
        return copy.deepcopy(data)

    def address(self, address_id: str) -> Json:
        found = self.addresses.get(address_id)
        if found is None:
            raise not_found("address", address_id)
        return copy.deepcopy(found)

    def shipment(self, shipment_id: str) -> Shipment:
        found = self.shipments.get(shipment_id)
        if found is None:
            raise not_found("shipment", shipment_id)
        return found

    def render(self, shipment_id: str) -> Json:
        """The shipment as EasyPost shows it, with its tracker as it is now."""
        shipment = self.shipment(shipment_id)
        tracker = self.trackers.get(shipment.tracker_id or "")
        if tracker is None:
            return copy.deepcopy(shipment.data)
        data = copy.deepcopy(shipment.data)
        data["tracker"] = copy.deepcopy(tracker.data)
        data["status"] = tracker.data["status"]
        return data

    def tracker(self, tracker_id: str) -> Json:
        found = self.trackers.get(tracker_id)
        if found is None:
            raise not_found("tracker", tracker_id)
        return copy.deepcopy(found.data)

    def buy(self, shipment_id: str, body: Any, key: str | None) -> Json:
        shipment = self.shipment(shipment_id)
        if shipment.data["postage_label"] is not None:
            raise EasyPostError(
                422,
                "SHIPMENT.POSTAGE.EXISTS",
                f"Postage already exists for shipment {shipment_id}.",
            )
        rate = self._chosen_rate(shipment, body)
        now = datetime.now(UTC)
        tracking_code = f"EZ{secrets.randbelow(10**14):014d}"
        shipment.label = Money.parse(rate["rate"], rate["currency"])
        shipment.data.update(
            selected_rate=rate,
            tracking_code=tracking_code,
            postage_label=self._postage_label(tracking_code, now),
            updated_at=timestamp(now),
        )
        tracker = self._open_tracker(shipment, tracking_code, rate, now)
        self.ctx.ledger.record(
            PARTNER,
            "label",
            shipment_id,
            idempotency_key=key,
            amount=shipment.label.amount,
            currency=shipment.label.currency,
            shipment_reference=shipment.data["reference"],
            tracking_code=tracking_code,
            carrier=rate["carrier"],
            service=rate["service"],
        )
        self.outbox.append(self._event("tracker.created", tracker.data, None, now))
        return self.render(shipment_id)

    def _chosen_rate(self, shipment: Shipment, body: Any) -> Json:
        chosen = body.get("rate") if isinstance(body, dict) else None
        rate_id = chosen.get("id") if isinstance(chosen, dict) else chosen
        if not rate_id:
            raise InvalidRequest(
                422,
                "SHIPMENT.MISSING_RATE",
                'rate is required: send {"rate": {"id": "rate_..."}}.',
                [field_error("rate", "Required and missing.")],
            )
        for rate in shipment.data["rates"]:
            if rate["id"] == rate_id:
                return dict(rate)
        raise InvalidRequest(
            422,
            "SHIPMENT.MISSING_RATE",
            f"rate {rate_id!r} is not one of the rates of shipment {shipment.data['id']}.",
            [field_error("rate.id", "Unknown rate for this shipment.")],
        )

    @staticmethod
    def _postage_label(tracking_code: str, now: datetime) -> Json:
        url = f"https://easypost-files.s3.amazonaws.com/files/postage_label/{tracking_code}.png"
        fields = {
            "label_url": url,
            "label_file_type": "image/png",
            "label_size": "4x6",
            "label_resolution": 300,
            "label_date": timestamp(now),
            "label_pdf_url": None,
            "label_zpl_url": None,
        }
        return dated("pl", "PostageLabel", now, fields)

    def _open_tracker(
        self, shipment: Shipment, tracking_code: str, rate: Json, now: datetime
    ) -> Tracker:
        origin = shipment.data["from_address"]
        scenario = self._scenario_for(shipment)
        first = JOURNEYS[scenario][0]
        fields = {
            "tracking_code": tracking_code,
            "status": first.status,
            "status_detail": first.status_detail,
            "signed_by": None,
            "weight": shipment.data["parcel"]["weight"],
            "est_delivery_date": timestamp(now + timedelta(days=rate["delivery_days"])),
            "shipment_id": shipment.data["id"],
            "carrier": rate["carrier"],
            "tracking_details": [_tracking_detail(first, rate["carrier"], origin, now)],
            "carrier_detail": {"object": "CarrierDetail", "service": rate["service"]},
            "fees": [],
        }
        data = dated("trk", "Tracker", now, fields)
        data["public_url"] = f"https://track.easypost.com/{data['id']}"
        destination = shipment.data["to_address"]
        tracker = Tracker(data, origin, destination, last_step_at=now, scenario=scenario)
        self.trackers[data["id"]] = tracker
        shipment.tracker_id = data["id"]
        return tracker

    def _scenario_for(self, shipment: Shipment) -> Scenario:
        """Forced on the shipment, else waiting under its reference (used up by this
        label, so a re-bought label goes its own way), else drawn at the configured rates.
        The draw happens either way, so one forced parcel does not reshuffle the others."""
        drawn = draw_scenario(self.scenario_random, self.ctx.config.tracker_exception_rates)
        waiting = self.scenario_by_reference.pop(shipment.data.get("reference") or "", None)
        return shipment.scenario or waiting or drawn

    # -- sandbox controls (tests and demos force what a parcel goes through) --

    def force_scenario(self, shipment_id: str, body: Any) -> Json:
        """Make a shipment's parcel follow a scenario: before its label is bought, or
        afterwards while the scans it has shown so far fit the scenario's journey."""
        shipment = self.shipment(shipment_id)
        scenario = _scenario_field(body)
        tracker = self.trackers.get(shipment.tracker_id or "")
        if tracker is None:
            shipment.scenario = scenario
        elif fits(scenario, tracker.scans_made()):
            tracker.scenario = scenario
        else:
            raise InvalidRequest(
                422,
                "SHIPMENT.SCENARIO.TOO_LATE",
                f"The parcel of shipment {shipment_id} has already been scanned "
                f"{tracker.data['status']}/{tracker.data['status_detail']}, which the "
                f"{scenario.value!r} scenario does not go through at that point.",
                [field_error("scenario", "Force it before the parcel moves on.")],
            )
        return self.scenario_of(shipment_id)

    def scenario_of(self, shipment_id: str) -> Json:
        """The scenario a shipment's parcel follows (or will, once bought), with its scans."""
        shipment = self.shipment(shipment_id)
        tracker = self.trackers.get(shipment.tracker_id or "")
        scenario = tracker.scenario if tracker else shipment.scenario
        journey = JOURNEYS[scenario] if scenario else ()
        return {
            "shipment_id": shipment_id,
            "scenario": scenario.value if scenario else None,
            "tracker_id": tracker.data["id"] if tracker else None,
            "scans": [
                {"status": scan.status, "status_detail": scan.status_detail, "hold": scan.hold}
                for scan in journey
            ],
        }

    def force_scenario_for_reference(self, body: Any) -> Json:
        """Make the next label bought for a shipment `reference` (e.g. an order workflow
        id) follow a scenario: for tests that cannot know the shipment id in advance."""
        reference = body.get("reference") if isinstance(body, dict) else None
        if not isinstance(reference, str) or not reference.strip():
            raise InvalidRequest(
                422,
                "SANDBOX.SCENARIO.INVALID",
                "reference is required: the shipment reference the next label is bought for.",
                [field_error("reference", "Required and missing.")],
            )
        scenario = _scenario_field(body)
        self.scenario_by_reference[reference] = scenario
        return {"reference": reference, "scenario": scenario.value}

    def refund(self, shipment_id: str, key: str | None) -> Json:
        shipment = self.shipment(shipment_id)
        tracker = self.trackers.get(shipment.tracker_id or "")
        if shipment.label is None or tracker is None:
            raise EasyPostError(
                422,
                "SHIPMENT.POSTAGE.REQUIRED",
                f"Shipment {shipment_id} has no postage to refund; buy a rate first.",
            )
        if shipment.refunded:
            raise EasyPostError(
                422,
                "SHIPMENT.REFUND.UNAVAILABLE",
                f"A refund was already submitted for shipment {shipment_id} "
                f"(refund_status {shipment.data['refund_status']}).",
            )
        if tracker.step > 0:
            raise EasyPostError(
                422,
                "SHIPMENT.REFUND.UNAVAILABLE",
                f"The label of shipment {shipment_id} was already scanned by the carrier "
                f"(tracker status {tracker.data['status']}) and can no longer be refunded.",
            )
        shipment.refunded = True
        tracker.active = False
        shipment.data.update(refund_status="submitted", updated_at=timestamp(datetime.now(UTC)))
        self.ctx.ledger.record(
            PARTNER,
            "label_refund",
            shipment_id,
            idempotency_key=key,
            amount=shipment.label.amount,
            currency=shipment.label.currency,
            shipment_reference=shipment.data["reference"],
            tracking_code=shipment.data["tracking_code"],
        )
        return self.render(shipment_id)

    # -- parcels moving --

    def advance(self, now: datetime) -> list[Json]:
        """Move every due tracker one scan on; return (and queue) the resulting Events.

        A tracker is due once `tracking_step_seconds` times its latest scan's hold have
        passed since that scan; refunded labels and parcels at the end of their journey
        (delivered, returned, failed, or lost in silence) stay where they are.
        """
        step = timedelta(seconds=self.ctx.config.tracking_step_seconds)
        events = [
            self._step(tracker, now) for tracker in self.trackers.values() if tracker.due(now, step)
        ]
        self.outbox.extend(events)
        return events

    def _step(self, tracker: Tracker, now: datetime) -> Json:
        previous = tracker.data["status"]
        tracker.step += 1
        tracker.last_step_at = now
        scan = tracker.current
        where = tracker.destination if scan.at_destination else tracker.origin
        carrier = tracker.data["carrier"]
        tracker.data["tracking_details"].append(_tracking_detail(scan, carrier, where, now))
        tracker.data.update(
            status=scan.status, status_detail=scan.status_detail, updated_at=timestamp(now)
        )
        if scan.status == "delivered":
            tracker.data["signed_by"] = "SANDBOX RECIPIENT"
        return self._event("tracker.updated", tracker.data, {"status": previous}, now)

    def _event(self, description: str, tracker: Json, previous: Json | None, now: datetime) -> Json:
        url = self.ctx.config.carrier_webhook_url
        fields = {
            "description": description,
            "status": "pending",
            "previous_attributes": previous or {},
            # A snapshot: later steps must not change an Event already queued.
            "result": copy.deepcopy(tracker),
            "pending_urls": [url] if url else [],
            "completed_urls": [],
            "user_id": "user_sandbox",
        }
        return dated("evt", "Event", now, fields)

    # -- webhook delivery --

    def dispatch(self) -> list[asyncio.Task[bool]]:
        """Start delivering every queued Event (some twice); the tasks run independently."""
        events, self.outbox = self.outbox, []
        if not self.ctx.config.carrier_webhook_url:
            return []
        tasks: list[asyncio.Task[bool]] = []
        for event in events:
            copies = 2 if self.random.random() < self.duplicate_rate else 1
            tasks.extend(asyncio.create_task(self.deliver(event)) for _ in range(copies))
        return tasks

    async def deliver(self, event: Json) -> bool:
        """POST one Event until the receiver answers 2xx, backing off exponentially.

        Gives up (and logs it) only after `retry_window` seconds, as EasyPost keeps
        retrying a failing webhook for days.
        """
        url = self.ctx.config.carrier_webhook_url
        if not url:
            return False
        loop = asyncio.get_running_loop()
        give_up_at = loop.time() + self.retry_window
        delay, attempts = self.retry_initial, 1
        while not await self._post(url, event):
            if loop.time() + delay > give_up_at:
                log.warning("webhook_abandoned", event_id=event["id"], url=url, attempts=attempts)
                return False
            await asyncio.sleep(delay)
            delay, attempts = min(delay * 2, self.retry_max), attempts + 1
        return True

    async def _post(self, url: str, event: Json) -> bool:
        body = json.dumps(event).encode()
        headers = {"User-Agent": "EasyPost WebHook Agent 1.0", "Content-Type": "application/json"}
        if self.ctx.config.carrier_webhook_secret:
            headers |= sign(body, self.ctx.config.carrier_webhook_secret)
        try:
            response = await self.ctx.http.post(url, content=body, headers=headers)
        except httpx.HTTPError as exc:
            log.info("webhook_unreachable", event_id=event["id"], url=url, error=str(exc))
            return False
        if not response.is_success:
            log.info("webhook_refused", event_id=event["id"], url=url, status=response.status_code)
        return response.is_success

    async def run(self) -> None:
        """The background job: advance trackers and dispatch their Events, forever."""
        poll = min(1.0, max(0.05, self.ctx.config.tracking_step_seconds / 10))
        deliveries: set[asyncio.Task[bool]] = set()
        try:
            while True:
                self.advance(datetime.now(UTC))
                for task in self.dispatch():
                    deliveries.add(task)
                    task.add_done_callback(deliveries.discard)
                    task.add_done_callback(_report_crash)
                await asyncio.sleep(poll)
        finally:
            for task in deliveries:
                task.cancel()
            await asyncio.gather(*deliveries, return_exceptions=True)


def _report_crash(task: asyncio.Task[bool]) -> None:
    # A delivery that crashed (a bug, not a refusing receiver) must not vanish silently.
    if not task.cancelled() and task.exception() is not None:
        log.error("webhook_delivery_crashed", error=repr(task.exception()))


# --- HTTP -----------------------------------------------------------------------------


def _api_key(request: Request) -> str:
    scheme, _, credential = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() == "bearer":
        return credential.strip()
    if scheme.lower() == "basic":
        try:
            return base64.b64decode(credential).decode().partition(":")[0]
        except (binascii.Error, UnicodeDecodeError):
            return ""
    return ""


def authenticate(request: Request) -> None:
    """Any non-empty key is accepted: the sandbox has one test account."""
    if not _api_key(request):
        raise EasyPostError(
            401,
            "UNAUTHORIZED",
            "An API key is required: send it as the HTTP Basic username or a Bearer token.",
        )


async def _json_body(request: Request) -> Any:
    raw = await request.body()
    if not raw:
        return {}
    try:
        return json.loads(raw)
    except ValueError as exc:
        raise EasyPostError(400, "BAD_REQUEST", f"The body is not valid JSON: {exc}.") from exc


def _conflict(key: str) -> JSONResponse:
    # EasyPost documents no idempotency error; the code is the sandbox's own.
    return EasyPostError(
        400,
        "IDEMPOTENCY.KEY.REUSED",
        f"Idempotency-Key {key!r} was already used with other parameters; use a new key "
        "for a different request.",
    ).response()


Action = Callable[[Any, str | None], Json]


def build_router(carrier: Carrier) -> APIRouter:
    """The EasyPost-shaped API under /easypost, served by `carrier`."""
    router = APIRouter(prefix="/easypost", tags=["easypost"])
    ctx = carrier.ctx

    async def post(request: Request, action: Action) -> JSONResponse:
        # Refusals before execution (auth, unreadable JSON) are not stored under the key.
        try:
            authenticate(request)
            body = await _json_body(request)
        except EasyPostError as exc:
            return exc.response()
        key = request.headers.get("Idempotency-Key")

        async def execute() -> JSONResponse:
            try:
                return JSONResponse(action(body, key), status_code=_created(request))
            except InvalidRequest:
                raise  # propagates through the store: nothing is saved under the key
            except EasyPostError as exc:
                return exc.response()  # executed and refused: saved and replayed

        request_fingerprint = fingerprint("POST", request.url.path, body)
        try:
            return await ctx.idempotency.run(PARTNER, key, request_fingerprint, execute, _conflict)
        except InvalidRequest as exc:
            return exc.response()

    def get(request: Request, read: Callable[[], Json]) -> JSONResponse:
        try:
            authenticate(request)
            return JSONResponse(read())
        except EasyPostError as exc:
            return exc.response()

    @router.post("/v2/shipments")
    async def create_shipment(request: Request) -> JSONResponse:
        """Create a shipment and rate it."""
        return await post(request, lambda body, _: carrier.create_shipment(body))

    @router.post("/v2/addresses")
    async def create_address(request: Request) -> JSONResponse:
        """Create an address, verified when the body sends `verify` or `verify_strict`."""
        return await post(request, lambda body, _: carrier.create_address(body))

    @router.post("/v2/addresses/create_and_verify")
    async def create_and_verify_address(request: Request) -> JSONResponse:
        """Create and verify an address; an undeliverable one is refused."""
        return await post(
            request, lambda body, _: {"address": carrier.create_address(body, strict=True)}
        )

    @router.get("/v2/addresses/{address_id}")
    async def retrieve_address(address_id: str, request: Request) -> JSONResponse:
        """Retrieve an address."""
        return get(request, lambda: carrier.address(address_id))

    @router.get("/v2/shipments/{shipment_id}")
    async def retrieve_shipment(shipment_id: str, request: Request) -> JSONResponse:
        """Retrieve a shipment with its current tracker."""
        return get(request, lambda: carrier.render(shipment_id))

    @router.post("/v2/shipments/{shipment_id}/buy")
    async def buy_shipment(shipment_id: str, request: Request) -> JSONResponse:
        """Buy one of the shipment's rates: label, tracking code and tracker."""
        return await post(request, lambda body, key: carrier.buy(shipment_id, body, key))

    @router.post("/v2/shipments/{shipment_id}/refund")
    async def refund_shipment(shipment_id: str, request: Request) -> JSONResponse:
        """Void an unused label."""
        return await post(request, lambda _, key: carrier.refund(shipment_id, key))

    @router.get("/v2/trackers/{tracker_id}")
    async def retrieve_tracker(tracker_id: str, request: Request) -> JSONResponse:
        """Retrieve a tracker with its tracking details."""
        return get(request, lambda: carrier.tracker(tracker_id))

    _claim_routes(router, carrier.claims, post, get)
    _sandbox_routes(router, carrier)
    return router


Post = Callable[[Request, Action], Awaitable[JSONResponse]]
Get = Callable[[Request, Callable[[], Json]], JSONResponse]


def _claim_routes(router: APIRouter, claims: ClaimDesk, post: Post, get: Get) -> None:
    @router.post("/v2/claims")
    async def create_claim(request: Request) -> JSONResponse:
        """File a claim for a lost, damaged or stolen parcel."""
        return await post(request, claims.file)

    @router.get("/v2/claims/{claim_id}")
    async def retrieve_claim(claim_id: str, request: Request) -> JSONResponse:
        """Retrieve a claim."""
        return get(request, lambda: claims.get(claim_id))


def _sandbox_routes(router: APIRouter, carrier: Carrier) -> None:
    """Controls EasyPost does not have: tests and demos force what a parcel goes through."""

    async def control(request: Request, action: Callable[[Any], Json]) -> JSONResponse:
        try:
            return JSONResponse(action(await _json_body(request)))
        except EasyPostError as exc:
            return exc.response()

    @router.post("/_sandbox/shipments/{shipment_id}/scenario")
    async def force_scenario(shipment_id: str, request: Request) -> JSONResponse:
        """Make a shipment's parcel follow a scenario: {"scenario": "lost"}."""
        return await control(request, lambda body: carrier.force_scenario(shipment_id, body))

    @router.get("/_sandbox/shipments/{shipment_id}/scenario")
    async def shipment_scenario(shipment_id: str, request: Request) -> JSONResponse:
        """The scenario a shipment's parcel follows, with its planned scans."""
        return await control(request, lambda _: carrier.scenario_of(shipment_id))

    @router.post("/_sandbox/scenarios")
    async def force_scenario_for_reference(request: Request) -> JSONResponse:
        """Make the next label bought for a reference follow a scenario:
        {"reference": "order-...", "scenario": "lost"}."""
        return await control(request, carrier.force_scenario_for_reference)


def _created(request: Request) -> int:
    # EasyPost answers 201 for a new shipment, address or claim, 200 for actions on them
    # (create_and_verify included).
    return (
        201 if request.url.path.endswith(("/v2/shipments", "/v2/addresses", "/v2/claims")) else 200
    )


def build(ctx: SandboxContext) -> APIRouter:
    """The carrier API, with its tracker loop registered as a background job."""
    carrier = Carrier(ctx)
    ctx.background.append(carrier.run)
    return build_router(carrier)
