"""HS code plausibility: can this code be declared to customs at all?

Checks, for each line item: 6 to 10 digits; a chapter (the first two digits) that exists
in the Harmonized System (01-97, not the reserved 77, nor 98/99 which national tariffs
keep for themselves); and, for the chapters whose headings we list in
`crossdock/data/hs_nomenclature.json`, a heading (the first four digits) of that chapter.

A malformed code or impossible chapter is refused: no customs authority will accept the
declaration. An unknown heading only asks for review, because our heading table is
partial and the catalog may be right.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date
from typing import Final

from pydantic import BaseModel, ConfigDict, model_validator

from crossdock.models.order import LineItem
from crossdock.models.screening import HsFinding, Outcome
from crossdock.policies._data import load_table

__all__ = ["NOMENCLATURE", "HsNomenclature", "check_hs_codes", "hs_code_problem"]

_DIGITS = re.compile(r"^\d{6,10}$")


class HsNomenclature(BaseModel):
    """HS chapters (and some chapters' headings) as data."""

    model_config = ConfigDict(frozen=True)

    edition: str
    as_of: date
    reserved_chapters: dict[str, str]  # chapter -> why it cannot be declared
    chapters: dict[str, str]  # chapter -> title
    headings: dict[str, list[str]]  # chapter -> every heading of it

    @model_validator(mode="after")
    def _consistent(self) -> HsNomenclature:
        for chapter, headings in self.headings.items():
            if chapter not in self.chapters:
                raise ValueError(f"headings[{chapter!r}]: {chapter} is not a listed chapter")
            strays = [h for h in headings if len(h) != 4 or not h.startswith(chapter)]
            if strays:
                raise ValueError(f"headings[{chapter!r}]: {strays} are not headings of it")
        return self


NOMENCLATURE: Final = HsNomenclature.model_validate(load_table("hs_nomenclature.json"))


def hs_code_problem(
    code: str, nomenclature: HsNomenclature = NOMENCLATURE
) -> tuple[Outcome, str] | None:
    """What is wrong with `code` (dots and spaces allowed, as in "6109.10"), if anything.

    Returns:
        None for a plausible code, else (refuse or review, the problem in words).
    """
    digits = code.replace(".", "").replace(" ", "")
    if not _DIGITS.match(digits):
        return Outcome.REFUSE, "an HS code has 6 to 10 digits, e.g. '610910'"
    chapter, heading = digits[:2], digits[:4]
    if chapter in nomenclature.reserved_chapters:
        return Outcome.REFUSE, nomenclature.reserved_chapters[chapter]
    if chapter not in nomenclature.chapters:
        return Outcome.REFUSE, f"chapter {chapter} is not a chapter of {nomenclature.edition}"
    known = nomenclature.headings.get(chapter)
    if known is not None and heading not in known:
        title = nomenclature.chapters[chapter]
        return Outcome.REVIEW, (
            f"heading {heading} is not in {nomenclature.edition} chapter {chapter} "
            f"({title}); check the catalog"
        )
    return None


def check_hs_codes(
    items: Sequence[LineItem], nomenclature: HsNomenclature = NOMENCLATURE
) -> list[HsFinding]:
    """A finding for every line item whose HS code is implausible, in item order."""
    findings = []
    for index, item in enumerate(items):
        problem = hs_code_problem(item.hs_code, nomenclature)
        if problem is not None:
            outcome, text = problem
            findings.append(
                HsFinding(item_index=index, hs_code=item.hs_code, outcome=outcome, problem=text)
            )
    return findings
