"""Questions to a person about what a provider refused, when the dispute cannot settle
it: in the provider's own words, answered through the signed `decide` update, each option
priced at the disputed amount (what contesting stakes and conceding gives away).

A question about money that is gone but not booked offers no close: the dispute cannot
end until someone says where it was recorded.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from crossdock.models.approval import (
        ApprovalRequest,
        ApprovalState,
        Decision,
        DecisionAction,
        Price,
    )
    from crossdock.models.refusals import Refusal
    from crossdock.policies.disputes import decision_clocks
    from workflows.dispute_context import DisputeContext
    from workflows.dispute_decision import DECIDERS, finance_threshold

# Before this patch a provider refusing a submission or an acceptance was only flagged,
# and a loss the order would not book let the dispute end with the money unaccounted.
REFUSALS_ASK = "dispute-refusals-ask"
RETRY = "retry"
DONE_BY_HAND = "done_by_hand"
CONCEDE = "concede"
CLOSE = "close"
WITHDRAWN = "withdrawn"
MEANING = {
    RETRY: "retry asks the provider again",
    DONE_BY_HAND: "done_by_hand records that you did it at the provider (say where)",
    CONCEDE: "concede accepts the dispute instead",
}
# When the deadline leaves no room for the usual clocks, a person still gets a day.
FALLBACK_CLOCKS = (timedelta(hours=1), timedelta(hours=4), timedelta(hours=24))


def words(refusal: Refusal | str) -> str:
    """The provider's refusal as operators read it: who said what, quoted."""
    if isinstance(refusal, str):
        return f"the provider said “{refusal}”"
    who = refusal.partner or "the provider"
    http = f" (HTTP {refusal.status})" if refusal.status else ""
    return f"{who} said “{refusal.message}”{http}"


def question(
    ctx: DisputeContext,
    key: str,
    what: str,
    options: tuple[str, ...],
    *,
    can_close: bool,
    meanings: Mapping[str, str] | None = None,
) -> ApprovalRequest:
    """One question about a refusal; reject closes it (leaves it to the provider) only
    when `can_close`; `meanings` adds to or overrides what the options say."""
    snapshot = ctx.status.snapshot
    now = workflow.now()
    clocks = decision_clocks(now, snapshot.due_by, ctx.policy) if snapshot.due_by else None
    remind, escalate, expire = (
        (clocks.remind_after, clocks.escalate_after, clocks.expire_after)
        if clocks
        else FALLBACK_CLOCKS
    )
    explained = {**MEANING, **(meanings or {})}
    meaning = "; ".join(explained[option] for option in options)
    close = "; reject leaves it to the provider" if can_close else "; it must be answered"
    actions = {DecisionAction.APPROVE, DecisionAction.REQUEST_INFO}
    if can_close:
        actions.add(DecisionAction.REJECT)
    amount = snapshot.amount
    return ApprovalRequest(
        key=f"{key}-{ctx.status.round}",
        subject=f"{what}: {meaning}{close}",
        allowed_roles=DECIDERS,
        actions=frozenset(actions),
        options=options,
        remind_after=remind,
        escalate_after=escalate,
        expire_after=expire,
        finance_threshold=finance_threshold(ctx.policy, amount),
        prices=tuple(Price(option=option, gives_away=amount) for option in options),
    )


async def ask(ctx: DisputeContext, request: ApprovalRequest) -> tuple[str, Decision | None]:
    """Put `request` to a person until answered (asked again when it expires); WITHDRAWN
    when the provider closed the round meanwhile. The option, or CLOSE for a rejection."""
    base, again = request.key, 1
    while True:
        ctx.approval.open(request)
        outcome = await ctx.approval.wait()
        decision = outcome.decision
        if outcome.state is ApprovalState.WITHDRAWN:
            return WITHDRAWN, None
        if outcome.approved and decision is not None:
            return decision.option, decision
        if not outcome.expired:
            return CLOSE, decision
        again += 1
        request = request.model_copy(update={"key": f"{base}-{again}"})


def answer_refusal(decision: Decision) -> str:
    """Recording something done by hand needs a reason: where it was done."""
    if decision.action is DecisionAction.APPROVE and decision.option == DONE_BY_HAND:
        if not decision.reason.strip():
            return "done_by_hand needs a reason: where and how you did it at the provider"
    return ""


def contests(decision: Decision) -> bool:
    """Whether `decision` sends the staged packet: approving the decision, or retrying
    (or recording by hand) a refused submission. Its editors may not take it."""
    if decision.action is not DecisionAction.APPROVE:
        return False
    if decision.key.startswith("decide-"):
        return True
    return decision.key.startswith("submit-refused-") and decision.option != CONCEDE


def by_whom(decision: Decision | None) -> str:
    return f"{decision.by.id}: {decision.reason}" if decision else "an operator"
