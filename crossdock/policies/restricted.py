"""Prohibited and restricted goods per destination, by HS code prefix.

The rules live in `crossdock/data/restricted_goods.json` (indicative, with the date they
were compiled). For an item going to a destination, every rule whose prefix starts the
item's HS code matches, from the destination's own list and from the default list that
applies everywhere. The most severe match decides, so a destination rule can add to the
defaults but never relax them (fail closed); among equally severe matches the longest
prefix is the one reported, the destination's own on a tie. `prohibited` refuses the
order, `restricted` sends it to an operator with what would make it shippable.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Annotated, Final

from pydantic import BaseModel, ConfigDict, Field

from crossdock.models.order import CountryCode, LineItem
from crossdock.models.screening import GoodsLevel, RestrictedGoodsHit
from crossdock.policies._data import load_table

__all__ = [
    "RESTRICTED_GOODS",
    "RestrictedGoodsTable",
    "RestrictionRule",
    "check_restricted_goods",
]

DEFAULT_SCOPE = "default"


class RestrictionRule(BaseModel):
    model_config = ConfigDict(frozen=True)

    prefix: Annotated[str, Field(pattern=r"^\d{0,10}$")]  # "" = all goods
    level: GoodsLevel
    category: str
    reason: str
    requires: str = ""


class RestrictedGoodsTable(BaseModel):
    """The rules as data: defaults for every destination plus per-destination lists."""

    model_config = ConfigDict(frozen=True)

    as_of: date
    default: list[RestrictionRule]
    destinations: dict[CountryCode, list[RestrictionRule]]

    def deciding_rule(self, hs_code: str, destination: str) -> tuple[str, RestrictionRule] | None:
        """(scope, rule) of the rule that decides for `hs_code` sent to `destination`.

        The scope is the destination code, or "default".
        """
        candidates = [
            (scope, rule)
            for scope, rules in (
                (destination, self.destinations.get(destination, [])),
                (DEFAULT_SCOPE, self.default),
            )
            for rule in rules
            if hs_code.startswith(rule.prefix)
        ]
        if not candidates:
            return None
        # max() keeps the first of equals, and the destination's rules come first.
        return max(
            candidates,
            key=lambda match: (match[1].level.outcome.severity, len(match[1].prefix)),
        )


RESTRICTED_GOODS: Final = RestrictedGoodsTable.model_validate(load_table("restricted_goods.json"))


def check_restricted_goods(
    items: Sequence[LineItem], destination: str, table: RestrictedGoodsTable = RESTRICTED_GOODS
) -> list[RestrictedGoodsHit]:
    """A hit for every line item that is prohibited or restricted at `destination`."""
    hits = []
    for index, item in enumerate(items):
        decided = table.deciding_rule(item.hs_code, destination)
        if decided is None:
            continue
        scope, rule = decided
        hits.append(
            RestrictedGoodsHit(
                item_index=index,
                hs_code=item.hs_code,
                destination=destination,
                level=rule.level,
                rule_prefix=rule.prefix,
                rule_scope=scope,
                category=rule.category,
                reason=rule.reason,
                requires=rule.requires,
            )
        )
    return hits
