"""ReturnWorkflow: one return, `return-{channel}-{rma}`: request to refund (see docs/lifecycles.md).

The workflow is the return table (return_states.py) plus the waiting; the steps live in
return_decision, return_shipment and return_refund. It links itself to its order
(`link_case`, again with open=False when it ends), so the order stays open and shows it,
and every refund goes through the order's ledger (`reserve_refund`, `settle_refund`), so
concurrent returns of one order never refund more than was paid.
"""

from __future__ import annotations

from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError, FailureError

with workflow.unsafe.imports_passed_through():
    from activities.returns import ReturnActivities
    from crossdock.models.approval import Decision, DecisionReceipt
    from crossdock.models.notify import NotificationTemplate
    from crossdock.models.order_cases import CaseKind, CaseLink
    from crossdock.models.order_states import BEFORE_SHIPMENT, OrderState
    from crossdock.models.order_status import TRACKING_PROGRESS
    from crossdock.models.order_steps import TrackingUpdate
    from crossdock.models.return_states import RETURN_LIFECYCLE, ReturnState
    from crossdock.models.return_status import ReturnStatus
    from crossdock.models.returns import (
        Inspection,
        InspectionReceipt,
        OfferAnswer,
        ReadOrderInput,
        ReturnInput,
        ReturnOption,
        ReturnResult,
    )
    from crossdock.policies.returns import inspected_refund, inspection_problems
    from workflows.order import OrderWorkflow
    from workflows.projection import READ_MODEL, Projector, projected, return_projector
    from workflows.return_context import ReturnContext
    from workflows.return_decision import decide, terms_refusal
    from workflows.return_notify import notify_new
    from workflows.return_questions import REFUSALS_ASK, answer_refusal
    from workflows.return_refund import refund
    from workflows.return_replacement import replace
    from workflows.return_shipment import INSPECTORS, ShipBack, inspect, ship_back
    from workflows.return_supplier import raise_supplier_rmas
    from workflows.search import MARKETPLACE


@workflow.defn
class ReturnWorkflow:
    @workflow.init
    def __init__(self, input: ReturnInput) -> None:
        self._ctx = ReturnContext(input)
        self._projector: Projector | None = None

    @workflow.run
    async def run(self, input: ReturnInput) -> ReturnResult:
        ctx = self._ctx
        if workflow.patched(READ_MODEL):
            self._projector = return_projector(lambda: ctx.status)
        return await projected(self._projector, self._run(input))

    def _answered(self) -> None:
        # The operator's answer first, the read model's row in the next task.
        if self._projector is not None:
            self._projector.answered()

    async def _run(self, input: ReturnInput) -> ReturnResult:
        ctx = self._ctx
        request = input.request
        workflow.upsert_search_attributes([MARKETPLACE.value_set(request.channel.value)])
        lines = ", ".join(f"{line.quantity}x {line.sku}" for line in request.lines)
        ctx.note("requested", f"{request.source}: {request.reason}, {lines}")
        why_not = await self._open_case()
        if why_not:
            ctx.status.reason = why_not
            ctx.move(ReturnState.DECLINED, why_not)
            return self._result()
        try:
            if await decide(ctx):
                await self._carry_out()
        finally:
            if ctx.status.linked and RETURN_LIFECYCLE.terminal(ctx.status.state):
                await self._unlink()
        return self._result()

    async def _carry_out(self) -> None:
        ctx = self._ctx
        amount = ctx.status.approved_amount
        assert amount is not None and ctx.status.option is not None
        option = ctx.status.option
        if option is ReturnOption.REPLACEMENT:
            if not await replace(ctx):
                await refund(ctx, amount, f"return {ctx.request.rma}: refunded, not replaced")
            return
        if option is not ReturnOption.RETURN_LABEL:
            if option is ReturnOption.RETURNLESS:
                await notify_new(
                    ctx, NotificationTemplate.RETURN_RETURNLESS, "returnless", amount=amount
                )
            await refund(ctx, amount, f"{option} for return {ctx.request.rma}")
            return
        shipped = await ship_back(ctx)
        if shipped is ShipBack.REFUND_WITHOUT_PARCEL:
            without = (
                "no return label" if ctx.status.label is None else "parcel lost on its way back"
            )
            await refund(ctx, amount, f"return {ctx.request.rma}: {without}")
            return
        if shipped is not ShipBack.RECEIVED:
            return
        amount = await inspect(ctx)
        await raise_supplier_rmas(ctx)
        if amount.amount <= 0:
            ctx.move(ReturnState.CLOSED, "nothing to refund after inspection")
            return
        await refund(ctx, amount, f"return {ctx.request.rma} inspected")

    async def _open_case(self) -> str:
        """Read the order and link to it; why the return cannot go on, or ""."""
        ctx = self._ctx
        try:
            ctx.snapshot = await ctx.call(
                ReturnActivities.read_order, ReadOrderInput(order_id=ctx.request.order_id)
            )
        except ActivityError as err:
            cause = err.cause
            if isinstance(cause, ApplicationError) and cause.non_retryable:
                return cause.message
            raise
        state = ctx.snapshot.state
        if state in BEFORE_SHIPMENT or state == OrderState.CANCELLED:
            return f"order {ctx.request.order_id} is {state}: nothing shipped (cancel it instead)"
        try:
            await self._link(open=True)
        except ApplicationError as err:
            # The order workflow has closed (its return window ended): nothing to link to.
            return f"order {ctx.request.order_id} is closed: {err.message}"
        ctx.status.linked = True
        return ""

    async def _unlink(self) -> None:
        """Close the link on the order; an order that takes no more signals is noted."""
        try:
            await self._link(open=False)
        except FailureError as err:
            if not workflow.patched(REFUSALS_ASK):
                raise
            self._ctx.note("order_not_told", f"{self._ctx.request.order_id}: {err.message}")

    async def _link(self, *, open: bool) -> None:
        ctx = self._ctx
        order = workflow.get_external_workflow_handle(ctx.request.order_id)
        summary = f"{ctx.request.reason}" if open else f"{ctx.status.state}"
        await order.signal(
            OrderWorkflow.link_case,
            CaseLink(kind=CaseKind.RETURN, workflow_id=ctx.workflow_id, summary=summary, open=open),
        )

    def _result(self) -> ReturnResult:
        status = self._ctx.status
        return ReturnResult(state=status.state, reason=status.reason, refunded=status.refunded)

    @workflow.update
    def decide(self, decision: Decision) -> DecisionReceipt:
        """An operator's decision on the open approval (the return, a wrong item, a
        failed refund)."""
        self._answered()
        return self._ctx.approval.accept(decision)

    @decide.validator
    def _check_decision(self, decision: Decision) -> None:
        self._ctx.approval.validate(decision)
        why = terms_refusal(decision) or answer_refusal(decision)
        if why:
            raise ValueError(why)

    @workflow.update
    def inspect(self, inspection: Inspection) -> InspectionReceipt:
        """The warehouse's verdict per returned line."""
        self._answered()
        ctx = self._ctx
        ctx.status.inspection = inspection
        verdicts = ", ".join(f"{line.sku} {line.verdict}" for line in inspection.lines)
        ctx.note("inspection_recorded", f"by {inspection.by}: {verdicts}")
        snapshot = ctx.order_snapshot
        found = inspected_refund(snapshot.order, ctx.request, inspection.lines, snapshot.paid)
        return InspectionReceipt(
            refund=found.amount, written_off=found.written_off, escalated=found.escalated
        )

    @inspect.validator
    def _check_inspection(self, inspection: Inspection) -> None:
        status = self._ctx.status
        if inspection.by.role not in INSPECTORS:
            allowed = ", ".join(sorted(INSPECTORS))
            raise ValueError(f"role {inspection.by.role} may not inspect returns ({allowed})")
        if status.state != ReturnState.RECEIVED or status.inspection is not None:
            raise ValueError(f"return is {status.state}: goods are inspected once, when received")
        problems = inspection_problems(self._ctx.request, inspection.lines)
        if problems:
            raise ValueError("; ".join(problems))

    @workflow.signal
    def answer_offer(self, answer: OfferAnswer) -> None:
        """The buyer accepts or declines the partial-refund offer (the first answer counts)."""
        status = self._ctx.status
        if status.state != ReturnState.OFFERED or status.offer_answer is not None:
            return
        status.offer_answer = answer
        verb = "accepted" if answer.accepted else "declined"
        self._ctx.note(f"offer_{verb}", answer.note)

    @workflow.signal
    def tracking_update(self, update: TrackingUpdate) -> None:
        """A carrier event about the return parcel; duplicates and stale events change
        nothing."""
        status = self._ctx.status
        label = status.label
        if update.event_id in status.tracking_events_seen:
            return
        if label is None or update.tracking_code != label.tracking_code:
            return
        status.tracking_events_seen.append(update.event_id)
        if update.status not in TRACKING_PROGRESS:
            self._ctx.note("tracking_update", f"{update.status}: {update.description}")
            return
        rank = (
            TRACKING_PROGRESS.index(status.tracking_status)
            if status.tracking_status in TRACKING_PROGRESS
            else -1
        )
        if TRACKING_PROGRESS.index(update.status) > rank:
            status.tracking_status = update.status
            self._ctx.note("tracking_update", f"{update.status}: {update.description}")

    @workflow.query
    def status(self) -> ReturnStatus:
        """Live state, decision, label, inspection, refunds and timeline."""
        return self._ctx.status
