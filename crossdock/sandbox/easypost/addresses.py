"""Addresses: created, verified for delivery and corrected as EasyPost does."""

from __future__ import annotations

import copy
import re
from datetime import UTC, datetime
from typing import Any

from crossdock.sandbox.core.store import Table
from crossdock.sandbox.easypost.rates import address_object
from crossdock.sandbox.easypost.shapes import InvalidRequest, Json, field_error, not_found

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


class AddressBook:
    """The carrier's address endpoints (a part of `Carrier`)."""

    addresses: Table[Json]

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
            data = address_object(fields, now)
        else:
            errors = delivery_errors(fields)
            if strict and errors:
                raise InvalidRequest(
                    422, "ADDRESS.VERIFY.FAILURE", "Unable to verify address.", errors
                )
            data = address_object(_corrected(fields) if not errors else fields, now)
            data["verifications"] = _verifications(data, errors)
        self.addresses[data["id"]] = data
        return copy.deepcopy(data)

    def address(self, address_id: str) -> Json:
        found = self.addresses.get(address_id)
        if found is None:
            raise not_found("address", address_id)
        return copy.deepcopy(found)
