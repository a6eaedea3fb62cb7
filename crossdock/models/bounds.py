"""Bounds on what the outside world may tell us, as reusable `Annotated` types.

Every contract field a storefront, a marketplace or an operator fills is bounded here
once, so every entry point (intake, pollers, console, codec) refuses the same absurd
values, naming the field: prices above 0 and below a ceiling per currency, quantities and
line counts up to the configured maxima (crossdock/data/contract_bounds.json), strings of
a bounded length without control characters (Unicode letters, RTL scripts and emoji are
kept), countries and currencies the customs rules and the FX table know, e-mail addresses
that are addresses. Each bound is also in the field's JSON schema, so the OpenAPI spec
carries it (docs/intake.md, "The API contract"); the reason for each is beside it here.

Workflows validate these models again on every replay, and on every activity retry, so
a bound that holds always is a constant of the contract, never the clock or a table that
changes with the business: the windows around "now" (placed in the future, ship-by long
gone), the currencies the FX table knows, the per-currency ceiling converted at its rates
and the destinations the customs rules cover are checked at the door only, when an entry
point validates what arrives with `arriving(model, now)`. An order already running keeps
decoding when a rate moves or a destination leaves the table.
"""

from __future__ import annotations

import json
import math
import re
import unicodedata
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from importlib import resources
from typing import Annotated, Any, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    Field,
    ValidationInfo,
    WithJsonSchema,
)

from crossdock.money import CURRENCY_EXPONENTS, CurrencyCode, Money, exponent


def _table(name: str) -> Any:
    return json.loads(resources.files("crossdock.data").joinpath(name).read_text("utf-8"))


_BOUNDS = _table("contract_bounds.json")
_FX = _table("fx_rates.json")

ARRIVAL = "arrival_now"  # validation context key: the door's clock (see `arriving`)
MAX_AMOUNT_EUR = int(_BOUNDS["max_amount_eur"])
MAX_QUANTITY = int(_BOUNDS["max_quantity"])
MAX_LINES = int(_BOUNDS["max_lines"])
PLACED_AT_SKEW = timedelta(minutes=_BOUNDS["placed_at_future_skew_minutes"])
SHIP_BY_PAST = timedelta(days=_BOUNDS["ship_by_past_days"])
# Above any real amount in any currency (10^15 won is some 600 billion euros): refused
# everywhere, so an absurd number never reaches arithmetic or a partner.
HARD_CAP_MINOR = 10**15
# A unit heavier than this is a typo (grams for kilograms), not a parcel.
MAX_UNIT_WEIGHT_GRAMS = 100_000

FX_AS_OF: str = _FX["as_of"]
FX_RATES: dict[str, Decimal] = {code: Decimal(rate) for code, rate in _FX["rates"].items()}
# An order's currency must have an FX rate: duties, de minimis thresholds and risk rules
# all convert to the destination's currency. The exponent table knows more currencies
# (KWD, BHD, ...) so that partner amounts in them still parse and can be refused by name.
TRADED_CURRENCIES = frozenset(FX_RATES) & frozenset(CURRENCY_EXPONENTS)
ISO_COUNTRIES = frozenset(_table("iso3166.json")["codes"])
CUSTOMS_DESTINATIONS = frozenset(_table("customs_rules.json")["destinations"])

# Dates any order may carry, whatever the clock says (9999-12-31 is not a date, it is a
# sentinel someone forgot to replace).
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
LATEST = datetime(2100, 1, 1, tzinfo=UTC)


def max_amount(currency: str) -> int:
    """The largest amount accepted in `currency`, in its minor units: MAX_AMOUNT_EUR
    converted at the FX table's rate, rounded up to a whole major unit."""
    major = math.ceil(MAX_AMOUNT_EUR * FX_RATES[_traded(currency)])
    return major * int(10 ** exponent(currency))


# ---------------------------------------------------------------- text


_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
_CONTROL_IN_PROSE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
# For the JSON schema (the spec's generators and partners' validators): the same sets.
_LINE_PATTERN = r"^[^\x00-\x1f\x7f-\x9f]*$"
_PROSE_PATTERN = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]*$"


def _refuse_control(value: str, pattern: re.Pattern[str]) -> str:
    found = pattern.search(value)
    if found:
        char = found.group()
        name = unicodedata.name(char, "control character")
        raise ValueError(
            f"contains control character U+{ord(char):04X} ({name}) at position "
            f"{found.start()}; letters in any script, punctuation and emoji are fine"
        )
    return value


def _single_line(value: str) -> str:
    return _refuse_control(value, _CONTROL)


def _prose(value: str) -> str:
    return _refuse_control(value, _CONTROL_IN_PROSE)


def _line(max_length: int, min_length: int = 0) -> Any:
    return Field(
        min_length=min_length,
        max_length=max_length,
        json_schema_extra={"pattern": _LINE_PATTERN},
    )


# Single-line texts: no control character at all (no newline in a name or an SKU).
Name = Annotated[str, _line(200, 1), AfterValidator(_single_line)]
AddressLine = Annotated[str, _line(200), AfterValidator(_single_line)]
RequiredAddressLine = Annotated[str, _line(200, 1), AfterValidator(_single_line)]
City = Annotated[str, _line(100, 1), AfterValidator(_single_line)]
Region = Annotated[str, _line(100), AfterValidator(_single_line)]
PostalCode = Annotated[str, _line(20), AfterValidator(_single_line)]
Phone = Annotated[str, _line(40), AfterValidator(_single_line)]
Sku = Annotated[str, _line(64, 1), AfterValidator(_single_line)]
Title = Annotated[str, _line(500, 1), AfterValidator(_single_line)]
Reference = Annotated[str, _line(255), AfterValidator(_single_line)]
ChannelRef = Annotated[str, _line(64), AfterValidator(_single_line)]
# Multi-line free text (notes, reasons, messages): tab and newlines allowed.
Prose = Annotated[
    str,
    AfterValidator(_prose),
    Field(max_length=4000, json_schema_extra={"pattern": _PROSE_PATTERN}),
]

# ---------------------------------------------------------------- e-mail

# RFC 5321 limits (64 for the local part, 254 for the path) and a dot-atom local part;
# the domain in labels of letters (any script), digits and inner hyphens. Quoted local
# parts and IP literals are valid RFC 5322 but no shop sends them.
_ATOM = r"[\w!#$%&'*+/=?^`{|}~-]+"
_LABEL = r"[^\W_](?:[\w-]{0,61}[^\W_])?"
_ADDRESS = rf"(?=[^@]{{1,64}}@){_ATOM}(?:\.{_ATOM})*@(?:{_LABEL}\.)+{_LABEL}"
_EMAIL = re.compile(_ADDRESS)
# Surrounding white space is dropped (partners pad), so the schema allows it.
EMAIL_PATTERN = rf"^\s*(?:{_ADDRESS})?\s*$"


def _email(value: str) -> str:
    value = value.strip()
    if value == "":
        return value  # marketplaces may withhold the buyer's address
    if len(value) > 254:
        raise ValueError(f"e-mail address must be at most 254 characters, got {len(value)}")
    if not _EMAIL.fullmatch(value):
        raise ValueError(f"{value[:80]!r} is not an e-mail address such as 'ann@example.com'")
    return value


Email = Annotated[
    str,
    Field(max_length=320, json_schema_extra={"pattern": EMAIL_PATTERN}),
    AfterValidator(_email),
]

# ---------------------------------------------------------------- countries, currencies


def _iso_country(value: str) -> str:
    if value not in ISO_COUNTRIES:
        raise ValueError(f"{value!r} is not an ISO 3166 alpha-2 country code such as 'DE'")
    return value


def customs_destination(value: str) -> str:
    """`value` if the customs rules cover imports into it (crossdock/data/customs_rules.json)."""
    if value not in CUSTOMS_DESTINATIONS:
        known = ", ".join(sorted(CUSTOMS_DESTINATIONS))
        raise ValueError(f"{value!r} is not a destination the customs rules cover ({known})")
    return value


def _traded_at_the_door(code: str, info: ValidationInfo) -> str:
    return _traded(code) if at_the_door(info) else code


def _traded(code: str) -> str:
    if code not in TRADED_CURRENCIES:
        known = ", ".join(sorted(TRADED_CURRENCIES))
        raise ValueError(
            f"currency {code!r} cannot be traded: no FX rate for it in the FX table (as "
            f"of {FX_AS_OF}), so duties and thresholds cannot be computed; one of: {known}"
        )
    return code


CountryCode = Annotated[
    str,
    AfterValidator(_iso_country),
    Field(json_schema_extra={"enum": sorted(ISO_COUNTRIES)}),
]
TradedCurrency = Annotated[
    CurrencyCode,
    AfterValidator(_traded_at_the_door),
    Field(json_schema_extra={"enum": sorted(TRADED_CURRENCIES)}),
]

# ---------------------------------------------------------------- money, quantities, dates


def at_the_door(info: ValidationInfo) -> datetime | None:
    """The door's clock when `arriving` validates, else None (replay, retries, reads)."""
    now = (info.context or {}).get(ARRIVAL)
    return now if isinstance(now, datetime) else None


def within_ceiling(money: Money) -> Money:
    """`money` if it is at most the equivalent of MAX_AMOUNT_EUR (raises ValueError)."""
    ceiling = Money(amount=max_amount(_traded(money.currency)), currency=money.currency)
    if money.amount > ceiling.amount:
        raise ValueError(
            f"{money} is more than we accept: at most {ceiling} "
            f"(the equivalent of {MAX_AMOUNT_EUR} EUR)"
        )
    return money


def _sane(money: Money, info: ValidationInfo) -> Money:
    if money.amount > HARD_CAP_MINOR:
        raise ValueError(f"{money.amount} minor units of {money.currency} is not an amount")
    return within_ceiling(money) if at_the_door(info) else money


def _price(money: Money, info: ValidationInfo) -> Money:
    if money.amount <= 0:
        raise ValueError(f"a price must be more than 0 {money.currency}, got {money}")
    return _sane(money, info)


def _charge(money: Money, info: ValidationInfo) -> Money:
    if money.amount < 0:
        raise ValueError(f"a charge or discount must be 0 or more, got {money}")
    return _sane(money, info)


def _money_schema(minimum: int, title: str) -> WithJsonSchema:
    # The ceiling depends on the currency; the schema states the largest one.
    largest = max(max_amount(code) for code in TRADED_CURRENCIES)
    return WithJsonSchema(
        {
            "title": title,
            "type": "object",
            "properties": {
                "amount": {"type": "integer", "minimum": minimum, "maximum": largest},
                "currency": {"type": "string", "enum": sorted(TRADED_CURRENCIES)},
            },
            "required": ["amount", "currency"],
        }
    )


def _whole_amount(value: Any) -> Any:
    """`{"amount": 1250.0, ...}` read as 1250: JSON has one number type, and JSON Schema
    (the spec's) counts 1250.0 as an integer. 1250.5 stays a float, and is refused."""
    if isinstance(value, dict):
        amount = value.get("amount")
        if isinstance(amount, float) and amount.is_integer() and abs(amount) <= HARD_CAP_MINOR:
            return {**value, "amount": int(amount)}
    return value


Price = Annotated[
    Money, BeforeValidator(_whole_amount), AfterValidator(_price), _money_schema(1, "Price")
]
Charge = Annotated[
    Money, BeforeValidator(_whole_amount), AfterValidator(_charge), _money_schema(0, "Charge")
]
Quantity = Annotated[int, Field(ge=1, le=MAX_QUANTITY)]
UnitWeight = Annotated[int, Field(gt=0, le=MAX_UNIT_WEIGHT_GRAMS)]


def _plausible(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError(f"{value.isoformat()} has no time zone; deadlines must be aware")
    if not EARLIEST <= value < LATEST:
        raise ValueError(f"{value.isoformat()} is not between 2000 and 2100")
    return value


# The schema's pattern says the same as `_plausible` (2000 to 2099), for generators.
OrderTime = Annotated[
    datetime, AfterValidator(_plausible), Field(json_schema_extra={"pattern": "^20[0-9]{2}-"})
]

# ---------------------------------------------------------------- the door's windows

M = TypeVar("M", bound=BaseModel)


def arrival_windows(placed_at: datetime, ship_by: datetime, now: datetime) -> list[str]:
    """What is wrong with an order's dates when it arrives at `now` (empty: nothing)."""
    problems = []
    if placed_at > now + PLACED_AT_SKEW:
        problems.append(
            f"placed_at: {placed_at.isoformat()} is in the future (now {now.isoformat()}, "
            f"allowed clock skew {PLACED_AT_SKEW})"
        )
    if ship_by < now - SHIP_BY_PAST:
        problems.append(
            f"ship_by: {ship_by.isoformat()} is more than {SHIP_BY_PAST.days} days before "
            f"now ({now.isoformat()})"
        )
    return problems


def arriving(model: M, now: datetime) -> M:
    """`model` validated again as it arrives at the door at `now`: also within the date
    windows around `now` (models that check them read `ARRIVAL` from the context).
    Raises `ValidationError` naming the field."""
    return type(model).model_validate(model.model_dump(), context={ARRIVAL: now})


def _positive(amount: Money) -> Money:
    if amount.amount <= 0:
        raise ValueError(f"amount must be more than zero, got {amount}")
    return amount


# An amount that moves money (a claim, a refund asked for): zero or less is a mistake.
PositiveMoney = Annotated[Money, AfterValidator(_positive)]
