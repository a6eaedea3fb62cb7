"""A partner's refusal the order cannot settle itself becomes a question to a person.

The question is an approval (`workflows/approval.py`), so it is in the console's inbox
(AwaitingApproval, the case still Running) with the partner's words in its subject,
and it is answered through the order's signed `decide` update like any approval. It
never expires: at its expiry it is asked again, because a refund or a shipment must not
be decided by a timer. While a question about money is open the order may not be
cancelled or held around it (see `OrderWorkflow._check_cancel`).

Answers: an offered option (`retry`, `refunded_by_hand`, ...) with approve, or reject,
which closes the step without it (no refund made, the lines not shipped). The options
that record work done outside the workflow require a reason (what was done, where).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Generic, TypeVar

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from crossdock.models.approval import (
        ApprovalRequest,
        Decision,
        DecisionAction,
        Principal,
        Role,
    )
    from crossdock.models.refusals import PartnerQuestion, Refusal, RefusalKind
    from workflows.options import P, R
    from workflows.order_context import OrderContext, OrderRejected

RETRY = "retry"
# The step was done outside the workflow (a refund made in the provider's dashboard, a
# confirmation typed into the marketplace's seller page, lines shipped by hand).
DONE_BY_HAND = "done_by_hand"
REFUNDED_BY_HAND = "refunded_by_hand"
# The buyer got the money back some other way (bank transfer, voucher).
REFUNDED_ANOTHER_WAY = "refunded_another_way"
# The payment was collected outside the provider's capture (a new charge, a payment link).
CAPTURED_BY_HAND = "captured_by_hand"
# Go on without it (a reshipment the channel will not confirm again).
GO_ON = "go_on"
# Reject: close the step without what was refused.
CLOSE = "close"
REASON_NEEDED = frozenset({DONE_BY_HAND, REFUNDED_BY_HAND, REFUNDED_ANOTHER_WAY, CAPTURED_BY_HAND})

MONEY_ROLES = frozenset({Role.FINANCE, Role.ADMIN})
SHIPPING_ROLES = frozenset({Role.OPERATOR, Role.ADMIN})


@dataclass(frozen=True)
class Answer:
    """What a person answered: an offered option, or CLOSE (rejected)."""

    option: str
    reason: str
    by: Principal | None

    def describe(self) -> str:
        who = f" by {self.by.id}" if self.by else ""
        return f"{self.option}{who}: {self.reason}".rstrip(": ")


T = TypeVar("T")


@dataclass(frozen=True)
class Settled(Generic[T]):
    """A step that ended: the partner's confirmation, or a person's answer instead."""

    result: T | None = None
    answer: Answer | None = None


def key_for(step: str, ctx: OrderContext) -> str:
    """A fresh approval key for `step` ("package-2/refund" → "refused-package-2.refund-3")."""
    slug = "".join(c if c.isalnum() or c in "-_." else "." for c in step.lower())
    return f"refused-{slug}-{len(ctx.status.approvals) + 1}"


async def ask(
    ctx: OrderContext,
    question: PartnerQuestion,
    subject: str,
    options: tuple[str, ...],
    *,
    can_close: bool = True,
) -> Answer:
    """Put `question` to a person and wait, however long, for the answer."""
    ctx.status.question = question
    ctx.note("partner_refused", f"{question.what}: {question.refusal}")
    policy = ctx.policy
    actions = {DecisionAction.APPROVE, DecisionAction.REQUEST_INFO}
    if can_close:
        actions.add(DecisionAction.REJECT)
    while True:
        key = key_for(question.step, ctx)
        question.approval_key = key
        ctx.approval.open(
            ApprovalRequest(
                key=key,
                subject=subject,
                allowed_roles=MONEY_ROLES if question.money else SHIPPING_ROLES,
                actions=frozenset(actions),
                options=options,
                remind_after=timedelta(seconds=policy.exception_remind_seconds),
                escalate_after=timedelta(seconds=policy.exception_escalate_seconds),
                expire_after=timedelta(seconds=policy.exception_expire_seconds),
            )
        )
        # After open(): the approval's own flag sync would clear it otherwise.
        ctx.attention(True, f"{question.what} refused: {question.refusal}")
        outcome = await ctx.approval.wait()
        if outcome.expired:
            ctx.note("question_unanswered", f"{key}: asked again")
            continue
        decision = outcome.decision
        ctx.status.question = None
        if ctx.status.needs_attention:
            ctx.attention(False, f"{key} answered")
        if decision is None:  # withdrawn
            return Answer(option=CLOSE, reason=outcome.reason, by=None)
        option = decision.option if outcome.approved else CLOSE
        return Answer(option=option, reason=decision.reason, by=decision.by)


def check_answer(question: PartnerQuestion | None, decision: Decision) -> None:
    """Refuse, in the update validator, an answer that records work done elsewhere
    without saying what was done."""
    if question is None or decision.key != question.approval_key:
        return
    needs_reason = decision.option in REASON_NEEDED or decision.action is DecisionAction.REJECT
    if needs_reason and not decision.reason.strip():
        raise ValueError(
            f"a reason is required to answer {decision.key!r} with "
            f"{decision.option or decision.action}: say what was done and where "
            "(a refund id, a transfer, the seller page)"
        )


def subject_for(question: PartnerQuestion, choices: str) -> str:
    return f"{question.what} refused by the partner: {question.refusal}. {choices}"


async def until_settled(
    ctx: OrderContext,
    activity: Callable[[Any, P], Awaitable[R]],
    arg: Callable[[str], P],
    *,
    step: str,
    what: str,
    options: tuple[str, ...],
    choices: str,
    money: bool = False,
    can_close: bool = True,
    settles_itself: frozenset[RefusalKind] = frozenset(),
) -> Settled[R]:
    """Call `activity` (its input built by `arg` from an idempotency key) until the
    partner confirms, or a person answers its refusal with something other than retry.

    A retry uses a new key: the partner stored its refusal under the old one and would
    answer the same again. A refusal whose kind is in `settles_itself` is returned at
    once (as a CLOSE answer with the partner's words) for the caller to settle.
    """
    attempt = 0
    while True:
        key = ctx.key(step if attempt == 0 else f"{step}/retry-{attempt}")
        try:
            return Settled(result=await ctx.call(activity, arg(key)))
        except OrderRejected as rejected:
            refusal = rejected.refusal or Refusal(kind=RefusalKind.REFUSED, message=str(rejected))
        if refusal.kind in settles_itself:
            return Settled(answer=Answer(option=CLOSE, reason=str(refusal), by=None))
        question = PartnerQuestion(step=step, what=what, refusal=refusal, money=money)
        answer = await ask(
            ctx, question, subject_for(question, choices), options, can_close=can_close
        )
        if answer.option != RETRY:
            return Settled(answer=answer)
        attempt += 1
        ctx.note("retried", f"{what}: {answer.describe()}")
