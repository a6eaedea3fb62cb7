"""Money as integer minor units with an ISO 4217 currency: never a float.

Partners speak decimal strings ("12.34", "1500"); we convert at the edge with
`Money.parse` and back with `Money.to_decimal_string`, using the currency's own
exponent (JPY has no minor unit, KWD has three).
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, StrictInt

# ISO 4217 minor-unit exponents for the currencies we trade in; anything else is refused
# rather than guessed, because a wrong exponent is a 100x pricing error.
CURRENCY_EXPONENTS: dict[str, int] = {
    "USD": 2,
    "EUR": 2,
    "GBP": 2,
    "CAD": 2,
    "AUD": 2,
    "NZD": 2,
    "CHF": 2,
    "SEK": 2,
    "NOK": 2,
    "DKK": 2,
    "PLN": 2,
    "CZK": 2,
    "MXN": 2,
    "SGD": 2,
    "HKD": 2,
    "CNY": 2,
    "INR": 2,
    "BRL": 2,
    "AED": 2,
    "JPY": 0,
    "KRW": 0,
    "CLP": 0,
    "ISK": 0,
    "KWD": 3,
    "BHD": 3,
    "OMR": 3,
    "JOD": 3,
}


def _known_currency(code: str) -> str:
    if code not in CURRENCY_EXPONENTS:
        known = ", ".join(sorted(CURRENCY_EXPONENTS))
        raise ValueError(f"currency {code!r} is not a supported ISO 4217 code (one of: {known})")
    return code


CurrencyCode = Annotated[str, AfterValidator(_known_currency)]


def exponent(currency: str) -> int:
    """Number of minor-unit digits of `currency` (2 for EUR, 0 for JPY, 3 for KWD)."""
    return CURRENCY_EXPONENTS[_known_currency(currency)]


class CurrencyMismatch(ValueError):
    """Two amounts in different currencies were combined."""


class Money(BaseModel):
    """An amount in integer minor units of `currency`."""

    model_config = ConfigDict(frozen=True)

    amount: StrictInt
    currency: CurrencyCode

    @classmethod
    def zero(cls, currency: str) -> Money:
        return cls(amount=0, currency=currency)

    @classmethod
    def parse(cls, value: str | Decimal, currency: str) -> Money:
        """Read a decimal string such as "12.34" (EUR) or "1500" (JPY) exactly.

        Refuses more fractional digits than the currency has, instead of rounding.
        """
        try:
            decimal = Decimal(value)
        except (InvalidOperation, TypeError) as exc:
            raise ValueError(f"amount {value!r} is not a decimal number") from exc
        if not decimal.is_finite():
            raise ValueError(f"amount {value!r} is not a finite number")
        places = exponent(currency)
        minor = decimal.scaleb(places)
        if minor != minor.to_integral_value():
            raise ValueError(
                f"amount {value!r} has more than {places} decimal places for {currency}"
            )
        return cls(amount=int(minor), currency=currency)

    def to_decimal(self) -> Decimal:
        return Decimal(self.amount).scaleb(-exponent(self.currency))

    def to_decimal_string(self) -> str:
        """The partner wire form: "12.34" for EUR, "1500" for JPY, "1.250" for KWD."""
        places = exponent(self.currency)
        return f"{self.to_decimal():.{places}f}"

    def _same_currency(self, other: Money) -> None:
        if other.currency != self.currency:
            raise CurrencyMismatch(f"cannot combine {self.currency} with {other.currency}")

    def __add__(self, other: Money) -> Money:
        self._same_currency(other)
        return Money(amount=self.amount + other.amount, currency=self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same_currency(other)
        return Money(amount=self.amount - other.amount, currency=self.currency)

    def __mul__(self, factor: int) -> Money:
        if not isinstance(factor, int):
            raise TypeError("Money can only be multiplied by an integer quantity")
        return Money(amount=self.amount * factor, currency=self.currency)

    def __str__(self) -> str:
        return f"{self.to_decimal_string()} {self.currency}"


def total(amounts: list[Money], currency: str) -> Money:
    """Sum of `amounts`, all in `currency` (zero when empty)."""
    result = Money.zero(currency)
    for amount in amounts:
        result = result + amount
    return result
