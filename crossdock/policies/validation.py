"""Order validation: every check the order goes through before payment, in one call.

`assess_order` runs HS plausibility, restricted goods, denied-party screening and the
risk score (and takes in the carrier's address verdict, which needs a partner call and
so comes from an activity). It is pure and fast, so the order workflow runs it in
workflow code. The outcome is the most severe of the checks': `refuse` cancels the order
with `refusal_reason`, `review` waits for an operator with `review_reasons`, `clear`
goes ahead. Each check gives one timeline line.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from crossdock.models.order import Order
from crossdock.models.screening import (
    AddressVerdict,
    CheckName,
    CheckResult,
    HsFinding,
    OrderAssessment,
    Outcome,
    RestrictedGoodsHit,
    RiskAssessment,
    ScreeningResult,
    worst,
)
from crossdock.policies.hs import check_hs_codes
from crossdock.policies.restricted import check_restricted_goods
from crossdock.policies.risk import BuyerContext, assess_risk
from crossdock.policies.screening import screen_order

__all__ = ["assess_order"]


@dataclass(frozen=True)
class _Reason:
    outcome: Outcome
    text: str


def _check(check: CheckName, reasons: Sequence[_Reason], clear: str) -> CheckResult:
    """A check's result: its worst reason decides; the summary is that reason (or
    `clear` when there are none), with a count of the others."""
    outcome = worst(reason.outcome for reason in reasons)
    ranked = sorted(reasons, key=lambda reason: -reason.outcome.severity)
    summary = clear if not ranked else ranked[0].text
    if len(ranked) > 1:
        summary += f" (+{len(ranked) - 1} more)"
    return CheckResult(
        check=check, outcome=outcome, summary=summary, reasons=[r.text for r in reasons]
    )


def _address_check(verdict: AddressVerdict) -> tuple[CheckResult, list[_Reason]]:
    if verdict.deliverable:
        notes = "; ".join(verdict.errors)
        summary = f"deliverable (carrier notes: {notes})" if notes else "deliverable"
        return CheckResult(check=CheckName.ADDRESS, outcome=Outcome.CLEAR, summary=summary), []
    texts = [f"ship_to.{error}" for error in verdict.errors] or [
        "ship_to: the carrier cannot deliver to this address"
    ]
    reasons = [_Reason(Outcome.REFUSE, text) for text in texts]
    return _check(CheckName.ADDRESS, reasons, ""), reasons


def _hs_check(findings: Sequence[HsFinding], count: int) -> tuple[CheckResult, list[_Reason]]:
    reasons = [_Reason(finding.outcome, finding.message) for finding in findings]
    clear = f"{count} HS code(s) plausible"
    return _check(CheckName.HS_CODES, reasons, clear), reasons


def _goods_check(
    hits: Sequence[RestrictedGoodsHit], destination: str
) -> tuple[CheckResult, list[_Reason]]:
    reasons = [_Reason(hit.outcome, hit.message) for hit in hits]
    clear = f"nothing prohibited or restricted for {destination}"
    return _check(CheckName.RESTRICTED_GOODS, reasons, clear), reasons


def _screening_check(result: ScreeningResult) -> tuple[CheckResult, list[_Reason]]:
    reasons = [_Reason(match.outcome, match.message) for match in result.matches]
    clear = (
        f"no match for {', '.join(result.screened_fields)} on {result.list_name} "
        f"(as of {result.list_as_of})"
    )
    return _check(CheckName.DENIED_PARTIES, reasons, clear), reasons


def _risk_check(risk: RiskAssessment) -> tuple[CheckResult, list[_Reason]]:
    outcome = Outcome.REVIEW if risk.needs_review else Outcome.CLEAR
    texts = [f"{reason.rule.value} +{reason.points}: {reason.detail}" for reason in risk.reasons]
    summary = f"score {risk.score} (review at {risk.review_at})"
    if texts:
        summary += f": {'; '.join(texts)}"
    check = CheckResult(check=CheckName.RISK, outcome=outcome, summary=summary, reasons=texts)
    reasons = [_Reason(outcome, f"risk score {risk.score} is at or over {risk.review_at}")]
    return check, reasons if risk.needs_review else []


def _results(
    order: Order,
    address: AddressVerdict | None,
    hs: Sequence[HsFinding],
    goods: Sequence[RestrictedGoodsHit],
    screening: ScreeningResult,
    risk: RiskAssessment,
) -> list[tuple[CheckResult, list[_Reason]]]:
    """Each check's result for the timeline, with the reasons it gives to refuse or review."""
    return [
        *([_address_check(address)] if address is not None else []),
        _hs_check(hs, len(order.items)),
        _goods_check(goods, order.ship_to.country),
        _screening_check(screening),
        _risk_check(risk),
    ]


def assess_order(
    order: Order,
    *,
    billing_country: str | None = None,
    first_time_buyer: bool = False,
    orders_last_24h: int = 0,
    address: AddressVerdict | None = None,
) -> OrderAssessment:
    """Run every validation check on `order` and combine their outcomes.

    Args:
        order: the order to validate.
        billing_country: the payer's billing country (ISO alpha-2), when known.
        first_time_buyer: the buyer has never ordered before.
        orders_last_24h: the buyer's other orders in the 24 hours before this one.
        address: the carrier's verdict on `order.ship_to` (the `verify_address`
            activity); without it the address check is left out.

    Returns:
        The outcome, one result per check (for the timeline), each check's details, the
        refusal reason naming the field (when refused) and the reasons to review.

    Raises:
        ValueError: `billing_country` is not an alpha-2 code, or `orders_last_24h` < 0.
    """
    hs = check_hs_codes(order.items)
    goods = check_restricted_goods(order.items, order.ship_to.country)
    screening = screen_order(order)
    context = BuyerContext(
        billing_country=billing_country,
        first_time_buyer=first_time_buyer,
        orders_last_24h=orders_last_24h,
        screening=screening,
        restricted=goods,
    )
    risk = assess_risk(order, context)
    results = _results(order, address, hs, goods, screening, risk)
    reasons = [reason for _, found in results for reason in found]
    refusals = [reason.text for reason in reasons if reason.outcome is Outcome.REFUSE]
    return OrderAssessment(
        outcome=worst(check.outcome for check, _ in results),
        checks=[check for check, _ in results],
        hs_codes=hs,
        restricted_goods=goods,
        screening=screening,
        risk=risk,
        address=address,
        refusal_reason=refusals[0] if refusals else None,
        review_reasons=[reason.text for reason in reasons if reason.outcome is Outcome.REVIEW],
    )
