"""Contracts of order validation: HS plausibility, restricted goods, denied-party
screening, risk, address verification, and the assessment that combines them.

Pure data with no I/O, so workflow code can import them (through
`workflow.unsafe.imports_passed_through()`). The policies that produce them live in
`crossdock.policies`; the address verdict comes from the carrier activity.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from crossdock.models.order import Address


class Outcome(StrEnum):
    """What a check (or the whole assessment) means for the order."""

    CLEAR = "clear"
    REVIEW = "review"  # an operator decides (approve / reject)
    REFUSE = "refuse"  # the order cannot go ahead: cancel it with the reason

    @property
    def severity(self) -> int:
        return _SEVERITY[self]


_SEVERITY = {Outcome.CLEAR: 0, Outcome.REVIEW: 1, Outcome.REFUSE: 2}


def worst(outcomes: Iterable[Outcome]) -> Outcome:
    """The most severe of `outcomes` (`clear` when there are none)."""
    return max(outcomes, key=lambda outcome: outcome.severity, default=Outcome.CLEAR)


class CheckName(StrEnum):
    """The checks of order validation, in the order they run."""

    ADDRESS = "address"
    HS_CODES = "hs_codes"
    RESTRICTED_GOODS = "restricted_goods"
    DENIED_PARTIES = "denied_parties"
    RISK = "risk"


class CheckResult(BaseModel):
    """One check's outcome for the order timeline: a summary line and its reasons, each
    naming the order field it is about."""

    model_config = ConfigDict(frozen=True)

    check: CheckName
    outcome: Outcome
    summary: str
    reasons: list[str] = Field(default_factory=list)

    @property
    def line(self) -> str:
        """One timeline line, e.g. "restricted_goods: review - items[0].hs_code ..."."""
        return f"{self.check.value}: {self.outcome.value} - {self.summary}"


# --- HS codes -------------------------------------------------------------------------


class HsFinding(BaseModel):
    """An implausible HS code on one line item."""

    model_config = ConfigDict(frozen=True)

    item_index: int = Field(ge=0)
    hs_code: str
    outcome: Outcome
    problem: str  # e.g. "chapter 77 is reserved in the Harmonized System"

    @property
    def field(self) -> str:
        return f"items[{self.item_index}].hs_code"

    @property
    def message(self) -> str:
        return f"{self.field} {self.hs_code!r}: {self.problem}"


# --- restricted goods -----------------------------------------------------------------


class GoodsLevel(StrEnum):
    """How a destination treats a kind of goods."""

    PROHIBITED = "prohibited"  # cannot be sent there: refuse
    RESTRICTED = "restricted"  # needs a licence, permit or special handling: review

    @property
    def outcome(self) -> Outcome:
        return Outcome.REFUSE if self is GoodsLevel.PROHIBITED else Outcome.REVIEW


class RestrictedGoodsHit(BaseModel):
    """A line item whose HS code falls under a prohibited or restricted goods rule."""

    model_config = ConfigDict(frozen=True)

    item_index: int = Field(ge=0)
    hs_code: str
    destination: str
    level: GoodsLevel
    rule_prefix: str  # the HS prefix of the rule that decided ("" = all goods)
    rule_scope: str  # the destination the rule is listed under, or "default"
    category: str
    reason: str
    requires: str = ""  # what would make a restricted item shippable, if known

    @property
    def outcome(self) -> Outcome:
        return self.level.outcome

    @property
    def field(self) -> str:
        return f"items[{self.item_index}].hs_code"

    @property
    def message(self) -> str:
        prefix = f"HS {self.rule_prefix}" if self.rule_prefix else "all goods"
        text = (
            f"{self.field} {self.hs_code!r} is {self.level.value} for {self.destination}: "
            f"{self.category} ({prefix}; {self.reason})"
        )
        return f"{text}; requires {self.requires}" if self.requires else text


# --- denied-party screening -----------------------------------------------------------


class MatchKind(StrEnum):
    EXACT = "exact"  # the normalised names are equal: refuse
    FUZZY = "fuzzy"  # similar above the list's threshold: review
    ADDRESS = "address"  # the ship-to address is a listed party's address: review


class ScreeningMatch(BaseModel):
    """A screened value that matches a denied-party list entry."""

    model_config = ConfigDict(frozen=True)

    field: str  # "buyer.name", "ship_to.name" or "ship_to"
    screened: str  # the value as the order has it
    entry_id: str
    entry_name: str
    matched_name: str  # the entry's name or alias that matched
    kind: MatchKind
    score: float = Field(ge=0, le=1)  # similarity of the normalised names (1 for address)
    outcome: Outcome

    @property
    def message(self) -> str:
        how = {
            MatchKind.EXACT: "matches",
            MatchKind.FUZZY: f"resembles (similarity {self.score:.2f})",
            MatchKind.ADDRESS: "is the listed address of",
        }[self.kind]
        return (
            f"{self.field} {self.screened!r} {how} denied party {self.entry_id} "
            f"{self.entry_name!r} (as {self.matched_name!r})"
        )


class ScreeningResult(BaseModel):
    """Denied-party screening of one order: every match found, and what they mean."""

    model_config = ConfigDict(frozen=True)

    outcome: Outcome
    matches: list[ScreeningMatch] = Field(default_factory=list)
    screened_fields: list[str] = Field(default_factory=list)
    list_name: str
    list_as_of: str
    threshold: float


# --- risk -----------------------------------------------------------------------------


class RiskRule(StrEnum):
    """The rules of the risk score (their points are data: crossdock/data/risk_rules.json)."""

    ORDER_VALUE = "order_value"
    BILLING_COUNTRY_MISMATCH = "billing_country_mismatch"
    HIGH_RISK_DESTINATION = "high_risk_destination"
    DENIED_PARTY_MATCH = "denied_party_match"
    RESTRICTED_GOODS = "restricted_goods"
    FIRST_TIME_BUYER = "first_time_buyer"
    VELOCITY = "velocity"


class RiskReason(BaseModel):
    """One rule's contribution to the risk score, explained."""

    model_config = ConfigDict(frozen=True)

    rule: RiskRule
    points: int = Field(ge=0)
    detail: str


class RiskAssessment(BaseModel):
    """A rule-based risk score from 0 to 100 with every contribution explained."""

    model_config = ConfigDict(frozen=True)

    score: int = Field(ge=0, le=100)
    reasons: list[RiskReason] = Field(default_factory=list)
    needs_review: bool
    review_at: int  # the score at or above which an operator reviews the order


# --- address verification (a carrier activity) ----------------------------------------


class VerifyAddressInput(BaseModel):
    address: Address


class AddressVerdict(BaseModel):
    """The carrier's verdict on an address.

    `errors` use our `Address` field names, e.g. "postal_code: Postal code is required
    for GB (E.ZIP.MISSING)"; a deliverable address may still carry corrections.
    `normalised` is the carrier's corrected form, when it has one.
    """

    model_config = ConfigDict(frozen=True)

    deliverable: bool
    errors: list[str] = Field(default_factory=list)
    normalised: Address | None = None


# --- the whole assessment -------------------------------------------------------------


class OrderAssessment(BaseModel):
    """Everything order validation found, and the outcome: `clear` goes ahead, `review`
    waits for an operator, `refuse` cancels the order with `refusal_reason`."""

    model_config = ConfigDict(frozen=True)

    outcome: Outcome
    checks: list[CheckResult]
    hs_codes: list[HsFinding] = Field(default_factory=list)
    restricted_goods: list[RestrictedGoodsHit] = Field(default_factory=list)
    screening: ScreeningResult
    risk: RiskAssessment
    address: AddressVerdict | None = None
    # The first refusing reason, naming the field and value, e.g.
    # "items[1].hs_code '930100' is prohibited for AU: arms and ammunition (...)".
    refusal_reason: str | None = None
    review_reasons: list[str] = Field(default_factory=list)

    def timeline(self) -> list[str]:
        """One line per check, in the order they ran."""
        return [check.line for check in self.checks]
