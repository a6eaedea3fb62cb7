"""Denied-party screening: normalisation, exact vs fuzzy vs clear, addresses, the order."""

from __future__ import annotations

from difflib import SequenceMatcher

import pytest

from crossdock.models.order import Address, Buyer
from crossdock.models.screening import MatchKind, Outcome
from crossdock.policies.screening import (
    DENIED_PARTIES,
    DeniedPartyList,
    DeniedPartyScreen,
    name_similarity,
    screen_order,
)
from tests.factories import order

THRESHOLD = DENIED_PARTIES.threshold


@pytest.mark.parametrize(
    ("name", "tokens"),
    [
        ("The Sample Sanctioned Trading L.L.C.", ("sample", "sanctioned", "trading")),
        ("SAMPLE SANCTIONED TRADING, LLC", ("sample", "sanctioned", "trading")),
        ("Exportações Fictícias Proibidas S. A.", ("exportacoes", "ficticias", "proibidas")),
        (
            "Muster Sperrgüter Handelsgesellschaft m.b.H.",
            ("muster", "sperrguter", "handelsgesellschaft"),
        ),
        ("Fictitious Dual-Use Components Co.", ("fictitious", "dual", "use", "components")),
        ("Sample Trading GmbH & Co. KG", ("sample", "trading")),
        ("Søren Æble Łódź Ltd", ("soren", "aeble", "lodz")),
        ("LLC", ("llc",)),  # a name is never stripped to nothing
    ],
)
def test_normalisation(name: str, tokens: tuple[str, ...]) -> None:
    assert DENIED_PARTIES.normalise(name) == tokens


@pytest.mark.parametrize(
    ("name", "entry_id"),
    [
        ("Sample Sanctioned Trading LLC", "SMP-0001"),
        ("sample sanctioned trading, l.l.c.", "SMP-0001"),
        ("The Sample Sanctioned Trading Ltd.", "SMP-0001"),
        ("EXPORTACOES FICTICIAS PROIBIDAS, S.A.", "SMP-0006"),
        ("Muster Sperrgueter Handel GmbH", "SMP-0005"),  # an alias
        ("Fictitious Dual Use Components", "SMP-0004"),
    ],
)
def test_exact_match_after_normalisation_refuses(name: str, entry_id: str) -> None:
    [match] = DENIED_PARTIES.screen_name("buyer.name", name)

    assert (match.entry_id, match.kind, match.score, match.outcome) == (
        entry_id,
        MatchKind.EXACT,
        1.0,
        Outcome.REFUSE,
    )


def test_an_exact_alias_match_reports_the_alias() -> None:
    [match] = DENIED_PARTIES.screen_name("buyer.name", "Example Embargoed Freight")

    assert (match.entry_name, match.matched_name) == (
        "Example Embargoed Logistics GmbH",
        "Example Embargoed Freight",
    )


@pytest.mark.parametrize(
    "name",
    [
        "Sampel Sanctioned Trading LLC",  # transposed letters
        "Sample Sanctionned Tradng",  # one letter more, one less
        "Sample Sanctioned Trading Dubai Branch",  # extra words
        "Trading Sanctioned Sample",  # re-ordered (not equal: order differs)
        "SampleSanctioned Trading",  # words run together
        "Exemple Embargoed Logistic",
    ],
)
def test_similar_names_go_to_review_with_the_entry_and_score(name: str) -> None:
    [match] = DENIED_PARTIES.screen_name("ship_to.name", name)

    assert match.kind is MatchKind.FUZZY
    assert match.outcome is Outcome.REVIEW
    assert THRESHOLD <= match.score <= 1.0
    assert match.entry_id in {"SMP-0001", "SMP-0002"}
    assert match.message.startswith(f"ship_to.name {name!r} resembles (similarity ")


@pytest.mark.parametrize(
    "name",
    [
        "Demo buyer 00001",
        "Sanctioned Trading LLC",  # one of three words missing
        "Sample Trading GmbH",
        "Trading Company Ltd",  # one generic word in common
        "Example Logistics",
        "Placeholder Books",
    ],
)
def test_dissimilar_names_are_clear(name: str) -> None:
    assert DENIED_PARTIES.screen_name("buyer.name", name) == []


def test_similarity_is_word_order_insensitive_and_bounded() -> None:
    listed = ("sample", "sanctioned", "trading")

    assert name_similarity(("trading", "sample", "sanctioned"), listed) == 1.0
    assert name_similarity((), listed) == 0.0
    assert 0.0 < name_similarity(("trading",), listed) < 0.5


def test_threshold_is_inclusive() -> None:
    listed = ("sample", "sanctioned", "trading")
    score = name_similarity(("sampel", "sanctioned", "trading"), listed)
    data = DENIED_PARTIES.parties.model_dump()

    at = DeniedPartyScreen(DeniedPartyList.model_validate({**data, "fuzzy_threshold": score}))
    above = DeniedPartyScreen(
        DeniedPartyList.model_validate({**data, "fuzzy_threshold": score + 1e-9})
    )

    [match] = at.screen_name("buyer.name", "Sampel Sanctioned Trading")
    assert match.score == round(score, 3)
    assert above.screen_name("buyer.name", "Sampel Sanctioned Trading") == []


def test_quick_path_gives_the_same_scores_as_the_full_comparison() -> None:
    listed = DENIED_PARTIES.normalise("Sample Sanctioned Trading LLC")
    for name in ["Sampel Sanctioned Trading", "SampleSanctioned Trading", "Demo buyer 00001"]:
        screened = DENIED_PARTIES.normalise(name)
        full = max(
            SequenceMatcher(None, " ".join(sorted(screened)), " ".join(sorted(listed))).ratio(),
            name_similarity(screened, listed),
        )
        assert name_similarity(screened, listed) == full, name


def test_listed_address_goes_to_review() -> None:
    address = Address(
        name="Someone Else", line1="88 placeholder industrial estate", city="KOWLOON", country="HK"
    )

    [match] = DENIED_PARTIES.screen_address("ship_to", address)

    assert (match.kind, match.outcome, match.entry_id) == (
        MatchKind.ADDRESS,
        Outcome.REVIEW,
        "SMP-0004",
    )


def test_same_street_in_another_country_is_not_the_listed_address() -> None:
    address = Address(name="x", line1="Beispielweg 99", city="Musterstadt", country="AT")

    assert DENIED_PARTIES.screen_address("ship_to", address) == []


def test_clean_order_is_clear_and_says_what_was_screened() -> None:
    result = screen_order(order())

    assert result.outcome is Outcome.CLEAR
    assert result.matches == []
    assert result.screened_fields == ["buyer.name", "ship_to.name", "ship_to"]
    assert (result.list_as_of, result.threshold) == ("2025-10-01", THRESHOLD)


def test_order_outcome_is_the_worst_match_and_each_names_its_field() -> None:
    ship_to = Address(
        name="Sampel Sanctioned Trading",
        line1="1 Demo Street",
        line2="c/o Example Embargoed Logistics GmbH",
        city="Lyon",
        postal_code="69001",
        country="FR",
    )
    buyer = Buyer(name="Placeholder Procurement Bureau S.A.R.L.")

    result = screen_order(order(buyer=buyer, ship_to=ship_to))

    assert result.outcome is Outcome.REFUSE
    assert [(m.field, m.entry_id, m.kind) for m in result.matches] == [
        ("buyer.name", "SMP-0007", MatchKind.EXACT),
        ("ship_to.name", "SMP-0001", MatchKind.FUZZY),
        ("ship_to.line2", "SMP-0002", MatchKind.FUZZY),
    ]
    assert "ship_to.line2" in result.screened_fields


def test_the_sample_list_holds_only_obviously_fictitious_organisations() -> None:
    markers = {"sample", "example", "demo", "fictitious", "ficticias", "muster", "placeholder"}
    for entry in DENIED_PARTIES.parties.entries:
        assert markers & set(DENIED_PARTIES.normalise(entry.name)), entry.name
        # An organisation: its name ends in a legal form, which normalisation strips.
        assert DENIED_PARTIES.normalise(f"x {entry.name.split()[-1]}") == ("x",), entry.name
