"""The customs rules in one import: the dated rule table (`rule_table`) and the
landed-cost quote computed from it (`landed_cost`).

Pure (but for reading today's date when a request has no sale date), and importing
nothing from the sandbox app, so tools and tests can use the rules on their own; the
customs service (`routes.py`) serves them.
"""

from crossdock.sandbox.customs.landed_cost import (
    CustomsItem,
    EntryType,
    LandedCostInput,
    LandedCostQuote,
    QuoteLine,
    allocate,
    quote_landed_cost,
)
from crossdock.sandbox.customs.rule_table import (
    AtSaleRegime,
    CustomsRuleError,
    CustomsRules,
    DestinationRule,
    DirectShipmentDeMinimis,
    FlatDuty,
    MinorUnits,
    Rate,
    Regime,
    Transport,
    default_rules,
)

__all__ = [
    "AtSaleRegime",
    "CustomsItem",
    "CustomsRuleError",
    "CustomsRules",
    "DestinationRule",
    "DirectShipmentDeMinimis",
    "EntryType",
    "FlatDuty",
    "LandedCostInput",
    "LandedCostQuote",
    "MinorUnits",
    "QuoteLine",
    "Rate",
    "Regime",
    "Transport",
    "allocate",
    "default_rules",
    "quote_landed_cost",
]
