"""Denied-party screening of an order's buyer and ship-to against a list kept as data.

The list is `crossdock/data/denied_parties.json` (a sample of fictitious organisations
here; the official consolidated lists in production). Screened: the buyer's name, the
ship-to name and second address line (where a company often hides behind "c/o"), and the
ship-to address itself.

Names are normalised before comparing: diacritics folded ("Exportações" = "Exportacoes"),
case folded, punctuation dropped ("S.A." = "SA"), runs of single letters joined
("S A" = "SA"), "&" read as "and", and legal-form suffixes stripped ("GmbH", "LLC",
"& Co.") because they vary between registers and documents. Then:

- equal to an entry's normalised name or alias: exact match, `refuse`;
- similarity at or above the list's `fuzzy_threshold`: fuzzy match, `review`, with the
  entry and the score (the threshold and its calibration are documented in the data);
- the ship-to address equal to a listed party's address: `review` (an address alone does
  not identify a party, but a shipment to it deserves a human look);
- else `clear`.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator, Sequence
from datetime import date
from difflib import SequenceMatcher
from functools import lru_cache
from typing import Annotated, Final

from pydantic import BaseModel, ConfigDict, Field

from crossdock.models.order import Address, CountryCode, Order
from crossdock.models.screening import (
    MatchKind,
    Outcome,
    ScreeningMatch,
    ScreeningResult,
    worst,
)
from crossdock.policies._data import load_table

__all__ = [
    "DENIED_PARTIES",
    "DeniedParty",
    "DeniedPartyList",
    "DeniedPartyScreen",
    "ListedAddress",
    "name_similarity",
    "screen_order",
]

# A listed token counts as present in the screened name only if some screened token is at
# least this similar: below it difflib's ratio mostly measures shared letters by chance.
TOKEN_FLOOR = 0.75

# Letters NFKD does not decompose into a base letter plus a combining mark.
_FOLD = str.maketrans(
    {"ø": "o", "Ø": "O", "æ": "ae", "Æ": "AE", "œ": "oe", "Œ": "OE", "ł": "l", "Ł": "L"}
    | {"đ": "d", "Đ": "D", "þ": "th", "Þ": "TH", "\u0131": "i"}  # dotless i
)
# Dots and apostrophes (straight, typographic, grave, acute) join what they separate.
_JOINED_PUNCTUATION = re.compile("[.'`\u2019\u00b4]")
_WORD = re.compile(r"[^\W_]+")


class ListedAddress(BaseModel):
    model_config = ConfigDict(frozen=True)

    line1: str
    city: str
    country: CountryCode


class DeniedParty(BaseModel):
    """One organisation on the list."""

    model_config = ConfigDict(frozen=True)

    id: str
    name: str
    aliases: list[str] = Field(default_factory=list)
    countries: list[CountryCode] = Field(default_factory=list)
    program: str
    addresses: list[ListedAddress] = Field(default_factory=list)


class DeniedPartyList(BaseModel):
    model_config = ConfigDict(frozen=True)

    list_name: str
    as_of: date
    fuzzy_threshold: Annotated[float, Field(gt=0.5, le=1)]
    legal_suffixes: list[str]
    entries: list[DeniedParty]


def _words(text: str) -> tuple[str, ...]:
    """Folded, punctuation-free tokens, with runs of single letters joined."""
    folded = unicodedata.normalize("NFKD", text.translate(_FOLD))
    folded = "".join(c for c in folded if not unicodedata.combining(c)).casefold()
    folded = _JOINED_PUNCTUATION.sub("", folded.replace("&", " and "))
    tokens: list[str] = []
    in_run = False  # the last token is made of single letters only
    for word in _WORD.findall(folded):
        single = len(word) == 1 and word.isalpha()
        # "S A" and "L L C" are "SA" and "LLC" written with spaces.
        if single and in_run:
            tokens[-1] += word
        else:
            tokens.append(word)
            in_run = single
    return tuple(tokens)


def _strip_suffixes(
    tokens: tuple[str, ...], suffixes: Sequence[tuple[str, ...]]
) -> tuple[str, ...]:
    if tokens[:1] == ("the",) and len(tokens) > 1:
        tokens = tokens[1:]
    stripped = True
    while stripped:
        stripped = False
        for suffix in suffixes:
            if len(tokens) > len(suffix) and tokens[-len(suffix) :] == suffix:
                tokens, stripped = tokens[: -len(suffix)], True
                break
    return tokens


@lru_cache(maxsize=65536)
def _token_similarity(token: str, other: str) -> float:
    """difflib's ratio of two tokens, or 0 when it is under `TOKEN_FLOOR`.

    Cached (pure, and the same buyer and listed words recur), and skipped when the
    lengths alone keep the ratio under the floor: ratio <= 2 * shorter / (sum of both).
    """
    if token == other:
        return 1.0
    if 2 * min(len(token), len(other)) < TOKEN_FLOOR * (len(token) + len(other)):
        return 0.0
    ratio = SequenceMatcher(None, token, other).ratio()
    return ratio if ratio >= TOKEN_FLOOR else 0.0


def _coverage(screened: Sequence[str], listed: Sequence[str]) -> float:
    """Share of the listed name's letters found, token by token, in the screened name."""
    found = sum(
        len(token) * max(_token_similarity(token, other) for other in screened) for token in listed
    )
    return found / sum(len(token) for token in listed)


def name_similarity(screened: Sequence[str], listed: Sequence[str]) -> float:
    """Similarity of two normalised names, given as tokens, from 0 to 1.

    The higher of difflib's ratio of the sorted tokens (catches misspellings and words
    run together) and the share of the listed name found in the screened one (catches
    extra words and re-ordering, but not a single generic word in common).
    """
    return _similarity(screened, listed, 0.0) or 0.0


def _similarity(screened: Sequence[str], listed: Sequence[str], bar: float) -> float | None:
    """`name_similarity` if it is at least `bar`, else None; cheaper than computing it,
    because most screened names resemble no listed name."""
    if not screened or not listed:
        return 0.0 if bar <= 0 else None
    coverage = _coverage(screened, listed)
    matcher = SequenceMatcher(None, " ".join(sorted(screened)), " ".join(sorted(listed)))
    # Both quick ratios are upper bounds of ratio(): below what could still matter (the
    # bar, or the coverage already found), the full comparison cannot change the result.
    needed = max(bar, coverage)
    if matcher.real_quick_ratio() < needed or matcher.quick_ratio() < needed:
        score = coverage
    else:
        score = max(matcher.ratio(), coverage)
    return score if score >= bar else None


class DeniedPartyScreen:
    """A denied-party list with its names normalised once, ready to screen against."""

    def __init__(self, parties: DeniedPartyList) -> None:
        self.parties = parties
        # Longest first, so "and co" goes before "co".
        self._suffixes = sorted(
            (_words(suffix) for suffix in parties.legal_suffixes), key=len, reverse=True
        )
        self._names = [
            (entry, name, self.normalise(name))
            for entry in parties.entries
            for name in (entry.name, *entry.aliases)
        ]

    @property
    def threshold(self) -> float:
        return self.parties.fuzzy_threshold

    def normalise(self, name: str) -> tuple[str, ...]:
        """The tokens `name` is compared by, e.g. ("sample", "trading") for
        "The Sample Trading L.L.C."."""
        words = _words(name)
        return _strip_suffixes(words, self._suffixes) if words else words

    def screen_name(self, field: str, value: str) -> list[ScreeningMatch]:
        """The best match per listed party for one screened name, if any passes."""
        tokens = self.normalise(value)
        best: dict[str, ScreeningMatch] = {}
        for entry, name, listed in self._names:
            match = self._compare(field, value, tokens, entry, name, listed)
            current = best.get(entry.id)
            if match is not None and (current is None or match.score > current.score):
                best[entry.id] = match
        return list(best.values())

    def _compare(
        self,
        field: str,
        value: str,
        tokens: tuple[str, ...],
        entry: DeniedParty,
        name: str,
        listed: tuple[str, ...],
    ) -> ScreeningMatch | None:
        exact = bool(tokens) and tokens == listed
        score = 1.0 if exact else _similarity(tokens, listed, self.threshold)
        if score is None:
            return None
        return ScreeningMatch(
            field=field,
            screened=value,
            entry_id=entry.id,
            entry_name=entry.name,
            matched_name=name,
            kind=MatchKind.EXACT if exact else MatchKind.FUZZY,
            score=round(score, 3),
            outcome=Outcome.REFUSE if exact else Outcome.REVIEW,
        )

    def screen_address(self, field: str, address: Address) -> list[ScreeningMatch]:
        """A match for every listed party whose listed address is `address`."""
        here = (_words(address.line1), _words(address.city), address.country)
        rendered = f"{address.line1}, {address.city}, {address.country}"
        return [
            ScreeningMatch(
                field=field,
                screened=rendered,
                entry_id=entry.id,
                entry_name=entry.name,
                matched_name=entry.name,
                kind=MatchKind.ADDRESS,
                score=1.0,
                outcome=Outcome.REVIEW,
            )
            for entry in self.parties.entries
            for listed in entry.addresses
            if (_words(listed.line1), _words(listed.city), listed.country) == here
        ]


DENIED_PARTIES: Final = DeniedPartyScreen(
    DeniedPartyList.model_validate(load_table("denied_parties.json"))
)


def _screened_names(order: Order) -> Iterator[tuple[str, str]]:
    yield "buyer.name", order.buyer.name
    yield "ship_to.name", order.ship_to.name
    if order.ship_to.line2.strip():
        yield "ship_to.line2", order.ship_to.line2


def screen_order(order: Order, screen: DeniedPartyScreen = DENIED_PARTIES) -> ScreeningResult:
    """Screen the order's buyer, ship-to names and ship-to address against the list."""
    names = list(_screened_names(order))
    matches = [match for field, value in names for match in screen.screen_name(field, value)]
    matches += screen.screen_address("ship_to", order.ship_to)
    return ScreeningResult(
        outcome=worst(match.outcome for match in matches),
        matches=matches,
        screened_fields=[field for field, _ in names] + ["ship_to"],
        list_name=screen.parties.list_name,
        list_as_of=screen.parties.as_of.isoformat(),
        threshold=screen.threshold,
    )
