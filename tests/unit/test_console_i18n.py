"""Every message the console shows is translated: each `_("...")` in its templates and
modules (and the names it translates at run time) has a Simplified Chinese entry that
keeps the message's placeholders; numbers, money and dates follow the operator's locale."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from crossdock.audit.log import Outcome
from crossdock.console.i18n import translations, translator
from crossdock.console.kinds import SPECS
from crossdock.console.locale import LANGUAGES, LocaleRefused, OperatorLocale, overdue
from crossdock.console.views import StuckReason
from crossdock.money import Money

CONSOLE = Path(__file__).parents[2] / "crossdock" / "console"
MARKED = re.compile(r"""\b_\(\s*(["'])(.*?)(?<!\\)\1\s*\)""", re.S)
PLACEHOLDER = re.compile(r"%\(\w+\)s|\{\w+\}")


def marked_messages() -> set[str]:
    sources = [*CONSOLE.glob("templates/*.html"), *CONSOLE.glob("*.py")]
    sources += CONSOLE.parent.glob("cli_*.py")
    found = {m.group(2) for path in sources for m in MARKED.finditer(path.read_text())}
    # Translated at run time from data: the lists' names, why a case is stuck, a result.
    return (
        found
        | {spec.plural.capitalize() for spec in SPECS.values()}
        | {reason.replace("_", " ") for reason in StuckReason}
        | set(Outcome)
    )


@pytest.mark.parametrize("language", [lang for lang in LANGUAGES if lang != "en"])
def test_every_marked_message_has_a_translation(language: str) -> None:
    table = translations(language)
    messages = marked_messages()
    assert len(messages) > 50, "the extraction found too little: is the pattern right?"
    missing = sorted(m for m in messages if m not in table)
    assert not missing, f"{language} lacks translations for: {missing}"
    for message in messages:
        assert set(PLACEHOLDER.findall(message)) == set(PLACEHOLDER.findall(table[message]))


def test_an_untranslated_message_reads_as_its_english() -> None:
    assert translator("zh_CN")("no such message") == "no such message"
    assert translator("en")("Inbox") == "Inbox"
    assert translator("zh_CN")("Inbox") == "收件箱"


def test_money_dates_and_deadlines_in_zh_cn_and_english() -> None:
    zh = OperatorLocale.checked("zh_CN", "Asia/Shanghai")
    en = OperatorLocale()
    at = datetime(2026, 12, 4, 4, 3, tzinfo=UTC)
    assert zh.money(Money.parse("1234.50", "EUR")) == "€1,234.50"
    assert zh.money(Money.parse("1500", "JPY")) == "JP¥1,500"
    assert en.money(Money.parse("1500", "JPY")) == "¥1,500"
    assert zh.when(at) == "2026年12月4日 12:03:00 CST"
    assert en.when(at) == "Dec 4, 2026, 4:03:00\u202fAM UTC"
    assert en.left(at + timedelta(hours=3), now=at) == "in 3 hours"
    assert en.left(at - timedelta(hours=2), now=at) == "2 hours overdue"
    assert zh.left(at - timedelta(hours=2), now=at) == "已逾期 2小时"
    assert overdue(at, now=at + timedelta(seconds=1)) and not overdue(at, now=at)


def test_a_language_or_zone_not_offered_is_refused_by_name() -> None:
    with pytest.raises(LocaleRefused, match="language 'fr'"):
        OperatorLocale.checked("fr", "UTC")
    with pytest.raises(LocaleRefused, match="time zone 'Mars/Base'"):
        OperatorLocale.checked("en", "Mars/Base")
