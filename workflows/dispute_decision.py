"""Step: contest or accept, decided by an operator before the deadline or, failing that,
by the deadline policy (contest a strong case, accept a weak one). Never silently late.

The decision is the reusable approval: approve = contest (submit the staged packet, as
edited), reject = accept the dispute (a reason is required). Contesting or conceding an
amount at or over the finance threshold needs finance or admin (conceding is priced at the
disputed amount, whatever is typed), and nobody who edited the packet may also approve
contesting it (maker ≠ checker).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from crossdock.models.approval import (
        ApprovalRequest,
        ApprovalState,
        Decision,
        DecisionAction,
        Price,
        Role,
    )
    from crossdock.models.dispute import DisputePolicy
    from crossdock.models.dispute_states import DisputeState
    from crossdock.models.dispute_status import DisputeStatus
    from crossdock.money import Money
    from crossdock.policies.disputes import assess, decision_clocks
    from workflows.dispute_context import DisputeContext

DECIDERS = frozenset({Role.OPERATOR, Role.FINANCE, Role.ADMIN})
CONTEST = "contesting the dispute"
CONCEDE = "conceding the dispute"
DEADLINE_POLICY = "deadline_policy"
# Disputes without a due date (rare) are answered within this.
DEFAULT_RESPONSE_WINDOW = timedelta(days=7)


class Choice(StrEnum):
    CONTEST = "contest"
    ACCEPT = "accept"


def decision_request(
    status: DisputeStatus, policy: DisputePolicy, now: datetime
) -> ApprovalRequest | None:
    """Contest or concede, put to operators; None when there is no time left to ask."""
    snapshot = status.snapshot
    due_by = snapshot.due_by or now + DEFAULT_RESPONSE_WINDOW
    clocks = decision_clocks(now, due_by, policy)
    if clocks is None:
        return None
    returns = f"; return in progress: {', '.join(status.open_returns)}"
    return ApprovalRequest(
        key=f"decide-{status.round}",
        subject=(
            f"contest {snapshot.reason} dispute {snapshot.id} for {snapshot.amount} "
            f"(due {due_by:%Y-%m-%d %H:%M}); evidence {status.strength}"
            f"{returns if status.open_returns else ''}. Approve = submit, reject = accept"
        ),
        allowed_roles=DECIDERS,
        actions=frozenset({DecisionAction.APPROVE, DecisionAction.REJECT}),
        remind_after=clocks.remind_after,
        escalate_after=clocks.escalate_after,
        expire_after=clocks.expire_after,
        amount=snapshot.amount,
        finance_threshold=finance_threshold(policy, snapshot.amount),
        # Conceding gives the amount to the buyer for certain; contesting stakes all of it.
        prices=(
            Price(action=DecisionAction.APPROVE, gives_away=snapshot.amount, label=CONTEST),
            Price(action=DecisionAction.REJECT, gives_away=snapshot.amount, label=CONCEDE),
        ),
    )


def terms_refusal(decision: Decision) -> str:
    """A dispute is contested or conceded whole: an amount typed beside it means nothing."""
    if decision.amount is not None:
        return (
            f"amount does not apply to a dispute (got {decision.amount}): it is contested or "
            "conceded whole; leave amount empty"
        )
    return ""


def finance_threshold(policy: DisputePolicy, amount: Money) -> Money:
    """The policy's threshold for the currency; none means every decision needs finance
    (never a guessed conversion)."""
    return policy.finance_threshold(amount.currency) or Money.zero(amount.currency)


def _by_policy(ctx: DisputeContext, why: str) -> Choice:
    strength = assess(ctx.status.packet, ctx.status.snapshot.reason)
    choice = Choice.CONTEST if strength.strong else Choice.ACCEPT
    ctx.status.decided_by = DEADLINE_POLICY
    ctx.note(DEADLINE_POLICY, f"{why}: {choice} ({strength})")
    # A person should see what the policy did on their behalf.
    ctx.flag(f"decided by the deadline policy: {choice}")
    return choice


async def decide(ctx: DisputeContext) -> Choice | None:
    """Contest or accept; None when the provider closed the round meanwhile."""
    request = decision_request(ctx.status, ctx.policy, workflow.now())
    if request is None:
        return _by_policy(ctx, "too close to due_by to ask an operator")
    ctx.approval.open(request)
    ctx.move(DisputeState.AWAITING_DECISION, request.subject)
    outcome = await ctx.approval.wait()
    if outcome.state is ApprovalState.WITHDRAWN:
        return None
    if outcome.expired:
        return _by_policy(ctx, "no decision before the deadline")
    assert outcome.decision is not None  # approved or rejected by someone
    ctx.status.decided_by = outcome.decision.by.id
    return Choice.CONTEST if outcome.approved else Choice.ACCEPT
