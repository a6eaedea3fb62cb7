"""How an operator reads numbers, money, dates and deadlines: in their language and time
zone (their account's), formatted by Babel from CLDR, so a Shanghai operator reads
"€1,234.50" and "2026年12月4日 12:03" where a London one reads "€1,234.50" and
"4 Dec 2026, 04:03". Case data (names, addresses, buyer messages) is shown as it is."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel import Locale, UnknownLocaleError
from babel.dates import format_datetime, format_timedelta
from babel.numbers import format_currency

from crossdock.console.i18n import translator
from crossdock.money import Money

# The console's languages (gettext catalogues under console/locales/); English is the
# source language, so it needs none.
LANGUAGES = {"en": "English", "zh_CN": "简体中文"}
DEFAULT_LANGUAGE = "en"
DEFAULT_TIME_ZONE = "UTC"
# What a missing amount or moment reads as.
NONE = "\u2013"


class LocaleRefused(ValueError):
    """A language or time zone the console cannot show (the message says which)."""


@dataclass(frozen=True)
class OperatorLocale:
    """An operator's language (a key of LANGUAGES) and IANA time zone."""

    language: str = DEFAULT_LANGUAGE
    time_zone: str = DEFAULT_TIME_ZONE

    @classmethod
    def checked(cls, language: str, time_zone: str) -> OperatorLocale:
        """The locale, or LocaleRefused naming the value that is wrong."""
        if language not in LANGUAGES:
            raise LocaleRefused(
                f"language {language!r} is not offered; expected one of {', '.join(LANGUAGES)}"
            )
        try:
            ZoneInfo(time_zone)
        except (ZoneInfoNotFoundError, ValueError):
            raise LocaleRefused(
                f"time zone {time_zone!r} is not an IANA zone such as 'Asia/Shanghai'"
            ) from None
        return cls(language, time_zone)

    @property
    def babel(self) -> Locale:
        try:
            return Locale.parse(self.language)
        except (UnknownLocaleError, ValueError):
            return Locale.parse(DEFAULT_LANGUAGE)

    @property
    def zone(self) -> ZoneInfo:
        try:
            return ZoneInfo(self.time_zone)
        except (ZoneInfoNotFoundError, ValueError):
            return ZoneInfo(DEFAULT_TIME_ZONE)

    def money(self, amount: Money | None) -> str:
        """`amount` in its own currency, written the operator's way (never converted)."""
        if amount is None:
            return NONE
        value = Decimal(amount.to_decimal_string())
        return format_currency(value, amount.currency, locale=self.babel)

    def when(self, at: datetime | None) -> str:
        """A moment in the operator's time zone, with the zone's short name."""
        if at is None:
            return NONE
        local = _aware(at).astimezone(self.zone)
        return f"{format_datetime(local, 'medium', locale=self.babel)} {local.tzname()}"

    def left(self, deadline: datetime | None, now: datetime | None = None) -> str:
        """How far off a deadline is: "in 3 hours", or "2 hours overdue" once past."""
        if deadline is None:
            return ""
        delta = _aware(deadline) - (now or datetime.now(UTC))
        span = format_timedelta(abs(delta), threshold=1.5, locale=self.babel)
        _ = translator(self.language)
        if delta >= timedelta(0):
            return _("in %(span)s") % {"span": span}
        return _("%(span)s overdue") % {"span": span}


def overdue(deadline: datetime | None, now: datetime | None = None) -> bool:
    """Late means past the deadline itself, not past a reminder."""
    return deadline is not None and _aware(deadline) < (now or datetime.now(UTC))


def _aware(at: datetime) -> datetime:
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)
