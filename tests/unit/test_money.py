from decimal import Decimal

import pytest
from pydantic import ValidationError

from crossdock.money import CurrencyMismatch, Money, exponent, total


@pytest.mark.parametrize(
    ("text", "currency", "minor"),
    [("12.34", "EUR", 1234), ("1500", "JPY", 1500), ("1.250", "KWD", 1250), ("0.1", "USD", 10)],
)
def test_parse_uses_the_currency_exponent(text: str, currency: str, minor: int) -> None:
    assert Money.parse(text, currency).amount == minor


@pytest.mark.parametrize(
    ("amount", "currency", "text"),
    [(1234, "EUR", "12.34"), (1500, "JPY", "1500"), (1250, "KWD", "1.250"), (5, "GBP", "0.05")],
)
def test_decimal_string_round_trips(amount: int, currency: str, text: str) -> None:
    money = Money(amount=amount, currency=currency)
    assert money.to_decimal_string() == text
    assert Money.parse(text, currency) == money


def test_parse_refuses_more_digits_than_the_currency_has() -> None:
    with pytest.raises(ValueError, match="more than 0 decimal places for JPY"):
        Money.parse("1500.5", "JPY")
    with pytest.raises(ValueError, match="more than 2 decimal places for EUR"):
        Money.parse("1.005", "EUR")


def test_parse_refuses_non_numbers() -> None:
    with pytest.raises(ValueError, match="not a decimal number"):
        Money.parse("twelve", "EUR")
    with pytest.raises(ValueError, match="not a finite number"):
        Money.parse("NaN", "EUR")


def test_floats_and_unknown_currencies_are_refused() -> None:
    with pytest.raises(ValidationError, match="amount"):
        Money.model_validate({"amount": 12.5, "currency": "EUR"})
    with pytest.raises(ValidationError, match="'XYZ' is not a supported ISO 4217 code"):
        Money(amount=1, currency="XYZ")


def test_arithmetic_keeps_currency_and_refuses_mixing() -> None:
    eur = Money(amount=1000, currency="EUR")
    assert eur + eur == Money(amount=2000, currency="EUR")
    assert eur - Money(amount=1, currency="EUR") == Money(amount=999, currency="EUR")
    assert eur * 3 == Money(amount=3000, currency="EUR")
    with pytest.raises(CurrencyMismatch, match="EUR with GBP"):
        eur + Money(amount=1, currency="GBP")


def test_total_and_exponents() -> None:
    assert total([], "JPY") == Money.zero("JPY")
    assert total([Money(amount=1, currency="JPY")] * 3, "JPY").amount == 3
    assert (exponent("JPY"), exponent("EUR"), exponent("KWD")) == (0, 2, 3)
    assert Money(amount=1250, currency="KWD").to_decimal() == Decimal("1.250")
