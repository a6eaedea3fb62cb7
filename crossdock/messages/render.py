"""Render a buyer message: the template in the buyer's language, with money and dates
formatted for their locale by Babel (`1.234,56 €`, `￥4,980`, `2026年12月3日`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from babel.dates import format_date
from babel.numbers import format_currency

from crossdock.messages.catalogue import template_text, term
from crossdock.messages.language import babel_locale
from crossdock.money import Money


@dataclass(frozen=True)
class Rendered:
    subject: str
    body: str
    language: str
    # False when the language lacks the template and English was sent instead.
    translated: bool


def money_text(amount: Money, locale: str) -> str:
    return format_currency(amount.to_decimal(), amount.currency, locale=locale)


def date_text(value: date, locale: str) -> str:
    return format_date(value, format="long", locale=locale)


def render(
    template: str,
    language: str,
    country: str,
    *,
    params: Mapping[str, str],
    amounts: Mapping[str, Money],
    dates: Mapping[str, date],
    terms: Mapping[str, str],
) -> Rendered:
    """Fill `template` in `language` for a buyer in `country`. `terms` maps a parameter
    to a fixed phrase's key (`reason` → `cancel.out_of_stock`), said in the language."""
    locale = babel_locale(language, country)
    text, translated = template_text(language, template)
    values = dict(params)
    values |= {name: money_text(amount, locale) for name, amount in amounts.items()}
    values |= {name: date_text(value, locale) for name, value in dates.items()}
    values |= {name: term(language, key) for name, key in terms.items()}
    return Rendered(
        subject=text.subject.format_map(values),
        body=text.body.format_map(values),
        language=language,
        translated=translated,
    )
