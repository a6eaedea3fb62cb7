"""What every order step needs: the order, its status, the saga and the mechanics of
moving through the lifecycle table. Steps live in their own modules and take this."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from crossdock.models.order_steps import CancelRequest, OrderInput
    from workflows.approval import Approval
    from workflows.lifecycle import TimelineEntry
    from workflows.options import P, R, call_partner
    from workflows.order_states import ORDER_LIFECYCLE, OrderState
    from workflows.order_status import OrderStatus
    from workflows.saga import Saga
    from workflows.search import CROSSDOCK_STATE, NEEDS_ATTENTION


class OrderRejected(Exception):
    """A business refusal (card declined, goods not importable, cancelled by a person):
    the order is cancelled and its side effects compensated."""


class OrderContext:
    def __init__(self, input: OrderInput) -> None:
        self.order = input.order
        self.policy = input.policy
        self.status = OrderStatus(ship_to=input.order.ship_to)
        self.saga = Saga()
        self.approval = Approval(
            self.status.approvals, note=self.note, attention=self._approval_attention
        )
        self.cancel_request: CancelRequest | None = None
        # Set just before the channel is told the order shipped: from then on a
        # cancellation can no longer stop the parcel and must become a return.
        self.shipping_committed = False

    @property
    def workflow_id(self) -> str:
        return workflow.info().workflow_id

    def key(self, step: str) -> str:
        """Idempotency key for one side effect: stable across retries, crashes, replays."""
        return f"{self.workflow_id}/{step}"

    async def call(self, activity: Callable[[Any, P], Awaitable[R]], arg: P) -> R:
        """Run a partner activity; a business rejection becomes `OrderRejected`."""
        try:
            return await call_partner(activity, arg)
        except ActivityError as err:
            cause = err.cause
            if isinstance(cause, ApplicationError) and cause.non_retryable:
                raise OrderRejected(cause.message) from err
            raise

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

    def check_cancelled(self) -> None:
        """Between steps: honour a cancellation that arrived while a step ran, so the
        step's side effect (say, a label bought in the meantime) is compensated too."""
        if self.cancel_request is not None:
            request = self.cancel_request
            raise OrderRejected(f"cancelled by {request.by.id}: {request.reason}")

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
