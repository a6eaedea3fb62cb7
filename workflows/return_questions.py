"""Questions to a person about what a partner refused, when the return cannot settle it.

Every question is an approval in the inbox (answered through the signed `decide` update),
its subject in the partner's own words, each option priced by what it gives away. A
question about money whose fate is unknown (a refund issued but not confirmed) offers no
way to close: someone must say what became of the money first.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from crossdock.models.approval import (
        ApprovalRequest,
        Decision,
        DecisionAction,
        Price,
        Role,
    )
    from crossdock.models.refusals import Refusal
    from crossdock.models.returns import ReturnTimers
    from crossdock.money import Money
    from workflows.return_context import ReturnContext

# Before this patch a partner's refusal the return could not settle failed it (RRMA: a
# refund check refused, the order left at refund_reserved, unflagged); after it, a
# person is asked. One id for every such place in the return workflow.
REFUSALS_ASK = "return-refusals-ask"
RETRY = "retry"
REFUNDED_BY_HAND = "refunded_by_hand"
REFUNDED_ANOTHER_WAY = "refunded_another_way"
# Answers that record money a person says left: they must say where they saw it, or how.
VOUCHED = frozenset({REFUNDED_BY_HAND, REFUNDED_ANOTHER_WAY})
CLOSE = "close"
ANSWERING = frozenset({Role.OPERATOR, Role.FINANCE, Role.ADMIN})
MEANING = {
    RETRY: "retry asks the partner again",
    REFUNDED_BY_HAND: "refunded_by_hand records that the refund was made (say where you saw it)",
    REFUNDED_ANOTHER_WAY: (
        "refunded_another_way records that it was not, and you refunded the buyer another way "
        "(say how)"
    ),
}


def words(refusal: Refusal) -> str:
    """The partner's refusal as operators read it: who said what, quoted."""
    who = refusal.partner or "the partner"
    http = f" (HTTP {refusal.status})" if refusal.status else ""
    return f"{who} said “{refusal.message}”{http}"


def question(
    key: str,
    what: str,
    options: tuple[str, ...],
    timers: ReturnTimers,
    *,
    threshold: Money,
    prices: tuple[Price, ...],
    can_close: bool,
    meanings: Mapping[str, str] | None = None,
) -> ApprovalRequest:
    """One question about a refusal: `what` happened, what each option does (`meanings`
    adds to or overrides the usual ones), and whether reject (close) is offered."""
    explained = {**MEANING, **(meanings or {})}
    meaning = "; ".join(explained[option] for option in options if option in explained)
    close = "; reject closes the return" if can_close else "; it cannot be closed until answered"
    actions = {DecisionAction.APPROVE, DecisionAction.REQUEST_INFO}
    if can_close:
        actions.add(DecisionAction.REJECT)
    return ApprovalRequest(
        key=key,
        subject=f"{what}: {meaning}{close}",
        allowed_roles=ANSWERING,
        actions=frozenset(actions),
        options=options,
        remind_after=timedelta(seconds=timers.decision_remind_seconds),
        escalate_after=timedelta(seconds=timers.decision_escalate_seconds),
        expire_after=timedelta(seconds=timers.decision_expire_seconds),
        finance_threshold=threshold,
        prices=prices,
    )


async def ask(
    ctx: ReturnContext, request: ApprovalRequest, why: str
) -> tuple[str, Decision | None]:
    """Put `request` to a person, flagged at once, until answered (an expired question is
    asked again under the next key: never decided by the clock). The option picked, or
    CLOSE for a rejection, with the decision."""
    base, round = request.key, 1
    while True:
        ctx.approval.open(request)
        # After open: opening syncs the approval's own (not yet late) attention flag.
        ctx.attention(True, why)
        outcome = await ctx.approval.wait()
        decision = outcome.decision
        if outcome.approved and decision is not None:
            return decision.option, decision
        if not outcome.expired:
            return CLOSE, decision
        round += 1
        request = request.model_copy(update={"key": f"{base}-{round}"})


def answer_refusal(decision: Decision) -> str:
    """What the approval rules do not know: recording money as gone needs a reason."""
    if decision.action is DecisionAction.APPROVE and decision.option in VOUCHED:
        if not decision.reason.strip():
            return (
                f"{decision.option} needs a reason: where you saw the refund made, or how "
                "you refunded the buyer"
            )
    return ""


def vouched(decision: Decision | None) -> str:
    """Who vouches for money a person recorded, for the refund's `confirmed_by`."""
    if decision is None:
        return ""
    return f"{decision.by.id} ({decision.option}): {decision.reason}"[:600]
