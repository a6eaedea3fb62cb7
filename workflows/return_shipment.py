"""The goods coming back: a return label from the carrier, tracking as signals, the
buyer-did-not-ship deadline, and the warehouse's inspection."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import timedelta
from enum import StrEnum

from temporalio import workflow
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from activities.carrier import CarrierActivities
    from activities.returns import ReturnActivities
    from crossdock.models.approval import ApprovalOutcome, ApprovalRequest, Price, Role
    from crossdock.models.notify import NotificationTemplate
    from crossdock.models.order_steps import ShippingLabel, VoidLabelInput
    from crossdock.models.return_states import ReturnState
    from crossdock.models.return_status import ReturnStatus
    from crossdock.models.returns import ReturnLabelInput, ReturnTimers
    from crossdock.money import Money
    from crossdock.policies.returns import inspected_refund
    from workflows.options import condition_within
    from workflows.refusals import refusal_of
    from workflows.return_context import ReturnContext
    from workflows.return_decision import finance_threshold
    from workflows.return_notify import notify, notify_new
    from workflows.return_questions import REFUSALS_ASK, RETRY, ask, question, words

# A carrier status that means the buyer handed the parcel over.
SHIPPED = frozenset({"in_transit", "out_for_delivery", "delivered"})
INSPECTORS = frozenset({Role.OPERATOR, Role.ADMIN})


class ShipBack(StrEnum):
    RECEIVED = "received"
    NOT_SHIPPED = "not_shipped"
    # The parcel went missing on its way back and an operator decided without it.
    REFUND_WITHOUT_PARCEL = "refund_without_parcel"
    CLOSED_WITHOUT_PARCEL = "closed_without_parcel"


REFUND_ANYWAY = "refund_without_parcel"
# An undecided missing-parcel question is asked again (recorded histories kept waiting).
MISSING_PARCEL_REASKED = "missing-parcel-reasked"


async def ship_back(ctx: ReturnContext) -> ShipBack:
    """Issue the label and wait for the parcel (or for a person, if it goes missing)."""
    label = await buy_label(ctx)
    if isinstance(label, ShipBack):
        return label
    ctx.status.label = label
    ctx.move(ReturnState.LABEL_ISSUED, f"{label.carrier} {label.tracking_code} ({label.cost})")
    ship_by = workflow.now() + timedelta(seconds=ctx.timers.ship_back_seconds)
    verdict = ctx.status.eligibility
    await notify(
        ctx,
        NotificationTemplate.RETURN_LABEL,
        "label",
        label_url=label.label_url,
        carrier=label.carrier,
        tracking_code=label.tracking_code,
        dates={"ship_by": ship_by.date()},
        terms={"paid_by": f"paid_by.{verdict.return_shipping_paid_by if verdict else 'seller'}"},
    )
    if not await condition_within(
        lambda: ctx.status.tracking_status in SHIPPED, ctx.timers.ship_back_seconds
    ):
        await void_label(ctx)
        ctx.move(ReturnState.NOT_SHIPPED, f"no carrier scan by {ship_by.isoformat()}")
        return ShipBack.NOT_SHIPPED
    if ctx.status.tracking_status != "delivered":
        ctx.move(ReturnState.IN_TRANSIT, ctx.status.tracking_status)
        decided = await until_delivered(ctx)
        if decided is not None:
            return decided
    ctx.move(ReturnState.RECEIVED, "delivered to the warehouse")
    await notify_new(ctx, NotificationTemplate.RETURN_RECEIVED, "received")
    return ShipBack.RECEIVED


async def buy_label(ctx: ReturnContext) -> ShippingLabel | ShipBack:
    """The return label; when the carrier refuses it, a person retries, refunds without
    the goods, or closes the return."""
    attempt = 1
    while True:
        step = "return-label" if attempt == 1 else f"return-label-{attempt}"
        try:
            return await ctx.call(
                ReturnActivities.buy_return_label,
                ReturnLabelInput(
                    reference=ctx.workflow_id,
                    order=ctx.order_snapshot.order,
                    lines=ctx.request.lines,
                    warehouse=ctx.warehouse,
                    idempotency_key=ctx.key(step),
                ),
            )
        except ActivityError as err:
            refusal = refusal_of(err)
            if refusal is None or not workflow.patched(REFUSALS_ASK):
                raise
        what = f"return label refused: {words(refusal)}"
        request = label_request(ctx.status, ctx.timers, what, attempt)
        answer, decision = await ask(ctx, request, what)
        if answer == RETRY:
            attempt += 1
            continue
        if answer == REFUND_ANYWAY:
            return ShipBack.REFUND_WITHOUT_PARCEL
        who = decision.by if decision else "an operator"
        ctx.status.reason = f"no return label ({what}); closed by {who}"
        ctx.move(ReturnState.CLOSED, ctx.status.reason)
        return ShipBack.CLOSED_WITHOUT_PARCEL


def label_request(
    status: ReturnStatus, timers: ReturnTimers, what: str, attempt: int
) -> ApprovalRequest:
    """Retry buys a new label (nothing given away); refunding without the goods gives
    the approved amount away."""
    approved = status.approved_amount
    assert approved is not None  # a label is bought only for an approved return
    return question(
        f"return-label-refused-{attempt}",
        what,
        (RETRY, REFUND_ANYWAY),
        timers,
        threshold=finance_threshold(status, approved),
        prices=(
            Price(option=RETRY, gives_away=Money.zero(approved.currency)),
            Price(option=REFUND_ANYWAY, gives_away=approved),
        ),
        can_close=True,
        meanings={REFUND_ANYWAY: f"{REFUND_ANYWAY} refunds up to {approved} without the goods"},
    )


async def void_label(ctx: ReturnContext) -> None:
    """An unused return label is refunded by the carrier; a refusal is only noted."""
    label = ctx.status.label
    if label is None:
        return
    try:
        await ctx.call(
            CarrierActivities.void_label,
            VoidLabelInput(shipment_id=label.shipment_id, idempotency_key=ctx.key("void-label")),
        )
        ctx.note("label_voided", label.shipment_id)
    except ActivityError as err:
        ctx.note("label_void_refused", str(err.cause or err))


async def until_delivered(ctx: ReturnContext) -> ShipBack | None:
    """Wait for the delivery scan; None once it came. A parcel without one for
    `transit_attention_seconds` is put to an operator (refund without it, or close),
    while the scan may still come: then the question is withdrawn. A question that
    expires undecided is asked again: closing the approval clears the case's flags, and
    a case waiting on a scan that may never come must stay in the inbox."""

    def delivered() -> bool:
        return ctx.status.tracking_status == "delivered"

    if await condition_within(delivered, ctx.timers.transit_attention_seconds):
        return None
    ctx.attention(True, "return parcel has no delivery scan: ask the carrier")
    asked = 1
    while True:
        outcome = await missing_parcel_answer(ctx, asked, delivered)
        if delivered():
            ctx.attention(False, "return parcel delivered")
            return None
        if not outcome.expired:
            break
        if not workflow.patched(MISSING_PARCEL_REASKED):
            # Recorded before the question was asked again: keep watching, unflagged.
            await workflow.wait_condition(delivered)
            ctx.attention(False, "return parcel delivered")
            return None
        asked += 1
    if outcome.approved:
        ctx.attention(False, "refunded without the parcel")
        return ShipBack.REFUND_WITHOUT_PARCEL
    who = outcome.decision.by if outcome.decision else "an operator"
    ctx.status.reason = f"return parcel lost; closed by {who}: {outcome.reason}"
    ctx.attention(False, "closed without the parcel")
    ctx.move(ReturnState.CLOSED, ctx.status.reason)
    return ShipBack.CLOSED_WITHOUT_PARCEL


async def missing_parcel_answer(
    ctx: ReturnContext, asked: int, delivered: Callable[[], bool]
) -> ApprovalOutcome:
    """Ask for the `asked`-th time; withdrawn if the delivery scan comes first."""
    ctx.approval.open(missing_parcel_request(ctx.status, ctx.timers, asked))
    decision = asyncio.create_task(ctx.approval.wait())
    await workflow.wait_condition(lambda: delivered() or decision.done())
    if not decision.done():
        ctx.approval.withdraw("the return parcel was delivered after all")
    return await decision


def missing_parcel_request(
    status: ReturnStatus, timers: ReturnTimers, asked: int = 1
) -> ApprovalRequest:
    """Refund without the goods, or close: refunding is a returnless refund of what was
    approved, priced as one (the typed amount is refused: the whole approval is paid)."""
    label = status.label
    tracking = f"{label.carrier} {label.tracking_code}" if label else "the return parcel"
    approved = status.approved_amount
    assert approved is not None  # a label is bought only for an approved return
    return ApprovalRequest(
        key="missing-parcel" if asked == 1 else f"missing-parcel-{asked}",
        subject=(
            f"{tracking} has no delivery scan ({status.tracking_status}): approve "
            f"refunds up to {approved} without the goods, reject closes "
            "the return without a refund"
        ),
        allowed_roles=INSPECTORS | {Role.FINANCE},
        options=(REFUND_ANYWAY,),
        remind_after=timedelta(seconds=timers.decision_remind_seconds),
        escalate_after=timedelta(seconds=timers.decision_escalate_seconds),
        expire_after=timedelta(seconds=timers.decision_expire_seconds),
        finance_threshold=finance_threshold(status, approved),
        prices=(Price(option=REFUND_ANYWAY, gives_away=approved),),
    )


async def inspect(ctx: ReturnContext) -> Money:
    """Wait for the warehouse's `inspect` update; what the inspection supports refunding,
    capped at what was approved. Wrong items go to an operator first."""
    if not await condition_within(
        lambda: ctx.status.inspection is not None, ctx.timers.inspection_remind_seconds
    ):
        ctx.attention(True, "received but not inspected yet")
        await workflow.wait_condition(lambda: ctx.status.inspection is not None)
        ctx.attention(False, "inspected")
    inspection = ctx.status.inspection
    assert inspection is not None
    snapshot = ctx.order_snapshot
    found = inspected_refund(snapshot.order, ctx.request, inspection.lines, snapshot.paid)
    ctx.status.written_off = found.written_off
    amount = found.amount
    approved = ctx.status.approved_amount
    if approved is not None and approved.amount < amount.amount:
        amount = approved
    detail = f"by {inspection.by}: refund {amount}"
    if found.written_off:
        detail += f"; written off: {', '.join(found.written_off)}"
    ctx.move(ReturnState.INSPECTED, detail)
    if found.escalated and not await wrong_item_approved(ctx, found.escalated, amount):
        return Money.zero(amount.currency)
    return amount


async def wrong_item_approved(ctx: ReturnContext, skus: list[str], amount: Money) -> bool:
    """Not what we sent: an operator decides whether the rest is refunded."""
    outcome = await ctx.approval.ask(wrong_item_request(ctx.status, ctx.timers, skus, amount))
    return outcome.approved


def wrong_item_request(
    status: ReturnStatus, timers: ReturnTimers, skus: list[str], amount: Money
) -> ApprovalRequest:
    return ApprovalRequest(
        key="wrong-item",
        subject=(
            f"wrong item returned for {', '.join(skus)}: approve refunds the rest as "
            f"inspected ({amount}), reject refunds nothing"
        ),
        allowed_roles=INSPECTORS | {Role.FINANCE},
        remind_after=timedelta(seconds=timers.decision_remind_seconds),
        escalate_after=timedelta(seconds=timers.decision_escalate_seconds),
        expire_after=timedelta(seconds=timers.decision_expire_seconds),
        finance_threshold=finance_threshold(status, amount),
        # Approving refunds the rest as inspected: that is what it gives away.
        prices=(Price(gives_away=amount),),
    )
