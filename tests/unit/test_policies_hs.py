"""HS code plausibility: format, chapter, and heading where the table lists them."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from crossdock.catalog import default_catalog
from crossdock.models.screening import Outcome
from crossdock.policies.hs import NOMENCLATURE, HsNomenclature, check_hs_codes, hs_code_problem
from tests.factories import line_item


@pytest.mark.parametrize("sku", [p.sku for p in default_catalog().products()])
def test_every_catalog_code_is_plausible(sku: str) -> None:
    assert hs_code_problem(default_catalog()[sku].hs_code) is None


@pytest.mark.parametrize("code", ["6109", "61091", "61091000001", "6109AB", "", "61 09"])
def test_codes_without_6_to_10_digits_are_refused(code: str) -> None:
    assert hs_code_problem(code) == (Outcome.REFUSE, "an HS code has 6 to 10 digits, e.g. '610910'")


@pytest.mark.parametrize("code", ["6109.10", "6109 10", "6109100010"])
def test_dots_spaces_and_national_digits_are_accepted(code: str) -> None:
    assert hs_code_problem(code) is None


@pytest.mark.parametrize("chapter", ["00", "77", "98", "99"])
def test_reserved_chapters_are_refused(chapter: str) -> None:
    outcome, problem = hs_code_problem(f"{chapter}0100") or (None, "")
    assert outcome is Outcome.REFUSE
    assert f"chapter {chapter}" in problem


def test_chapter_01_and_97_are_the_bounds() -> None:
    assert hs_code_problem("010121") is None
    assert hs_code_problem("970110") is None


@pytest.mark.parametrize(
    "code",
    [
        "611800",  # chapter 61 ends at 6117
        "690800",  # 6908 was merged into 6907 in HS 2017
        "852000",  # 8520 was deleted in HS 2007
        "930800",  # chapter 93 ends at 9307
    ],
)
def test_unknown_heading_of_a_listed_chapter_asks_for_review(code: str) -> None:
    outcome, problem = hs_code_problem(code) or (None, "")
    assert outcome is Outcome.REVIEW
    assert f"heading {code[:4]} is not in HS 2022 chapter {code[:2]}" in problem


def test_chapter_without_heading_list_is_checked_at_chapter_level_only() -> None:
    assert "95" not in NOMENCLATURE.headings
    assert hs_code_problem("959900") is None


def test_findings_name_the_item_index_and_code() -> None:
    items = [line_item(), line_item(hs_code="770100"), line_item(hs_code="611800")]

    findings = check_hs_codes(items)

    assert [(f.item_index, f.hs_code, f.outcome) for f in findings] == [
        (1, "770100", Outcome.REFUSE),
        (2, "611800", Outcome.REVIEW),
    ]
    assert findings[0].message == (
        "items[1].hs_code '770100': chapter 77 is reserved for future use in the Harmonized System"
    )


def test_a_heading_table_that_strays_from_its_chapter_is_refused_at_load() -> None:
    data = NOMENCLATURE.model_dump()
    data["headings"]["61"] = ["6109", "6201"]

    with pytest.raises(ValidationError, match=r"headings\['61'\].*6201"):
        HsNomenclature.model_validate(data)
