"""assess_order: every check combined into one outcome, one timeline line per check."""

from __future__ import annotations

from importlib import resources
from typing import Any

import pytest
from temporalio.contrib.pydantic import pydantic_data_converter

from crossdock.models.order import Address, Buyer
from crossdock.models.screening import AddressVerdict, CheckName, OrderAssessment, Outcome
from crossdock.money import Money
from crossdock.policies import assess_order
from tests.factories import line_item, order

MANCHESTER = Address(
    name="Demo buyer 00002",
    line1="1 Demo Street",
    city="Manchester",
    postal_code="M1 1AE",
    country="GB",
)
BRISBANE = Address(
    name="Demo buyer 00003",
    line1="1 Demo Street",
    city="Brisbane",
    postal_code="4000",
    country="AU",
)


def gbp_order(*hs_codes: str, **overrides: Any) -> Any:
    items = [
        line_item(hs_code=code, unit_price=Money(amount=2500, currency="GBP")) for code in hs_codes
    ]
    return order(
        ship_to=MANCHESTER,
        items=items,
        currency="GBP",
        shipping=Money(amount=890, currency="GBP"),
        **overrides,
    )


def test_clean_order_is_clear_with_one_line_per_check() -> None:
    assessment = assess_order(order())

    assert assessment.outcome is Outcome.CLEAR
    assert (assessment.refusal_reason, assessment.review_reasons) == (None, [])
    assert [check.check for check in assessment.checks] == [
        CheckName.HS_CODES,
        CheckName.RESTRICTED_GOODS,
        CheckName.DENIED_PARTIES,
        CheckName.RISK,
    ]
    assert assessment.timeline() == [
        "hs_codes: clear - 1 HS code(s) plausible",
        "restricted_goods: clear - nothing prohibited or restricted for FR",
        "denied_parties: clear - no match for buyer.name, ship_to.name, ship_to on "
        "Crossdock sample denied-party list (as of 2025-10-01)",
        "risk: clear - score 0 (review at 50)",
    ]


def test_deliverable_address_is_the_first_line() -> None:
    verdict = AddressVerdict(deliverable=True, normalised=order().ship_to)

    assessment = assess_order(order(), address=verdict)

    assert assessment.outcome is Outcome.CLEAR
    assert assessment.timeline()[0] == "address: clear - deliverable"
    assert assessment.address == verdict


def test_undeliverable_address_refuses_naming_the_field() -> None:
    verdict = AddressVerdict(
        deliverable=False,
        errors=["postal_code: Postal code is required for addresses in GB (E.ZIP.MISSING)"],
    )

    assessment = assess_order(order(), address=verdict)

    assert assessment.outcome is Outcome.REFUSE
    assert assessment.refusal_reason == (
        "ship_to.postal_code: Postal code is required for addresses in GB (E.ZIP.MISSING)"
    )


def test_knife_to_gb_goes_to_review_for_restricted_goods() -> None:
    assessment = assess_order(gbp_order("691200", "821191"))

    assert assessment.outcome is Outcome.REVIEW
    assert assessment.refusal_reason is None
    [reason] = assessment.review_reasons
    assert reason.startswith("items[1].hs_code '821191' is restricted for GB: bladed articles")
    risk = next(check for check in assessment.checks if check.check is CheckName.RISK)
    assert (risk.outcome, assessment.risk.score) == (Outcome.CLEAR, 20)


def test_matcha_to_australia_is_clear() -> None:
    matcha = line_item(hs_code="090220", unit_price=Money(amount=4000, currency="AUD"))
    aud = order(
        ship_to=BRISBANE,
        items=[matcha],
        currency="AUD",
        shipping=Money(amount=1900, currency="AUD"),
    )

    assert assess_order(aud).outcome is Outcome.CLEAR


def test_prohibited_item_refuses_with_the_item_index_and_destination() -> None:
    items = [
        line_item(unit_price=Money(amount=2800, currency="JPY")),
        line_item(hs_code="930100", unit_price=Money(amount=14000, currency="JPY")),
    ]
    jpy = order(
        ship_to=BRISBANE, items=items, currency="JPY", shipping=Money(amount=1800, currency="JPY")
    )

    assessment = assess_order(jpy)

    assert assessment.outcome is Outcome.REFUSE
    assert assessment.refusal_reason is not None
    assert assessment.refusal_reason.startswith(
        "items[1].hs_code '930100' is prohibited for AU: arms and ammunition"
    )


def test_reserved_hs_chapter_refuses() -> None:
    assessment = assess_order(order(items=[line_item(hs_code="770100")]))

    assert assessment.outcome is Outcome.REFUSE
    assert assessment.refusal_reason == (
        "items[0].hs_code '770100': chapter 77 is reserved for future use in the Harmonized System"
    )


def test_exact_denied_party_refuses_and_fuzzy_reviews() -> None:
    exact = assess_order(order(buyer=Buyer(name="Sample Sanctioned Trading L.L.C.")))
    fuzzy = assess_order(order(buyer=Buyer(name="Sampel Sanctioned Trading")))

    assert exact.outcome is Outcome.REFUSE
    assert exact.refusal_reason is not None
    assert exact.refusal_reason.startswith("buyer.name 'Sample Sanctioned Trading L.L.C.' matches")
    assert fuzzy.outcome is Outcome.REVIEW
    assert fuzzy.review_reasons[0].startswith("buyer.name 'Sampel Sanctioned Trading' resembles")
    # The screening hit also counts in the risk score, which stays under the threshold alone.
    assert (fuzzy.risk.score, fuzzy.risk.needs_review) == (40, False)


def test_risk_alone_can_send_an_order_to_review() -> None:
    assessment = assess_order(
        order(), billing_country="DE", first_time_buyer=True, orders_last_24h=3
    )

    assert assessment.outcome is Outcome.REVIEW
    assert assessment.review_reasons == ["risk score 50 is at or over 50"]
    assert assessment.timeline()[-1] == (
        "risk: review - score 50 (review at 50): "
        "billing_country_mismatch +25: billing country DE differs from ship_to.country FR; "
        "first_time_buyer +10: the buyer's first order; "
        "velocity +15: 3 other orders from the buyer in the last 24 h (at least 3)"
    )


def test_refusal_outranks_review_and_the_first_refusal_is_the_reason() -> None:
    assessment = assess_order(
        gbp_order("821191", "930100", "770100"),
        address=AddressVerdict(deliverable=False, errors=["address: Address not found"]),
        first_time_buyer=True,
    )

    assert assessment.outcome is Outcome.REFUSE
    assert assessment.refusal_reason == "ship_to.address: Address not found"
    assert [(check.check, check.outcome) for check in assessment.checks] == [
        (CheckName.ADDRESS, Outcome.REFUSE),
        (CheckName.HS_CODES, Outcome.REFUSE),  # chapter 77
        (CheckName.RESTRICTED_GOODS, Outcome.REFUSE),  # the firearm, and the knife to review
        (CheckName.DENIED_PARTIES, Outcome.CLEAR),
        (CheckName.RISK, Outcome.CLEAR),  # restricted goods 20 + first-time buyer 10
    ]
    goods = assessment.checks[2]
    assert goods.summary.endswith("(+1 more)")
    assert goods.summary.startswith("items[1].hs_code '930100' is prohibited for GB")


def test_bad_buyer_context_is_refused_by_name() -> None:
    with pytest.raises(ValueError, match="billing_country 'gb'"):
        assess_order(order(), billing_country="gb")


def test_assessment_survives_the_temporal_payload_round_trip() -> None:
    assessment = assess_order(
        gbp_order("821191"),
        address=AddressVerdict(deliverable=True, normalised=MANCHESTER),
        billing_country="FR",
    )
    converter = pydantic_data_converter.payload_converter

    [payload] = converter.to_payloads([assessment])
    [decoded] = converter.from_payloads([payload], [OrderAssessment])

    assert decoded == assessment
    assert decoded.timeline() == assessment.timeline()


def test_deterministic_and_reads_no_file_at_call_time(monkeypatch: pytest.MonkeyPatch) -> None:
    first = assess_order(gbp_order("821191"), first_time_buyer=True)

    def no_files(*args: object, **kwargs: object) -> None:
        raise AssertionError("a policy read a file at call time")

    monkeypatch.setattr(resources, "files", no_files)
    monkeypatch.setattr("builtins.open", no_files)

    assert assess_order(gbp_order("821191"), first_time_buyer=True) == first
