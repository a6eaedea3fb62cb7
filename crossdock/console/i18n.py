"""The console's and CLI's words in each language: gettext catalogues (`.po`, read with
Babel at start, so no compiled `.mo` sits in the repository) under `console/locales/`.

English is the source language: a message is its own English text. A message without a
translation falls back to English, and tests/unit/test_console_i18n.py fails on any
message in the code or templates that a catalogue does not translate."""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po

LOCALES = Path(__file__).parent / "locales"
DOMAIN = "messages"

Translate = Callable[[str], str]


@cache
def catalogue(language: str) -> Catalog | None:
    """The catalogue of `language` (e.g. "zh_CN"), or None for English or an unknown one."""
    path = LOCALES / language / "LC_MESSAGES" / f"{DOMAIN}.po"
    if not path.is_file():
        return None
    with path.open("rb") as po:
        return read_po(po, locale=language)


@cache
def translations(language: str) -> dict[str, str]:
    """English message → its translation in `language` (translated messages only)."""
    found = catalogue(language)
    if found is None:
        return {}
    return {
        str(m.id): str(m.string)
        for m in found
        if m.id and isinstance(m.id, str) and isinstance(m.string, str) and m.string
    }


def translator(language: str) -> Translate:
    """gettext for `language`: the translation, or the English message itself."""
    table = translations(language)

    def gettext(message: str) -> str:
        return table.get(message, message)

    return gettext
