"""What every order step needs: the order, its status, the saga and the mechanics of
moving through the lifecycle table. Steps live in their own modules and take this."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from crossdock.models.approval import Principal, Role
    from crossdock.models.channel_cancel import SellerCancelReason
    from crossdock.models.intake import INTAKE_PRINCIPALS
    from crossdock.models.lifecycle import TimelineEntry
    from crossdock.models.order_states import ORDER_LIFECYCLE, OrderState
    from crossdock.models.order_status import OrderStatus
    from crossdock.models.order_steps import CancelRequest, OrderInput
    from crossdock.models.refusals import Refusal
    from workflows.approval import Approval
    from workflows.options import P, R, call_partner
    from workflows.refusals import refusal_of
    from workflows.saga import Saga
    from workflows.search import CROSSDOCK_STATE, NEEDS_ATTENTION


# A `temporal workflow cancel` (or client `handle.cancel()`) is honoured like an operator's
# cancellation: finish the partner call in flight, undo what was booked, then end the
# workflow as Canceled. After shipment nothing can be undone and the workflow just stops.
WORKFLOW_CANCEL = "workflow-cancel"
TEMPORAL_CANCEL = Principal(id="temporal-cancel", role=Role.ADMIN)


class OrderRejected(Exception):
    """A business refusal (card declined, goods not importable, cancelled by a person):
    the order is cancelled and its side effects compensated. `tell_channel` is why the
    channel is told the seller cancelled (None: the channel knows already). `refusal` is
    the partner's classified answer when a partner refused (None for our own checks)."""

    def __init__(
        self,
        message: str,
        tell_channel: SellerCancelReason | None = SellerCancelReason.CANNOT_FULFIL,
        refusal: Refusal | None = None,
    ) -> None:
        super().__init__(message)
        self.tell_channel = tell_channel
        self.refusal = refusal


class OrderContext:
    def __init__(self, input: OrderInput) -> None:
        self.order = input.order
        self.policy = input.policy
        self.status = OrderStatus(ship_to=input.order.ship_to, replacement_of=input.replacement_of)
        self.saga = Saga()
        self.approval = Approval(
            self.status.approvals, note=self.note, attention=self._approval_attention
        )
        self.cancel_request: CancelRequest | None = None
        # Set just before the channel is told the order shipped: from then on a
        # cancellation can no longer stop the parcel and must become a return.
        self.shipping_committed = False
        # Set when Temporal delivered a workflow cancellation request.
        self.workflow_cancelled = False

    @property
    def workflow_id(self) -> str:
        return workflow.info().workflow_id

    def key(self, step: str) -> str:
        """Idempotency key for one side effect: stable across retries, crashes, replays."""
        return f"{self.workflow_id}/{step}"

    async def call(self, activity: Callable[[Any, P], Awaitable[R]], arg: P) -> R:
        """Run a partner activity; a business rejection becomes `OrderRejected`.

        A workflow cancellation does not interrupt the call: the partner may already have
        acted, and only the call's result lets the saga undo it (`check_cancelled`, after
        the step, does). After shipment there is nothing to undo: the workflow stops.
        """
        try:
            result = await self.despite_cancellation(call_partner(activity, arg))
        except ActivityError as err:
            cause = err.cause
            refusal = refusal_of(err)
            if isinstance(cause, ApplicationError) and refusal is not None:
                address = (cause.type or "").upper().startswith("ADDRESS")
                reason = SellerCancelReason.ADDRESS_UNDELIVERABLE if address else None
                raise OrderRejected(
                    cause.message, reason or SellerCancelReason.CANNOT_FULFIL, refusal
                ) from err
            raise
        if self.workflow_cancelled and self.shipping_committed:
            raise asyncio.CancelledError("workflow cancelled after shipment")
        return result

    async def despite_cancellation(self, work: Awaitable[R]) -> R:
        """Await `work` to its end even if the workflow is cancelled meanwhile."""
        task = asyncio.ensure_future(work)
        while True:
            try:
                return await asyncio.shield(task)
            except asyncio.CancelledError:
                if not workflow.patched(WORKFLOW_CANCEL):
                    task.cancel()  # what the workflow did before the patch
                    raise
                self.cancelled_by_temporal()

    def cancelled_by_temporal(self) -> None:
        """Record a workflow cancellation as the order's cancel request (once)."""
        if self.workflow_cancelled:
            return
        self.workflow_cancelled = True
        self.note("workflow_cancel_requested", "through Temporal, not the cancel update")
        if self.cancel_request is None:
            self.cancel_request = CancelRequest(
                reason="the workflow was cancelled in Temporal", by=TEMPORAL_CANCEL
            )

    async def try_call(
        self, activity: Callable[[Any, P], Awaitable[R]], arg: P, what: str
    ) -> R | None:
        """After shipment there is nothing to cancel: a partner's refusal (a capture on an
        expired authorization, a claim already filed) is flagged for a person and the
        order goes on. Returns None when refused."""
        try:
            return await self.call(activity, arg)
        except OrderRejected as refusal:
            self.attention(True, f"{what} refused, finish by hand: {refusal}")
            return None

    async def checkpoint(self) -> None:
        """Between steps: wait while an operator holds the order, then honour a
        cancellation that arrived meanwhile."""
        if self.status.hold is not None:
            await workflow.wait_condition(
                lambda: self.status.hold is None or self.cancel_request is not None
            )
        self.check_cancelled()

    def check_cancelled(self) -> None:
        """Between steps: honour a cancellation that arrived while a step ran, so the
        step's side effect (say, a label bought in the meantime) is compensated too."""
        if self.cancel_request is not None:
            request = self.cancel_request
            buyer = request.by.id in {p.id for p in INTAKE_PRINCIPALS.values()}
            reason = SellerCancelReason.BUYER_ASKED if buyer else SellerCancelReason.CANNOT_FULFIL
            raise OrderRejected(f"cancelled by {request.by.id}: {request.reason}", reason)

    def move(self, target: OrderState, detail: str = "") -> None:
        ORDER_LIFECYCLE.check(self.status.state, target)
        self.status.state = target
        self.note("moved", detail)
        workflow.upsert_search_attributes([CROSSDOCK_STATE.value_set(target.value)])

    def note(self, event: str, detail: str = "") -> None:
        self.status.timeline.append(
            TimelineEntry(at=workflow.now(), event=event, state=self.status.state, detail=detail)
        )

    def _approval_attention(self, needed: bool) -> None:
        self.attention(needed, "an approval waits past its reminder" if needed else "decided")

    def attention(self, needed: bool, why: str) -> None:
        """Raise or clear the NeedsAttention flag operators filter on."""
        if self.status.needs_attention == needed:
            return
        self.status.needs_attention = needed
        self.note("attention" if needed else "attention_cleared", why)
        workflow.upsert_search_attributes([NEEDS_ATTENTION.value_set(needed)])
