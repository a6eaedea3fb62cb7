"""Validating a shipment request as EasyPost does: addresses, parcel, customs info,
and the sandbox-only scenario fields."""

from __future__ import annotations

import re
from collections.abc import Iterator
from decimal import Decimal, InvalidOperation
from typing import Any

from crossdock.sandbox.easypost.scenarios import Scenario, parse_scenario
from crossdock.sandbox.easypost.shapes import InvalidRequest, Json, field_error

_COUNTRY = re.compile(r"^[A-Z]{2}$")
_HS_CODE = re.compile(r"^\d{6,10}$")

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


def scenario_field(body: Any) -> Scenario:
    value = body.get("scenario") if isinstance(body, dict) else None
    try:
        return parse_scenario(value, "scenario")
    except ValueError as exc:
        raise InvalidRequest(
            422, "SANDBOX.SCENARIO.INVALID", str(exc), [field_error("scenario", str(exc))]
        ) from None


def option_scenario(shipment: Json) -> Scenario | None:
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
