"""The customs rules as data: per destination, dated periods of duty and tax rates,
de minimis thresholds, sale-time regimes and flat duties.

The rules themselves, dated and versioned, live in `crossdock/data/customs_rules.json`
(docs/customs.md has the table); this module reads and validates them, and picks the
period in force on a date. A rate change is a data change.
"""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from enum import StrEnum
from functools import lru_cache
from importlib import resources
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from crossdock.fx import FxTable, default_fx
from crossdock.models.order import CountryCode
from crossdock.money import CurrencyCode

Rate = Annotated[Decimal, Field(ge=0, le=1)]
MinorUnits = Annotated[int, Field(ge=0)]
Transport = Literal["courier", "postal"]


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


class AtSaleRegime(BaseModel):
    model_config = ConfigDict(frozen=True)

    regime: Regime
    threshold: MinorUnits  # inclusive, destination currency
    note: str = ""


class DirectShipmentDeMinimis(BaseModel):
    """Higher thresholds for goods shipped directly from `ship_from` by `transport`, keyed
    on the place of direct shipment, not the goods' origin (Canada's CUSMA courier rule)."""

    model_config = ConfigDict(frozen=True)

    ship_from: frozenset[str]
    transport: Transport
    duty_threshold: MinorUnits
    tax_threshold: MinorUnits
    note: str = ""


class FlatDuty(BaseModel):
    """A fixed duty per distinct tariff line (HS subheading) under the listed regimes, in
    place of the ad valorem duty (the EU's EUR 3 on IOSS consignments from 2026-07-01)."""

    model_config = ConfigDict(frozen=True)

    amount: MinorUnits
    currency: CurrencyCode
    regimes: frozenset[Regime]
    note: str = ""


class DestinationRule(BaseModel):
    model_config = ConfigDict(frozen=True)

    country: CountryCode
    in_force_from: date  # inclusive; until the next period's start
    currency: CurrencyCode
    tax_name: str
    tax_rate: Rate
    duty_rates: dict[str, Rate]
    default_duty_rate: Rate
    duty_valuation: Literal["CIF", "FOB"]
    duty_de_minimis: MinorUnits | None  # None: no relief, duty from the first unit
    tax_de_minimis: MinorUnits | None
    direct_shipment_de_minimis: DirectShipmentDeMinimis | None = None
    at_sale: AtSaleRegime | None = None
    flat_duty: FlatDuty | None = None
    # Where entries are typed by value (US: informal up to USD 2,500, formal above).
    informal_entry_max: MinorUnits | None = None
    notes: tuple[str, ...] = ()

    def duty_rate(self, hs_code: str) -> Decimal:
        """Duty rate for the HS chapter (first two digits), else the default rate."""
        return self.duty_rates.get(hs_code[:2], self.default_duty_rate)


class CustomsRules(BaseModel):
    model_config = ConfigDict(frozen=True)

    version: str
    as_of: date
    # Per destination, its periods in order of their start date.
    destinations: dict[str, tuple[DestinationRule, ...]]
    fx: FxTable

    def destination(self, country: str, on: date) -> DestinationRule:
        """The rule for `country` in force on `on`."""
        try:
            periods = self.destinations[country]
        except KeyError:
            supported = ", ".join(sorted(self.destinations))
            raise CustomsRuleError(
                "destination_country", f"{country!r} is not supported (one of: {supported})"
            ) from None
        in_force = [period for period in periods if period.in_force_from <= on]
        if not in_force:
            raise CustomsRuleError(
                "sale_date",
                f"{on} is before the rules for {country} begin ({periods[0].in_force_from})",
            )
        return in_force[-1]


def _read_json(name: str) -> Any:
    return json.loads(resources.files("crossdock").joinpath("data", name).read_text())


def _period(
    country: str, fields: dict[str, Any], period: dict[str, Any], tariff: dict[str, Any]
) -> DestinationRule:
    # A period overrides the destination's fields; its notes come first, as they say
    # what is particular to the period.
    merged = {**fields, **period}
    merged.pop("from")
    return DestinationRule.model_validate(
        {
            **merged,
            "country": country,
            "in_force_from": period["from"],
            "duty_rates": tariff["chapters"],
            "default_duty_rate": tariff["default"],
            "notes": [*period.get("notes", []), *fields.get("notes", []), tariff["note"]],
        }
    )


def _destination(
    country: str, raw: dict[str, Any], data: dict[str, Any]
) -> tuple[DestinationRule, ...]:
    fields = {**data["groups"].get(raw.get("group", ""), {}), **raw}
    tariff = data["tariffs"][fields.pop("tariff")]
    fields.pop("group", None)
    periods = fields.pop("in_force")
    rules = tuple(_period(country, fields, period, tariff) for period in periods)
    starts = [rule.in_force_from for rule in rules]
    if starts != sorted(set(starts)):
        raise ValueError(f"{country}: in_force periods must start on increasing dates")
    return rules


@lru_cache(maxsize=1)
def default_rules() -> CustomsRules:
    """The rules and FX table shipped in `crossdock/data`."""
    data = _read_json("customs_rules.json")
    return CustomsRules(
        version=data["version"],
        as_of=data["as_of"],
        destinations={c: _destination(c, raw, data) for c, raw in data["destinations"].items()},
        fx=default_fx(),
    )
