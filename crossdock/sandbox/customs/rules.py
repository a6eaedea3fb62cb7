"""Import duties and taxes per destination, kept as data, and the pure landed-cost rules.

The rules (duty rate per HS chapter, import tax rate, de minimis thresholds, sale-time tax
regimes) live in `crossdock/data/customs_rules.json`, the FX table in
`crossdock/data/fx_rates.json` (read by `crossdock.fx`); this module only
interprets them, so a rate change is a data change. It is pure and imports nothing from
the sandbox app, so workflows and tools can use it on its own.

How a quote is computed:

1. The consignment's intrinsic value (goods, without shipping) is converted into the
   destination currency with the FX table; the rate used is recorded in the quote.
2. The regime: a sale-time regime (EU IOSS, UK VAT at sale, AU GST at sale) when the
   value is within its threshold; else de minimis relief of duty and/or tax where the
   value is within those thresholds; else STANDARD (duty and import tax at the border).
   A sale-time regime applies whatever the incoterm (the seller, or the marketplace as
   deemed supplier, is registered for it), so the seller collects and pays; otherwise
   DDP means the seller pays at import and DAP the buyer, to the carrier on delivery.
3. Shipping is allocated to the lines in proportion to their value (largest remainder,
   so the shares add up exactly). Duty is charged on the line value, plus its shipping
   share where the destination values goods CIF; import tax on value + shipping + duty;
   a sale-time tax on value + shipping.
4. Rounding: each line's duty and tax is rounded half up to the quote currency's minor
   unit; totals are sums of the rounded lines, so the lines always add up to the totals.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from functools import lru_cache
from importlib import resources
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from crossdock.fx import FxRate, FxTable, UnknownCurrency, default_fx
from crossdock.models.order import CountryCode, HsCode, Incoterm
from crossdock.money import CurrencyCode, Money, total

Rate = Annotated[Decimal, Field(ge=0, le=1)]
MinorUnits = Annotated[int, Field(ge=0)]


class Regime(StrEnum):
    IOSS = "IOSS"
    UK_VAT_AT_SALE = "UK_VAT_AT_SALE"
    AU_GST_AT_SALE = "AU_GST_AT_SALE"
    DE_MINIMIS = "DE_MINIMIS"
    STANDARD = "STANDARD"


class CustomsRuleError(ValueError):
    """A request the rules cannot quote; `field` names the offending request field."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


# ---------------------------------------------------------------- rules as data


class AtSaleRegime(BaseModel):
    model_config = ConfigDict(frozen=True)

    regime: Regime
    threshold: MinorUnits  # inclusive, destination currency
    note: str = ""


class PreferentialDeMinimis(BaseModel):
    """A higher duty threshold for goods that all originate in `origins` (CUSMA)."""

    model_config = ConfigDict(frozen=True)

    threshold: MinorUnits
    origins: frozenset[str]
    note: str = ""


class DestinationRule(BaseModel):
    model_config = ConfigDict(frozen=True)

    country: CountryCode
    currency: CurrencyCode
    tax_name: str
    tax_rate: Rate
    duty_rates: dict[str, Rate]
    default_duty_rate: Rate
    duty_valuation: Literal["CIF", "FOB"]
    duty_de_minimis: MinorUnits | None  # None: no relief, duty from the first unit
    tax_de_minimis: MinorUnits | None
    preferential_duty_de_minimis: PreferentialDeMinimis | None = None
    at_sale: AtSaleRegime | None = None
    notes: tuple[str, ...] = ()

    def duty_rate(self, hs_code: str) -> Decimal:
        """Duty rate for the HS chapter (first two digits), else the default rate."""
        return self.duty_rates.get(hs_code[:2], self.default_duty_rate)


class CustomsRules(BaseModel):
    model_config = ConfigDict(frozen=True)

    as_of: date
    destinations: dict[str, DestinationRule]
    fx: FxTable

    def destination(self, country: str) -> DestinationRule:
        try:
            return self.destinations[country]
        except KeyError:
            supported = ", ".join(sorted(self.destinations))
            raise CustomsRuleError(
                "destination_country", f"{country!r} is not supported (one of: {supported})"
            ) from None


def _read_json(name: str) -> Any:
    return json.loads(resources.files("crossdock").joinpath("data", name).read_text())


def _destination(country: str, raw: dict[str, Any], data: dict[str, Any]) -> DestinationRule:
    fields = {**data["groups"].get(raw.get("group", ""), {}), **raw}
    tariff = data["tariffs"][fields.pop("tariff")]
    fields.pop("group", None)
    return DestinationRule.model_validate(
        {
            **fields,
            "country": country,
            "duty_rates": tariff["chapters"],
            "default_duty_rate": tariff["default"],
            "notes": [*fields.get("notes", []), tariff["note"]],
        }
    )


@lru_cache(maxsize=1)
def default_rules() -> CustomsRules:
    """The rules and FX table shipped in `crossdock/data`."""
    data = _read_json("customs_rules.json")
    return CustomsRules(
        as_of=data["as_of"],
        destinations={c: _destination(c, raw, data) for c, raw in data["destinations"].items()},
        fx=default_fx(),
    )


# ---------------------------------------------------------------- the quote


class CustomsItem(BaseModel):
    model_config = ConfigDict(frozen=True)

    sku: str = Field(min_length=1)
    hs_code: HsCode
    origin_country: CountryCode
    quantity: int = Field(gt=0)
    unit_price: Money


class LandedCostInput(BaseModel):
    model_config = ConfigDict(frozen=True)

    destination_country: CountryCode
    currency: CurrencyCode
    incoterm: Incoterm
    shipping: Money | None = None
    items: list[CustomsItem] = Field(min_length=1)


class QuoteLine(BaseModel):
    sku: str
    hs_code: str
    duty_rate: Decimal
    duty: Money
    tax: Money


class LandedCostQuote(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    quote_id: str
    destination_country: str
    currency: str
    incoterm: Incoterm
    regime: Regime
    duties: Money
    taxes: Money
    total: Money  # duties + taxes
    collected_at_sale: bool
    # Who hands the money to the authorities: the seller (DDP, or a sale-time regime)
    # or the buyer, to the carrier on delivery (DAP).
    payer: Literal["seller", "buyer"]
    due_at_checkout: Money  # what to add to the buyer's checkout for import charges
    intrinsic_value: Money  # goods value in the destination currency, used for thresholds
    fx: FxRate | None
    tax_name: str
    tax_rate: Decimal
    lines: list[QuoteLine]
    notes: list[str]
    rules_as_of: date


def _round(value: Decimal) -> int:
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def allocate(amount: int, weights: list[int]) -> list[int]:
    """Split `amount` in proportion to `weights`; the shares add up to `amount` exactly."""
    weight_sum = sum(weights)
    if weight_sum == 0:
        return [amount] + [0] * (len(weights) - 1)
    shares = [amount * w // weight_sum for w in weights]
    by_remainder = sorted(
        range(len(weights)), key=lambda i: (-(amount * weights[i] % weight_sum), i)
    )
    for index in by_remainder[: amount - sum(shares)]:
        shares[index] += 1
    return shares


def _validate(request: LandedCostInput) -> None:
    for index, item in enumerate(request.items):
        if item.unit_price.currency != request.currency:
            raise CustomsRuleError(
                f"items[{index}].unit_price.currency",
                f"{item.unit_price.currency} differs from the request currency {request.currency}",
            )
        chapter = int(item.hs_code[:2])
        if not 1 <= chapter <= 97 or chapter == 77:
            raise CustomsRuleError(
                f"items[{index}].hs_code", f"{item.hs_code!r} has no valid HS chapter (01-97)"
            )
    if request.shipping is not None and request.shipping.currency != request.currency:
        raise CustomsRuleError(
            "shipping.currency",
            f"{request.shipping.currency} differs from the request currency {request.currency}",
        )


@dataclass(frozen=True)
class _Treatment:
    regime: Regime
    duty: bool
    tax: bool
    at_sale: bool


def _treatment(rule: DestinationRule, value: int, origins: set[str]) -> _Treatment:
    if rule.at_sale is not None and value <= rule.at_sale.threshold:
        return _Treatment(rule.at_sale.regime, duty=False, tax=True, at_sale=True)
    duty_relief = rule.duty_de_minimis is not None and value <= rule.duty_de_minimis
    preferential = rule.preferential_duty_de_minimis
    if preferential is not None and origins <= preferential.origins:
        duty_relief = duty_relief or value <= preferential.threshold
    tax_relief = rule.tax_de_minimis is not None and value <= rule.tax_de_minimis
    regime = Regime.DE_MINIMIS if duty_relief or tax_relief else Regime.STANDARD
    return _Treatment(regime, duty=not duty_relief, tax=not tax_relief, at_sale=False)


def _lines(
    request: LandedCostInput, rule: DestinationRule, treatment: _Treatment
) -> list[QuoteLine]:
    values = [item.unit_price.amount * item.quantity for item in request.items]
    shipping = request.shipping.amount if request.shipping else 0
    lines = []
    for item, value, freight in zip(request.items, values, allocate(shipping, values), strict=True):
        rate = rule.duty_rate(item.hs_code)
        dutiable = value + (freight if rule.duty_valuation == "CIF" else 0)
        duty = _round(rate * dutiable) if treatment.duty else 0
        tax = _round(rule.tax_rate * (value + freight + duty)) if treatment.tax else 0
        lines.append(
            QuoteLine(
                sku=item.sku,
                hs_code=item.hs_code,
                duty_rate=rate,
                duty=Money(amount=duty, currency=request.currency),
                tax=Money(amount=tax, currency=request.currency),
            )
        )
    return lines


def _notes(rule: DestinationRule) -> list[str]:
    notes = list(rule.notes)
    for extra in (rule.at_sale, rule.preferential_duty_de_minimis):
        if extra is not None and extra.note:
            notes.insert(0, extra.note)
    return notes


def quote_landed_cost(
    request: LandedCostInput, quote_id: str, rules: CustomsRules | None = None
) -> LandedCostQuote:
    """Duties and import taxes for `request` under the destination's rules.

    Args:
        request: The consignment: destination, currency, incoterm, shipping and items.
        quote_id: The id to give the quote.
        rules: The rules to apply; the shipped data when omitted.

    Raises:
        CustomsRuleError: Unsupported destination, invalid HS chapter, mixed currencies
            or a currency without an FX rate; `field` names the request field.
    """
    rules = rules or default_rules()
    rule = rules.destination(request.destination_country)
    _validate(request)
    goods = total([i.unit_price * i.quantity for i in request.items], request.currency)
    try:
        value, fx = rules.fx.convert(goods, rule.currency)
    except UnknownCurrency as error:
        raise CustomsRuleError("currency", str(error)) from None
    treatment = _treatment(rule, value.amount, {i.origin_country for i in request.items})
    lines = _lines(request, rule, treatment)
    duties = total([line.duty for line in lines], request.currency)
    taxes = total([line.tax for line in lines], request.currency)
    seller_pays = treatment.at_sale or request.incoterm is Incoterm.DDP
    return LandedCostQuote(
        quote_id=quote_id,
        destination_country=rule.country,
        currency=request.currency,
        incoterm=request.incoterm,
        regime=treatment.regime,
        duties=duties,
        taxes=taxes,
        total=duties + taxes,
        collected_at_sale=treatment.at_sale,
        payer="seller" if seller_pays else "buyer",
        due_at_checkout=duties + taxes if seller_pays else Money.zero(request.currency),
        intrinsic_value=value,
        fx=fx,
        tax_name=rule.tax_name,
        tax_rate=rule.tax_rate,
        lines=lines,
        notes=_notes(rule),
        rules_as_of=rules.as_of,
    )
