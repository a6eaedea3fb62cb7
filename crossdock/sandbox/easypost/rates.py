"""EasyPost's objects as the API shows them, and the sandbox's deterministic rates."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal

from crossdock.money import Money, exponent
from crossdock.sandbox.easypost.scenarios import Scan
from crossdock.sandbox.easypost.shapes import Json, dated, timestamp

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


# --- EasyPost objects -----------------------------------------------------------------


def address_object(value: Json, now: datetime) -> Json:
    names = ("name", "company", "street1", "street2", "city", "state", "zip", "country")
    fields = {name: value.get(name) for name in (*names, "phone", "email")}
    return dated("adr", "Address", now, {**fields, "residential": None, "verifications": {}})


def parcel_object(value: Json, now: datetime) -> Json:
    fields = {name: value.get(name) for name in ("length", "width", "height", "predefined_package")}
    return dated("prcl", "Parcel", now, {**fields, "weight": float(value["weight"])})


def customs_object(value: Json, now: datetime) -> Json:
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


def tracking_detail(scan: Scan, carrier: str, where: Json, now: datetime) -> Json:
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
