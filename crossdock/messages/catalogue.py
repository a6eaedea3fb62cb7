"""The message templates, one JSON file per language in `crossdock/data/messages/`.

English is complete by definition (the contract: what each template says and which
parameters it takes); any other language may lack a template or a term, which then
falls back to English and is listed by `missing_translations` (a test reports it).
"""

from __future__ import annotations

import json
import string
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

FALLBACK = "en"


@dataclass(frozen=True)
class MessageText:
    """A template's subject and plain-text body, with `{name}` parameters."""

    subject: str
    body: str

    @property
    def parameters(self) -> frozenset[str]:
        formatter = string.Formatter()
        return frozenset(
            name
            for text in (self.subject, self.body)
            for _, name, _, _ in formatter.parse(text)
            if name
        )


def _read(name: str) -> Any:
    folder = resources.files("crossdock.data").joinpath("messages")
    return json.loads(folder.joinpath(name).read_text("utf-8"))


@cache
def _countries() -> dict[str, Any]:
    data: dict[str, Any] = _read("countries.json")
    return data


LANGUAGES: tuple[str, ...] = tuple(_countries()["languages"])


@cache
def _language(language: str) -> dict[str, Any]:
    if language not in LANGUAGES:
        raise ValueError(f"language {language!r} is not one of {', '.join(LANGUAGES)}")
    data: dict[str, Any] = _read(f"{language}.json")
    return data


def english() -> dict[str, MessageText]:
    """Every template, in English: the reference the others are checked against."""
    return {name: MessageText(**text) for name, text in _language(FALLBACK)["templates"].items()}


def template_text(language: str, template: str) -> tuple[MessageText, bool]:
    """The text of `template` in `language`, and whether it was translated (False: the
    English text, because `language` lacks it)."""
    texts = _language(language)["templates"]
    if template in texts:
        return MessageText(**texts[template]), True
    return english()[template], False


def term(language: str, key: str) -> str:
    """A fixed phrase (a cancellation reason, who pays) in `language`, else English."""
    terms: dict[str, str] = _language(language)["terms"]
    return terms.get(key) or _language(FALLBACK)["terms"][key]


def register(language: str) -> str:
    """The register the language's texts are written in (formal German and Japanese)."""
    return str(_language(language)["register"])


def missing_translations() -> dict[str, list[str]]:
    """Per language, the templates and terms that fall back to English."""
    reference = _language(FALLBACK)
    missing: dict[str, list[str]] = {}
    for language in LANGUAGES:
        data = _language(language)
        gaps = [t for t in reference["templates"] if t not in data["templates"]]
        gaps += [f"term:{k}" for k in reference["terms"] if k not in data["terms"]]
        if gaps:
            missing[language] = gaps
    return missing


def country_languages() -> dict[str, str]:
    countries: dict[str, str] = _countries()["countries"]
    return countries


def babel_overrides() -> dict[str, str]:
    overrides: dict[str, str] = _countries()["babel_locales"]
    return overrides


@cache
def _channels() -> dict[str, dict[str, str]]:
    data: dict[str, dict[str, str]] = _read("channels.json")
    return data


def amazon_action(template: str) -> str | None:
    """The Messaging action that carries `template` on Amazon (None: Amazon tells the
    buyer itself, or does not allow it)."""
    return _channels()["amazon"].get(template)


# Read the reference language and the channel table at import, outside any workflow
# sandbox: workflow code validating a notify input must not open files.
_language(FALLBACK)
_channels()
