"""OrderWorkflow: one order from receipt to the end of its return window (docs/lifecycles.md).

The workflow is the order lifecycle table plus the waiting; the steps live in their own
modules: order_review (checks and the operator's review), order_payment, order_stock and
order_backorder (warehouse), order_customs, order_packing and order_packages (parcels),
order_shipping, order_tracking (carrier events), order_parcel (tracking and exceptions),
order_refund, order_ledger (the refund ledger of linked returns and disputes),
order_channel (telling the marketplace), order_checks (who may cancel, hold or resume
it, and when); order_context holds the run's state and order_status what the `status`
query answers. Every partner call is an activity with
an idempotency key derived from the workflow id and the step, so retries, worker crashes
and replays can never charge, declare, label or confirm twice. Any business failure
before shipment cancels the order and compensates what was done, newest first.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from crossdock.models import order_ledger
    from crossdock.models.approval import Decision, DecisionReceipt
    from crossdock.models.channel_cancel import SellerCancelReason
    from crossdock.models.order_cases import CaseLink, RefundGrant, RefundOutcome, RefundRequest
    from crossdock.models.order_states import OrderState
    from crossdock.models.order_status import OrderStatus
    from crossdock.models.order_steps import (
        AddressCorrection,
        CancelReceipt,
        CancelRequest,
        CorrectionReceipt,
        HoldReceipt,
        HoldRequest,
        OrderInput,
        OrderResult,
        ResumeRequest,
        TrackingUpdate,
    )
    from crossdock.models.refusals import PartnerQuestion, Refusal, RefusalKind
    from workflows import (
        order_address,
        order_checks,
        order_messages,
        order_packages,
        order_questions,
        order_stock,
        order_tracking,
    )
    from workflows.order_backorder import ship_backorder
    from workflows.order_channel import TELL_CHANNEL, tell_channel
    from workflows.order_context import WORKFLOW_CANCEL, OrderContext, OrderRejected
    from workflows.order_customs import declare
    from workflows.order_packing import plan_packages
    from workflows.order_parcel import deliver_or_resolve
    from workflows.order_payment import capture_payment, secure_payment
    from workflows.order_review import validate
    from workflows.order_shipping import (
        buy_label,
        confirm_shipment,
        follow_tracking,
        watch_ship_by,
    )
    from workflows.projection import READ_MODEL, Projector, order_projector, projected

# Changes to the released workflow, each behind a patch so recorded histories replay.
SHIP_BY_WATCH = "ship-by-watch"
DELIVERY_WATCH = "delivery-watch"
SCREENING = "screening"
CARRIER_EXCEPTIONS = "carrier-exceptions"
# A partner's refusal after shipment that no step settled becomes a question (it used to
# escape the run and fail the workflow task, again and again).
REFUSAL_AFTER_SHIPMENT = "refusal-after-shipment"
# An undo a partner refused asks a person before the cancelled order closes (it used to
# leave a NeedsAttention flag on a closed workflow that nothing could answer).
UNDO_REFUSAL_ASKS = "undo-refusal-asks"


@workflow.defn
class OrderWorkflow:
    @workflow.init
    def __init__(self, input: OrderInput) -> None:
        self._ctx = OrderContext(input)
        self._watchers: list[asyncio.Task[None]] = []
        self._projector: Projector | None = None

    @workflow.run
    async def run(self, input: OrderInput) -> OrderResult:
        ctx = self._ctx
        if workflow.patched(READ_MODEL):
            self._projector = order_projector(ctx.order, lambda: ctx.status)
        return await projected(self._projector, self._run(input))

    def _answered(self) -> None:
        # The operator's answer first, the read model's row in the next task.
        if self._projector is not None:
            self._projector.answered()

    async def _run(self, input: OrderInput) -> OrderResult:
        ctx = self._ctx
        ctx.note("received", f"{ctx.order.channel} order, {len(ctx.order.items)} line(s)")
        if workflow.patched(SHIP_BY_WATCH):
            self._watchers.append(asyncio.create_task(watch_ship_by(ctx)))
        try:
            await self._until_shipped()
        except OrderRejected as rejection:
            result = await self._cancel(str(rejection), rejection.tell_channel)
            if ctx.workflow_cancelled:
                raise asyncio.CancelledError(result.reason) from rejection
            return result
        except asyncio.CancelledError:
            if not workflow.patched(WORKFLOW_CANCEL):
                raise
            # Cancelled while waiting (a review, a customs hold): undo, then end Canceled.
            ctx.cancelled_by_temporal()
            assert ctx.cancel_request is not None
            await self._cancel(
                f"cancelled: {ctx.cancel_request.reason}", SellerCancelReason.CANNOT_FULFIL
            )
            raise
        finally:
            for watcher in self._watchers:
                watcher.cancel()
        # The goods are on their way: nothing before this point may be undone any more.
        ctx.saga.clear()
        await order_messages.shipped(ctx)
        try:
            return await self._after_shipment(input)
        except OrderRejected as refusal:
            if not workflow.patched(REFUSAL_AFTER_SHIPMENT):
                raise
            return await self._stopped_after_shipment(refusal)
        except asyncio.CancelledError:
            if workflow.patched(WORKFLOW_CANCEL):
                ctx.note("workflow_cancelled", "after shipment: stopped following the order")
            raise

    async def _after_shipment(self, input: OrderInput) -> OrderResult:
        ctx = self._ctx
        if ctx.status.stock is not None:
            await order_stock.fulfil(ctx, self._lines_sent(), package=1)
        if ctx.status.authorization is not None:  # storefront orders, not replacements
            await capture_payment(ctx)
        if ctx.status.stock is not None:
            await ship_backorder(ctx)
        if workflow.patched(CARRIER_EXCEPTIONS):
            if not await deliver_or_resolve(ctx):
                return self._result()
            await order_messages.delivered(ctx)
        else:
            await follow_tracking(ctx, watch_delivery=workflow.patched(DELIVERY_WATCH))
        await workflow.sleep(timedelta(seconds=input.policy.return_window_seconds))
        # A return or dispute opened inside the window keeps the order (and its refund
        # ledger) open until it closes.
        await workflow.wait_condition(lambda: ctx.status.open_cases() == 0)
        ctx.move(OrderState.COMPLETED, "return window ended")
        return self._result()

    async def _stopped_after_shipment(self, rejected: OrderRejected) -> OrderResult:
        """A refusal no step could settle: a person finishes the order by hand, then it
        closes (the goods are out; nothing can be undone, nothing is retried blindly)."""
        ctx = self._ctx
        refusal = rejected.refusal or Refusal(kind=RefusalKind.REFUSED, message=str(rejected))
        question = PartnerQuestion(step="after-shipment", what="the order", refusal=refusal)
        subject = order_questions.subject_for(
            question, "Finish the order by hand, then record what was done; it closes."
        )
        answer = await order_questions.ask(
            ctx, question, subject, (order_questions.DONE_BY_HAND,), can_close=False
        )
        ctx.status.reason = f"{refusal}; {answer.describe()}"
        ctx.move(OrderState.CLOSED, ctx.status.reason)
        return self._result()

    def _lines_sent(self) -> list[int]:
        parcels = self._ctx.status.parcels
        if not parcels:
            return list(range(len(self._ctx.order.items)))
        return sorted({line.line_index for p in parcels for line in p.package.lines})

    def _result(self) -> OrderResult:
        status = self._ctx.status
        return OrderResult(
            state=status.state,
            reason=status.reason,
            captured=status.captured,
            refunded=status.refunded,
        )

    async def _until_shipped(self) -> None:
        ctx = self._ctx
        await validate(ctx, screening=workflow.patched(SCREENING))
        await ctx.checkpoint()
        await secure_payment(ctx)
        await order_messages.confirmed(ctx)
        if workflow.patched(order_stock.STOCK):
            await ctx.checkpoint()
            await order_stock.reserve_stock(ctx)
        await ctx.checkpoint()
        await declare(ctx)
        await ctx.checkpoint()
        in_stock = order_stock.ready(ctx.status.stock, set()) if ctx.status.stock else None
        packages = plan_packages(ctx.order, ctx.policy.max_parcel_grams, line_indexes=in_stock)
        partial = bool(order_stock.waiting(ctx.status.stock))
        if (len(packages) > 1 or partial) and workflow.patched(order_packages.MULTI_PACKAGE):
            await order_packages.buy_labels(ctx, packages)
            await ctx.checkpoint()
            await order_packages.confirm_packages(ctx)
            return
        await buy_label(ctx)
        await ctx.checkpoint()
        await confirm_shipment(ctx)

    async def _cancel(self, reason: str, tell: SellerCancelReason | None) -> OrderResult:
        ctx = self._ctx
        ctx.status.reason = reason
        current = ctx.approval.current
        if current is not None and current.pending:
            ctx.approval.withdraw(reason)
        undone, refused = await ctx.saga.compensate()  # each undo is shielded
        if tell is not None and not ctx.status.replacement_of and workflow.patched(TELL_CHANNEL):
            if await tell_channel(ctx, tell) is None:
                refused.append(f"telling {ctx.order.channel} the order is cancelled")
        ctx.move(OrderState.CANCELLED, f"{reason}; undone: {', '.join(undone) or 'nothing'}")
        if not ctx.workflow_cancelled:
            await order_messages.cancelled(ctx, tell)
        if refused and not ctx.workflow_cancelled and workflow.patched(UNDO_REFUSAL_ASKS):
            await self._finish_undo_by_hand(refused)
        elif refused:
            # Something stays booked at a partner: a person must finish the undo.
            ctx.attention(True, f"undo refused, finish by hand: {'; '.join(refused)}")
        elif ctx.status.needs_attention:
            ctx.attention(False, "cancelled")
        return OrderResult(state=ctx.status.state, reason=reason)

    async def _finish_undo_by_hand(self, refused: list[str]) -> None:
        """Something stays booked at a partner (an authorization, a declaration, a label):
        the case stays open in the inbox until a person has undone it by hand."""
        ctx = self._ctx
        question = PartnerQuestion(
            step="undo",
            what="undoing the cancelled order",
            refusal=Refusal(kind=RefusalKind.REFUSED, message="; ".join(refused)[:2000]),
            money=any(name.startswith("void_authorization") for name in refused),
        )
        subject = order_questions.subject_for(
            question, "Undo each by hand at the partner, then record what was done."
        )
        answer = await order_questions.ask(
            ctx, question, subject, (order_questions.DONE_BY_HAND,), can_close=False
        )
        ctx.note("undone_by_hand", answer.describe())

    @workflow.update
    def cancel(self, request: CancelRequest) -> CancelReceipt:
        """Cancel before shipment; side effects are compensated after the current step."""
        self._answered()
        ctx = self._ctx
        ctx.cancel_request = request
        ctx.note("cancel_requested", f"{request.by.id} ({request.by.role}): {request.reason}")
        current = ctx.approval.current
        if current is not None and current.pending:
            ctx.approval.withdraw(f"order cancelled by {request.by.id}")
        return CancelReceipt(
            accepted_in_state=ctx.status.state,
            note="cancelling: what was booked is undone once the current step finishes",
        )

    @cancel.validator
    def _check_cancel(self, request: CancelRequest) -> None:
        order_checks.check_cancel(self._ctx, request)

    @workflow.update
    def hold(self, request: HoldRequest) -> HoldReceipt:
        """Stop the order before its next step until an operator resumes it."""
        self._answered()
        self._ctx.status.hold = request
        self._ctx.note("held", f"by {request.by.id}: {request.reason}")
        return HoldReceipt(held=True, note="held: the order stops before its next step")

    @hold.validator
    def _check_hold(self, request: HoldRequest) -> None:
        order_checks.check_hold(self._ctx, request)

    @workflow.update
    def resume(self, request: ResumeRequest) -> HoldReceipt:
        """Let a held order go on from where it stopped."""
        self._answered()
        self._ctx.status.hold = None
        self._ctx.note("resumed", f"by {request.by.id}: {request.reason}".rstrip(": "))
        return HoldReceipt(held=False, note="resumed")

    @resume.validator
    def _check_resume(self, request: ResumeRequest) -> None:
        order_checks.check_role(request.by, "resume")
        if self._ctx.status.hold is None:
            raise ValueError("order is not held")

    @workflow.update
    def decide(self, decision: Decision) -> DecisionReceipt:
        """An operator's decision on the open approval (the review gate)."""
        self._answered()
        return self._ctx.approval.accept(decision)

    @decide.validator
    def _check_decision(self, decision: Decision) -> None:
        self._ctx.approval.validate(decision)
        order_questions.check_answer(self._ctx.status.question, decision)

    @workflow.update
    def correct_address(self, correction: AddressCorrection) -> CorrectionReceipt:
        """An operator's corrected address: for the label, before it is bought (storefront),
        or for an undeliverable parcel's reshipment (workflows/order_address.py)."""
        self._answered()
        self._ctx.status.corrected_address = correction.address
        self._ctx.note("address_corrected", f"by {correction.by.id}")
        return CorrectionReceipt(note="the next label goes to the corrected address")

    @correct_address.validator
    def _check_correction(self, correction: AddressCorrection) -> None:
        if correction.by.role not in order_checks.CANCEL_ROLES:
            raise ValueError(f"role {correction.by.role} may not correct addresses")
        why = order_address.refusal(self._ctx, correction)
        if why is not None:
            raise ValueError(why)

    @workflow.signal
    def tracking_update(self, update: TrackingUpdate) -> None:
        """A carrier event; duplicates, stale (out-of-order) events and events about an
        earlier parcel of this order change nothing; one about a parcel whose label is
        not recorded yet is kept until it is (workflows/order_tracking.py)."""
        order_tracking.receive(self._ctx, update)

    @workflow.signal
    def link_case(self, link: CaseLink) -> None:
        """A return or dispute about this order opened (or closed: sent again)."""
        cases = self._ctx.status.cases
        known = next(
            (i for i, case in enumerate(cases) if case.workflow_id == link.workflow_id), None
        )
        if known is None:
            cases.append(link)
        elif cases[known] == link:
            return  # a duplicate delivery
        else:
            cases[known] = link
        verb = "opened" if link.open else "closed"
        self._ctx.note(f"{link.kind}_{verb}", f"{link.workflow_id}: {link.summary}".rstrip(": "))

    @workflow.update
    def reserve_refund(self, request: RefundRequest) -> RefundGrant:
        """Set a refund aside for a return or dispute; never more than is left."""
        ctx = self._ctx
        is_new = order_ledger.find(ctx.status, request.reservation_id) is None
        reservation = order_ledger.reserve(ctx.status, request)
        if is_new:
            ctx.note("refund_reserved", f"{reservation.amount} for {request.reservation_id}")
        return RefundGrant(
            reservation_id=reservation.reservation_id,
            granted=reservation.amount,
            remaining=order_ledger.remaining(ctx.status, ctx.order),
        )

    @reserve_refund.validator
    def _check_refund(self, request: RefundRequest) -> None:
        why = order_ledger.refusal(self._ctx.status, self._ctx.order, request)
        if why is not None:
            raise ValueError(why)

    @workflow.signal
    def settle_refund(self, outcome: RefundOutcome) -> None:
        """A reserved refund succeeded (now refunded) or failed (the amount is free)."""
        reservation = order_ledger.settle(self._ctx.status, outcome)
        if reservation is not None:
            self._ctx.note(
                f"refund_{reservation.state}",
                f"{reservation.amount} for {reservation.reservation_id} {outcome.detail}".rstrip(),
            )

    @workflow.query
    def status(self) -> OrderStatus:
        """Live state, amounts, partner references and timeline."""
        return self._ctx.status
