"""What every return step needs: the request, its status, the order it is about, and the
mechanics of moving through the return table. Steps live in their own modules."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from temporalio import workflow
from temporalio.exceptions import FailureError

with workflow.unsafe.imports_passed_through():
    from crossdock.models.lifecycle import TimelineEntry
    from crossdock.models.order_cases import CaseKind, CaseLink
    from crossdock.models.return_states import RETURN_LIFECYCLE, ReturnState
    from crossdock.models.return_status import ReturnStatus
    from crossdock.models.returns import OrderSnapshot, ReturnInput
    from workflows.approval import Approval
    from workflows.options import P, R, call_partner
    from workflows.search import CROSSDOCK_STATE, NEEDS_ATTENTION


class ReturnContext:
    def __init__(self, input: ReturnInput) -> None:
        self.request = input.request
        self.timers = input.timers
        self.warehouse = input.warehouse
        self.status = ReturnStatus(request=input.request)
        self.approval = Approval(
            self.status.approvals, note=self.note, attention=self._approval_attention
        )
        # Read from the order once the return starts (activity `read_order`).
        self.snapshot: OrderSnapshot | None = None

    @property
    def order_snapshot(self) -> OrderSnapshot:
        if self.snapshot is None:
            raise RuntimeError("the order was not read yet")
        return self.snapshot

    @property
    def workflow_id(self) -> str:
        return workflow.info().workflow_id

    def key(self, step: str) -> str:
        """Idempotency key for one side effect: stable across retries, crashes, replays."""
        return f"{self.workflow_id}/{step}"

    async def call(self, activity: Callable[[Any, P], Awaitable[R]], arg: P) -> R:
        return await call_partner(activity, arg)

    async def tell_order(self, summary: str, *, open: bool = True) -> bool:
        """Link (or close the link to) this return on its order, with `summary` as the
        order shows it; False (noted) when the order takes no more signals."""
        link = CaseLink(
            kind=CaseKind.RETURN, workflow_id=self.workflow_id, summary=summary[:500], open=open
        )
        order = workflow.get_external_workflow_handle(self.request.order_id)
        try:
            await order.signal("link_case", link)
        except FailureError as err:
            self.note("order_not_told", f"{self.request.order_id}: {err.message}")
            return False
        return True

    def move(self, target: ReturnState, detail: str = "") -> None:
        RETURN_LIFECYCLE.check(self.status.state, target)
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
