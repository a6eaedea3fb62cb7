"""What a buyer's message is about, read by rules kept as data
(`crossdock/data/messages/intents.json`), in every supported language."""

from __future__ import annotations

from enum import StrEnum
from functools import cache
from typing import Any

from crossdock.messages.catalogue import _read


class Intent(StrEnum):
    WHERE_IS_MY_ORDER = "where_is_my_order"
    CANCEL = "cancel"
    CHANGE_ADDRESS = "change_address"
    RETURN = "return"
    DAMAGED = "damaged"
    CUSTOMS_CHARGES = "customs_charges"
    OTHER = "other"


@cache
def _rules() -> dict[str, Any]:
    rules: dict[str, Any] = _read("intents.json")
    return rules


def read_intent(text: str) -> tuple[Intent, str | None]:
    """The intent of `text` and the language of the phrase that showed it (None when no
    rule matched: `other`)."""
    lowered = text.casefold()
    rules = _rules()
    for name in rules["order"]:
        for language, phrases in rules["intents"][name].items():
            if any(phrase.casefold() in lowered for phrase in phrases):
                return Intent(name), language
    return Intent.OTHER, None


# Read now, at import (outside any workflow sandbox), so workflow code never opens a file.
_rules()
