"""Goodwill refunds from a buyer's case: a partial refund without a return, through the
same path a return's refund takes (docs/customer-service.md).

An operator offers an amount; at or over the policy's finance threshold (per currency) a
finance approver who is not that operator decides first. The refund is reserved on the
order's ledger (never more than is left across its returns and disputes), issued through
the channel (the payment provider for the storefront, eBay's issueRefund, Amazon's
payment adjustment feed), followed until the partner confirms or refuses it, and settled
on the order: the ledger counts it only when the partner confirmed it; a refused one frees
the amount; one still pending after every check stays reserved and a person finds out.
Every key comes from the case and the refund's step, so retries and worker crashes never
refund twice. Each refund runs as its own task, so the `act` update answers at once.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import timedelta

from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError, FailureError

with workflow.unsafe.imports_passed_through():
    from activities.returns import REFUSED_BY_ORDER, ReturnActivities
    from crossdock.models.approval import FINANCE_ROLES
    from crossdock.models.case import (
        CaseAction,
        CaseActionKind,
        CaseActionReceipt,
        CasePolicy,
        CaseStatus,
        GoodwillRefund,
        GoodwillState,
    )
    from crossdock.models.notify import NotifyBuyerInput
    from crossdock.models.order_cases import RefundOutcome
    from crossdock.models.returns import (
        CheckRefundInput,
        IssuedRefund,
        IssueRefundInput,
        OrderSnapshot,
        ReadOrderInput,
        RefundState,
        ReserveRefundInput,
        ReturnLine,
    )
    from workflows.buyer_messages import send
    from workflows.options import call_partner
    from workflows.refusals import refusal_of

# eBay's ReasonForRefundEnum and Amazon's AdjustmentReason for a refund for no return.
EBAY_REASON = "OTHER_ADJUSTMENT"
AMAZON_REASON = "GeneralAdjustment"
_STATES = {
    RefundState.PENDING: GoodwillState.PENDING,
    RefundState.SUCCEEDED: GoodwillState.SUCCEEDED,
    RefundState.FAILED: GoodwillState.FAILED,
    RefundState.UNCONFIRMED: GoodwillState.UNCONFIRMED,
}

Note = Callable[[str, str], None]
Flag = Callable[[str], None]
Message = Callable[[GoodwillRefund], NotifyBuyerInput | None]


class GoodwillRefunds:
    """The goodwill refunds of one case: requests, finance decisions, and the tasks that
    carry them out (awaited before the case closes)."""

    def __init__(
        self, status: CaseStatus, policy: CasePolicy, note: Note, flag: Flag, message: Message
    ) -> None:
        self._status = status
        self._policy = policy
        self._note = note
        self._flag = flag
        self._message = message
        self._tasks: list[asyncio.Task[None]] = []

    @property
    def idle(self) -> bool:
        """No refund under way, and none waiting for finance (never forgotten)."""
        waiting = any(r.state is GoodwillState.AWAITING_FINANCE for r in self._status.goodwill)
        return not waiting and all(task.done() for task in self._tasks)

    async def finished(self) -> None:
        """Wait for every refund under way (a refund that broke raises here)."""
        await asyncio.gather(*self._tasks)

    # -- the update's two halves -------------------------------------------------------

    def refusal(self, action: CaseAction) -> str | None:
        """Why `action` may not be taken now (for the validator), or None."""
        if action.kind is CaseActionKind.GOODWILL_REFUND:
            return self._refusal_to_offer(action)
        record = self._find(action.refund)
        if record is None:
            known = ", ".join(r.step for r in self._status.goodwill) or "none"
            return f"no goodwill refund {action.refund!r} on this case (known: {known})"
        if record.state is not GoodwillState.AWAITING_FINANCE:
            return f"goodwill refund {record.step} is {record.state}: nothing to decide"
        if action.by.role not in FINANCE_ROLES:
            return f"{action.by} may not decide goodwill refunds: finance or admin only"
        if action.by.id == record.requested_by.id:
            return f"{action.by.id} offered {record.step}: another person approves it"
        return None

    def take(self, action: CaseAction) -> CaseActionReceipt:
        """Offer, approve or reject a goodwill refund (checked by `refusal` first)."""
        if action.kind is CaseActionKind.GOODWILL_REFUND:
            return self._offer(action)
        record = self._find(action.refund)
        assert record is not None
        if action.kind is CaseActionKind.REJECT_REFUND:
            record.state = GoodwillState.REJECTED
            record.detail = f"rejected by {action.by.id}: {action.reason}"
            self._note("goodwill_rejected", f"{record.step} {record.amount}: {record.detail}")
            return _receipt(action, record, "rejected: no refund is made")
        record.approved_by = action.by
        self._note("goodwill_approved", f"{record.step} {record.amount} by {action.by.id}")
        self._start(record)
        return _receipt(action, record, "approved: the refund is being made")

    def _refusal_to_offer(self, action: CaseAction) -> str | None:
        facts = self._status.facts
        amount = action.amount
        assert amount is not None  # CaseAction's own check
        if facts is None or not facts.currency:
            return "the order's facts are not read yet: try again in a moment"
        if amount.currency != facts.currency:
            return f"amount {amount} is not in the order's currency {facts.currency}"
        return None

    def _offer(self, action: CaseAction) -> CaseActionReceipt:
        assert action.amount is not None
        record = GoodwillRefund(
            step=f"goodwill-{len(self._status.goodwill) + 1}",
            amount=action.amount,
            reason=action.reason,
            requested_by=action.by,
            state=GoodwillState.AWAITING_FINANCE,
        )
        self._status.goodwill.append(record)
        threshold = self._policy.finance_threshold(action.amount.currency)
        if threshold is None or action.amount.amount >= threshold.amount:
            limit = f"threshold {threshold}" if threshold else "no threshold for the currency"
            self._note("goodwill_offered", f"{record.step} {record.amount}: awaits finance")
            self._flag(f"goodwill refund {record.step} of {record.amount} awaits finance")
            return _receipt(action, record, f"awaits a finance approver ({limit})")
        self._note("goodwill_offered", f"{record.step} {record.amount} by {action.by.id}")
        self._start(record)
        return _receipt(action, record, "the refund is being made")

    def _find(self, step: str) -> GoodwillRefund | None:
        return next((r for r in self._status.goodwill if r.step == step), None)

    def _start(self, record: GoodwillRefund) -> None:
        record.state = GoodwillState.PENDING
        self._tasks.append(asyncio.create_task(self._refund(record)))

    # -- the refund --------------------------------------------------------------------

    async def _refund(self, record: GoodwillRefund) -> None:
        order_id = self._status.order_workflow_id
        try:
            snapshot = await call_partner(
                ReturnActivities.read_order, ReadOrderInput(order_id=order_id)
            )
            await call_partner(ReturnActivities.reserve_refund, self._reservation(record))
        except ActivityError as err:
            self._refused(record, err)
            return
        self._note("goodwill_reserved", f"{record.step} {record.amount} on {order_id}")
        try:
            issued = await call_partner(
                ReturnActivities.issue_refund, self._issue(record, snapshot)
            )
        except ActivityError as err:
            refusal = refusal_of(err)
            if refusal is None:
                raise
            issued = IssuedRefund(refund_id="", state=RefundState.FAILED, detail=refusal.message)
        _apply(record, issued)
        await self._follow(record, snapshot)
        await self._settle(record)

    def _reservation(self, record: GoodwillRefund) -> ReserveRefundInput:
        return ReserveRefundInput(
            order_id=self._status.order_workflow_id,
            case_id=workflow.info().workflow_id,
            step=record.step,
            amount=record.amount,
            reason=f"goodwill: {record.reason}"[:500],
        )

    def _issue(self, record: GoodwillRefund, snapshot: OrderSnapshot) -> IssueRefundInput:
        order = snapshot.order
        authorization = snapshot.authorization
        return IssueRefundInput(
            order=order,
            amount=record.amount,
            reason=EBAY_REASON,
            idempotency_key=f"{workflow.info().workflow_id}/{record.step}",
            intent_id=authorization.intent_id if authorization else None,
            # Amazon adjusts per order item: spread over every line, shipping last.
            lines=[ReturnLine(sku=item.sku, quantity=item.quantity) for item in order.items],
            adjustment_reason=AMAZON_REASON,
        )

    def _refused(self, record: GoodwillRefund, err: ActivityError) -> None:
        """The order's ledger (more than is left, the order closed) or the order's
        reading refused: nothing was reserved, nothing is refunded."""
        cause = err.cause
        by_order = isinstance(cause, ApplicationError) and cause.type == REFUSED_BY_ORDER
        if not by_order and refusal_of(err) is None:
            raise err
        record.state = GoodwillState.REFUSED
        record.detail = str(cause or err)[:500]
        self._note("goodwill_refused", f"{record.step} {record.amount}: {record.detail}")
        self._flag(f"goodwill refund {record.step} refused: {record.detail}")

    async def _follow(self, record: GoodwillRefund, snapshot: OrderSnapshot) -> None:
        checks = 0
        while record.state is GoodwillState.PENDING:
            if checks == self._policy.refund_checks:
                record.state = GoodwillState.UNCONFIRMED
                break
            await workflow.sleep(timedelta(seconds=self._policy.refund_check_seconds))
            checks += 1
            try:
                found = await call_partner(
                    ReturnActivities.check_refund,
                    CheckRefundInput(order=snapshot.order, refund_id=record.refund_id),
                )
            except ActivityError as err:
                refusal = refusal_of(err)
                if refusal is None:
                    raise
                found = IssuedRefund(
                    refund_id=record.refund_id,
                    state=RefundState.UNCONFIRMED,
                    detail=refusal.message,
                )
            _apply(record, found)

    async def _settle(self, record: GoodwillRefund) -> None:
        """Tell the order what the partner answered; an unconfirmed refund stays
        reserved (the money may have left) until a person finds out."""
        what = f"{record.step} {record.amount} {record.refund_id} {record.detail}".rstrip()
        self._note(f"goodwill_{record.state}", what)
        if record.state is GoodwillState.UNCONFIRMED:
            self._flag(f"goodwill refund {record.step} unconfirmed: ask {self._channel()}")
            return
        order = workflow.get_external_workflow_handle(self._status.order_workflow_id)
        outcome = RefundOutcome(
            reservation_id=f"{workflow.info().workflow_id}/{record.step}",
            succeeded=record.state is GoodwillState.SUCCEEDED,
            refund_id=record.refund_id,
            detail=record.detail[:500],
        )
        try:
            await order.signal("settle_refund", outcome)
        except FailureError as err:
            self._flag(f"the order did not take the settlement of {record.step}: {err}")
        if record.state is GoodwillState.FAILED:
            self._flag(f"goodwill refund {record.step} failed: {record.detail}")
            return
        message = self._message(record)
        if message is not None:
            await send(message, self._note, self._flag)

    def _channel(self) -> str:
        return str(self._status.channel)


def _apply(record: GoodwillRefund, found: IssuedRefund) -> None:
    record.refund_id = found.refund_id or record.refund_id
    record.state = _STATES[found.state]
    record.detail = found.detail[:500]


def _receipt(action: CaseAction, record: GoodwillRefund, detail: str) -> CaseActionReceipt:
    return CaseActionReceipt(
        kind=action.kind, accepted=True, detail=f"{record.step} {record.amount}: {detail}"
    )
