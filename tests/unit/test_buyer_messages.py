"""Buyer messages as data: every template renders in every language with a real order's
data; gaps fall back to English and are reported; the register fits the culture."""

from __future__ import annotations

from datetime import date

import pytest

from crossdock.messages import LANGUAGES, language_for, missing_translations, template_text
from crossdock.messages.catalogue import english, register
from crossdock.messages.render import render
from crossdock.models.notify import NotificationTemplate
from crossdock.money import Money
from tests.factories import order

# Gaps known and accepted; the test fails when a new one appears (and when one is filled,
# so this list only shrinks).
KNOWN_GAPS: dict[str, list[str]] = {}

COUNTRY = {
    "en": "GB",
    "de": "DE",
    "fr": "FR",
    "es": "ES",
    "it": "IT",
    "nl": "NL",
    "pl": "PL",
    "sv": "SE",
    "ja": "JP",
    "zh-Hans": "CN",
}
CURRENCY = {"ja": "JPY", "zh-Hans": "CNY", "pl": "PLN", "sv": "SEK", "en": "GBP"}


def real_values(language: str) -> dict[str, dict[str, object]]:
    """A real order's facts as the workflows pass them."""
    o = order()
    currency = CURRENCY.get(language, "EUR")
    amount = Money(amount=4980 if currency == "JPY" else 123456, currency=currency)
    return {
        "params": {
            "order_ref": o.channel_order_id,
            "carrier": "DHL Express",
            "tracking_code": "EZ1000000001",
            "tracking_url": "https://track.easypost.com/trk_1",
            "rma": "RMA-1",
            "label_url": "https://labels.example/1.pdf",
            "refund_id": "re_1",
            "reason": "the goods were used",
            "reply": "An operator's reply, as written.",
        },
        "amounts": {"amount": amount, "duties": amount},
        "dates": {"expected_delivery": date(2026, 12, 3), "ship_by": date(2026, 12, 10)},
        "terms": {"paid_by": "paid_by.seller"},
    }


def test_no_translation_is_missing_beyond_the_known_gaps() -> None:
    """The report of templates and terms that would be sent in English instead."""
    assert missing_translations() == KNOWN_GAPS


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_template_renders_in_every_language_with_real_order_data(language: str) -> None:
    values = real_values(language)
    for template in NotificationTemplate:
        needed = english()[template.value].parameters
        text, _ = template_text(language, template.value)
        # Every language takes exactly the English parameters: none lost, none invented.
        assert text.parameters == needed, f"{language}/{template.value}"
        message = render(
            template.value,
            language,
            COUNTRY[language],
            params={k: str(v) for k, v in values["params"].items() if k in needed},
            amounts={k: v for k, v in values["amounts"].items() if k in needed},  # type: ignore[misc]
            dates={k: v for k, v in values["dates"].items() if k in needed},  # type: ignore[misc]
            terms={k: str(v) for k, v in values["terms"].items() if k in needed},
        )
        assert message.translated or language == "en"
        assert "{" not in message.subject + message.body
        assert "SF10000001" in message.subject + message.body or "RMA-1" in message.subject


def test_money_and_dates_are_written_for_the_locale() -> None:
    def duties(language: str, country: str, money: Money) -> str:
        return render(
            "duties_due",
            language,
            country,
            params={"order_ref": "X", "carrier": "DHL"},
            amounts={"duties": money},
            dates={},
            terms={},
        ).body.replace("\xa0", " ")  # Babel writes a no-break space before the sign

    assert "1.234,56 €" in duties("de", "DE", Money(amount=123456, currency="EUR"))
    assert "￥4,980" in duties("ja", "JP", Money(amount=4980, currency="JPY"))
    confirmed = render(
        "order_confirmed",
        "ja",
        "JP",
        params={"order_ref": "X"},
        amounts={},
        dates={"expected_delivery": date(2026, 12, 3)},
        terms={},
    )
    assert "2026年12月3日" in confirmed.body


def test_german_and_japanese_are_formal() -> None:
    # A case reply is the operator's own text: its register is theirs.
    for template in set(NotificationTemplate) - {NotificationTemplate.CASE_REPLY}:
        de, _ = template_text("de", template.value)
        ja, _ = template_text("ja", template.value)
        # German: Sie/Ihr, never du/dein; Japanese: お客様 and です/ます forms.
        words = {w.strip(".,:;()").lower() for w in de.body.split()}
        assert not words & {"du", "dein", "deine", "dir", "dich", "hallo"}, template
        assert "Sie" in de.body or "Ihr" in de.body or "Ihnen" in de.body, template
        assert ja.body.startswith("お客様"), template
        assert "ます" in ja.body or "です" in ja.body, template
    assert register("de").startswith("formal") and register("ja").startswith("formal")


def test_the_language_follows_the_buyer_then_the_country() -> None:
    assert language_for("AT") == "de"
    assert language_for("JP") == "ja"
    assert language_for("US") == "en"  # not listed: English
    assert language_for("DE", "fr") == "fr"  # the buyer's own choice wins
    assert language_for("DE", "tlh") == "de"  # an unsupported choice is ignored
