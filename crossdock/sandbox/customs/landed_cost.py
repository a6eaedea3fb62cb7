"""The landed-cost quote: duties and import taxes for a consignment under the rules.

The rules (duty rate per HS chapter, import tax rate, de minimis thresholds, sale-time tax
regimes, flat duties) come from `rule_table` (data in `crossdock/data/customs_rules.json`),
the FX table from `crossdock/data/fx_rates.json` (read by `crossdock.fx`); this module only
applies them. docs/customs.md has the dated rule table.

How a quote is computed:

0. The destination's rule in force on the sale date (`sale_date`, today when omitted) is
   taken from its dated periods; the table's version and the period's start date are
   recorded in the quote, so a quote can always be traced to the rule that made it.
1. The consignment's intrinsic value (goods, without shipping) is converted into the
   destination currency with the FX table; the rate used is recorded in the quote.
2. The regime: a sale-time regime (EU IOSS, UK VAT at sale, AU GST at sale) when the
   value is within its threshold; else de minimis relief of duty and/or tax where the
   value is within those thresholds (higher ones for a direct shipment from a listed
   country by the listed transport: Canada's CUSMA courier thresholds); else STANDARD
   (duty and import tax at the border). A sale-time regime may carry a flat duty per
   distinct tariff line (the EU's EUR 3 from 2026-07-01) instead of the ad valorem duty.
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

from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from crossdock.fx import FxRate, FxTable, UnknownCurrency
from crossdock.models.order import CountryCode, HsCode, Incoterm
from crossdock.money import CurrencyCode, Money, total
from crossdock.sandbox.customs.rule_table import (
    CustomsRuleError,
    CustomsRules,
    DestinationRule,
    FlatDuty,
    Regime,
    Transport,
    default_rules,
)

EntryType = Literal["de_minimis", "informal", "formal", "postal"]


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
    # The rules in force on this date apply: the date of sale (today when omitted).
    sale_date: date | None = None
    # Where the goods are shipped from directly, and how: thresholds may depend on both.
    ship_from_country: CountryCode | None = None
    transport: Transport = "courier"


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
    # What made the quote: the table's version, the start of the destination's period
    # applied, and the date it was applied for. Defaults so stored quotes still load.
    rules_version: str = ""
    rule_in_force_from: date | None = None
    rules_date: date | None = None
    entry_type: EntryType | None = None  # where the destination types entries (US)


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
    flat_duty: FlatDuty | None = None


def _within(value: int, threshold: int | None) -> bool:
    return threshold is not None and value <= threshold


def _treatment(rule: DestinationRule, value: int, request: LandedCostInput) -> _Treatment:
    if rule.at_sale is not None and value <= rule.at_sale.threshold:
        flat = rule.flat_duty
        if flat is not None and rule.at_sale.regime not in flat.regimes:
            flat = None
        return _Treatment(rule.at_sale.regime, duty=False, tax=True, at_sale=True, flat_duty=flat)
    duty_relief = _within(value, rule.duty_de_minimis)
    tax_relief = _within(value, rule.tax_de_minimis)
    direct = rule.direct_shipment_de_minimis
    if (
        direct is not None
        and request.ship_from_country in direct.ship_from
        and request.transport == direct.transport
    ):
        duty_relief = duty_relief or value <= direct.duty_threshold
        tax_relief = tax_relief or value <= direct.tax_threshold
    regime = Regime.DE_MINIMIS if duty_relief or tax_relief else Regime.STANDARD
    return _Treatment(regime, duty=not duty_relief, tax=not tax_relief, at_sale=False)


def _entry_type(
    rule: DestinationRule, value: int, request: LandedCostInput, treatment: _Treatment
) -> EntryType | None:
    if rule.informal_entry_max is None:
        return None
    if request.transport == "postal":
        return "postal"
    if not treatment.duty:
        return "de_minimis"
    return "informal" if value <= rule.informal_entry_max else "formal"


def _flat_duties(request: LandedCostInput, flat: FlatDuty, fx: FxTable) -> list[int]:
    """The flat duty, in the quote currency, on the first line of each distinct tariff
    line (HS subheading, six digits): two lines of one subheading pay it once."""
    try:
        amount, _ = fx.convert(Money(amount=flat.amount, currency=flat.currency), request.currency)
    except UnknownCurrency as error:
        raise CustomsRuleError("currency", str(error)) from None
    seen: set[str] = set()
    duties = []
    for item in request.items:
        subheading = item.hs_code[:6]
        duties.append(0 if subheading in seen else amount.amount)
        seen.add(subheading)
    return duties


def _lines(
    request: LandedCostInput, rule: DestinationRule, treatment: _Treatment, fx: FxTable
) -> list[QuoteLine]:
    values = [item.unit_price.amount * item.quantity for item in request.items]
    shipping = request.shipping.amount if request.shipping else 0
    flat = treatment.flat_duty
    flat_duties = _flat_duties(request, flat, fx) if flat else [0] * len(values)
    lines = []
    freights = allocate(shipping, values)
    for item, value, freight, flat_duty in zip(
        request.items, values, freights, flat_duties, strict=True
    ):
        rate = rule.duty_rate(item.hs_code) if flat is None else Decimal(0)
        dutiable = value + (freight if rule.duty_valuation == "CIF" else 0)
        duty = _round(rate * dutiable) if treatment.duty else flat_duty
        # A sale-time tax is on the sale (goods and shipping), not on a flat duty.
        taxable = value + freight + (0 if treatment.at_sale else duty)
        tax = _round(rule.tax_rate * taxable) if treatment.tax else 0
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
    for extra in (rule.at_sale, rule.direct_shipment_de_minimis, rule.flat_duty):
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
        CustomsRuleError: Unsupported destination, a sale date before the destination's
            rules begin, invalid HS chapter, mixed currencies or a currency without an FX
            rate; `field` names the request field.
    """
    rules = rules or default_rules()
    on = request.sale_date or datetime.now(UTC).date()
    rule = rules.destination(request.destination_country, on)
    _validate(request)
    value, fx = _intrinsic_value(request, rule, rules.fx)
    treatment = _treatment(rule, value.amount, request)
    lines = _lines(request, rule, treatment, rules.fx)
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
        rules_version=rules.version,
        rule_in_force_from=rule.in_force_from,
        rules_date=on,
        entry_type=_entry_type(rule, value.amount, request, treatment),
    )


def _intrinsic_value(
    request: LandedCostInput, rule: DestinationRule, fx: FxTable
) -> tuple[Money, FxRate | None]:
    """The goods' value (without shipping) in the destination currency, which the
    thresholds are set in, with the rate used."""
    goods = total([i.unit_price * i.quantity for i in request.items], request.currency)
    try:
        return fx.convert(goods, rule.currency)
    except UnknownCurrency as error:
        raise CustomsRuleError("currency", str(error)) from None
