"""Buyers' intents read by rules as data, in every supported language; the service
figures over cases."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from crossdock.cases_report import figures
from crossdock.messages import LANGUAGES
from crossdock.messages.catalogue import _read
from crossdock.messages.intents import Intent, read_intent
from crossdock.models.case import CaseState, CaseStatus, ThreadLine

SAID = [
    ("Where is my order? It has not arrived.", Intent.WHERE_IS_MY_ORDER, "en"),
    ("Wo bleibt meine Bestellung?", Intent.WHERE_IS_MY_ORDER, "de"),
    ("荷物はどこですか？まだ届いていません。", Intent.WHERE_IS_MY_ORDER, "ja"),  # noqa: RUF001
    ("Please cancel my order", Intent.CANCEL, "en"),
    ("Je voudrais annuler ma commande", Intent.CANCEL, "fr"),
    ("I need to change the address, I moved", Intent.CHANGE_ADDRESS, "en"),
    ("Ich muss die Lieferadresse ändern", Intent.CHANGE_ADDRESS, "de"),
    ("I want to return it", Intent.RETURN, "en"),
    ("Chcę zwrócić ten towar", Intent.RETURN, "pl"),
    ("The mug arrived broken", Intent.DAMAGED, "en"),
    ("La taza llegó rota, está dañada", Intent.DAMAGED, "es"),
    ("Why do I have to pay customs?", Intent.CUSTOMS_CHARGES, "en"),
    ("为什么我要付关税？", Intent.CUSTOMS_CHARGES, "zh-Hans"),  # noqa: RUF001
    ("Perché devo pagare la dogana?", Intent.CUSTOMS_CHARGES, "it"),
    ("Hej, tack för snabb service!", Intent.OTHER, None),
]


@pytest.mark.parametrize(("text", "intent", "language"), SAID)
def test_an_intent_is_read_in_the_buyers_language(
    text: str, intent: Intent, language: str | None
) -> None:
    assert read_intent(text) == (intent, language)


def test_every_intent_has_phrases_in_every_language() -> None:
    rules = _read("intents.json")
    for name in rules["order"]:
        assert set(rules["intents"][name]) == set(LANGUAGES), name


def test_service_figures() -> None:
    now = datetime(2026, 12, 3, 12, tzinfo=UTC)
    line = ThreadLine(at=now, by="buyer", inbound=True, text="x", intent=Intent.CANCEL)
    answered = CaseStatus(
        state=CaseState.ANSWERED,
        intents=[Intent.CANCEL],
        thread=[line.model_copy(update={"language": "de"})],
        first_response_seconds=600,
        answered_in_time=[True],
        answered_intents=[Intent.CANCEL],
    )
    waiting = CaseStatus(
        state=CaseState.AWAITING_US,
        intents=[Intent.DAMAGED],
        thread=[line.model_copy(update={"intent": Intent.DAMAGED})],
        waiting_since=now - timedelta(hours=30),
        missed=1,
        language="fr",
    )
    result = figures([answered, waiting], now)
    assert result.first_response_median_s == 600 and result.in_time_share == 1.0
    assert result.by_intent == {"cancel": 1, "damaged": 1}
    assert result.by_language == {"de": 1, "fr": 1}
    assert result.open_by_age["> 24 h"] == 1 and result.missed == 1
    assert result.in_time_by_intent == {"cancel": 1.0}
