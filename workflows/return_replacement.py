"""Sending the returned lines again instead of refunding them: a replacement order of
their own, started once (its id comes from the RMA), charged nothing. The buyer keeps or
disposes of the faulty goods: a replacement is returnless. When the replacement cannot
be started, a person retries, refunds instead, or closes the return."""

from __future__ import annotations

from temporalio import workflow
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from activities.returns import ReturnActivities
    from crossdock.models.approval import ApprovalRequest, Price
    from crossdock.models.return_states import ReturnState
    from crossdock.models.return_status import ReturnStatus
    from crossdock.models.returns import ReturnTimers, StartReplacementInput
    from crossdock.money import Money
    from workflows.refusals import refusal_of
    from workflows.return_context import ReturnContext
    from workflows.return_decision import finance_threshold
    from workflows.return_questions import REFUSALS_ASK, RETRY, ask, question, words

REFUND_INSTEAD = "refund_instead"


async def replace(ctx: ReturnContext) -> bool:
    """Start the replacement; False when a person chose to refund instead (the caller
    refunds the approved amount)."""
    request = ctx.request
    attempt = 1
    while True:
        try:
            started = await ctx.call(
                ReturnActivities.start_replacement,
                StartReplacementInput(
                    order_id=request.order_id, rma=request.rma, lines=request.lines
                ),
            )
        except ActivityError as err:
            refusal = refusal_of(err)
            if refusal is None or not workflow.patched(REFUSALS_ASK):
                raise
            what = f"replacement not started: {words(refusal)}"
            answer, decision = await ask(
                ctx, replacement_request(ctx.status, ctx.timers, what, attempt), what
            )
            if answer == RETRY:
                attempt += 1
                continue
            if answer == REFUND_INSTEAD:
                return False
            who = decision.by if decision else "an operator"
            ctx.status.reason = f"no replacement ({what}); closed by {who}"
            ctx.move(ReturnState.CLOSED, ctx.status.reason)
            return True
        ctx.status.replacement_order = started.workflow_id
        ctx.move(ReturnState.REPLACED, f"replacement order {started.workflow_id}")
        return True


def replacement_request(
    status: ReturnStatus, timers: ReturnTimers, what: str, attempt: int
) -> ApprovalRequest:
    """Retrying sends the goods already priced when the replacement was approved;
    refunding instead gives the approved refund away."""
    approved = status.approved_amount
    assert approved is not None  # a replacement is started only once approved
    return question(
        f"replacement-refused-{attempt}",
        what,
        (RETRY, REFUND_INSTEAD),
        timers,
        threshold=finance_threshold(status, approved),
        prices=(
            Price(option=RETRY, gives_away=Money.zero(approved.currency)),
            Price(option=REFUND_INSTEAD, gives_away=approved),
        ),
        can_close=True,
        meanings={REFUND_INSTEAD: f"{REFUND_INSTEAD} refunds up to {approved} instead"},
    )
