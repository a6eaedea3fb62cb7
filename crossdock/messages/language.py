"""Which language a buyer is written to, and the Babel locale that formats for them."""

from __future__ import annotations

from crossdock.messages.catalogue import FALLBACK, LANGUAGES, babel_overrides, country_languages


def language_for(country: str, override: str | None = None) -> str:
    """The buyer's own choice when it is supported, else their country's language, else
    English. `country` is the ship-to country (the marketplace's locale follows it)."""
    if override and override in LANGUAGES:
        return override
    return country_languages().get(country.upper(), FALLBACK)


def babel_locale(language: str, country: str) -> str:
    """`de` in Austria formats as `de_AT`; a pair Babel does not know falls back to the
    language alone (`ja` for a Japanese-speaking buyer in Germany)."""
    from babel import Locale, UnknownLocaleError

    base = babel_overrides().get(language, language)
    try:
        Locale.parse(f"{base}_{country.upper()}")
    except (UnknownLocaleError, ValueError):
        return base
    return f"{base}_{country.upper()}"
