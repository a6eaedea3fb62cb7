"""FX conversion from a table of reference rates kept as data (crossdock/data/fx_rates.json).

Every conversion returns the rate it used, so a quote can record it (architecture §4: FX
quotes are recorded with rate and time). Cross rates go through the table's base
currency and are kept to 6 decimal places; converted amounts are rounded half up to the
target currency's minor unit.
"""

from __future__ import annotations

import json
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache
from importlib import resources

from pydantic import BaseModel, ConfigDict, Field

from crossdock.money import Money, exponent


class UnknownCurrency(ValueError):
    """The table has no rate for a currency."""


class FxRate(BaseModel):
    """One conversion as recorded in a quote: `amount_to = amount_from * rate`."""

    model_config = ConfigDict(frozen=True, populate_by_name=True)

    rate: Decimal
    source: str = Field(alias="from")
    target: str = Field(alias="to")
    as_of: date


class FxTable(BaseModel):
    model_config = ConfigDict(frozen=True)

    base: str
    as_of: date
    rates: dict[str, Decimal]  # units of each currency per one `base`

    def rate(self, source: str, target: str) -> FxRate:
        """Cross rate through the base currency, kept to 6 decimal places."""
        for code in (source, target):
            if code not in self.rates:
                known = ", ".join(sorted(self.rates))
                raise UnknownCurrency(f"no FX rate for {code} as of {self.as_of} (known: {known})")
        cross = (self.rates[target] / self.rates[source]).quantize(Decimal("0.000001"))
        return FxRate(rate=cross, source=source, target=target, as_of=self.as_of)

    def convert(self, money: Money, target: str) -> tuple[Money, FxRate | None]:
        """`money` in `target`, rounded half up to its minor unit, and the rate used."""
        if money.currency == target:
            return money, None
        fx = self.rate(money.currency, target)
        converted = (money.to_decimal() * fx.rate).scaleb(exponent(target))
        return Money(amount=int(converted.quantize(Decimal(1), ROUND_HALF_UP)), currency=target), fx


@lru_cache(maxsize=1)
def default_fx() -> FxTable:
    """The reference rates shipped in crossdock/data/fx_rates.json."""
    text = resources.files("crossdock").joinpath("data", "fx_rates.json").read_text()
    return FxTable.model_validate(json.loads(text))
