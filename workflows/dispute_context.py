"""What every dispute step needs: the status, the approval, the lifecycle mechanics and
the provider's latest view. Steps live in dispute_evidence, dispute_decision and
dispute_outcome and take this."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from temporalio import workflow
from temporalio.exceptions import ActivityError, FailureError

with workflow.unsafe.imports_passed_through():
    from crossdock.models.dispute import (
        FINAL,
        NEEDS_ANSWER,
        DisputeEvent,
        DisputeSnapshot,
        ProviderStatus,
        moves_on,
    )
    from crossdock.models.dispute_states import DISPUTE_LIFECYCLE, DisputeState
    from crossdock.models.dispute_status import EVENTS_REMEMBERED, DisputeInput, DisputeStatus
    from crossdock.models.lifecycle import TimelineEntry
    from crossdock.models.order_cases import CaseKind, CaseLink
    from crossdock.models.refusals import Refusal
    from workflows.approval import Approval
    from workflows.options import P, R, call_partner
    from workflows.refusals import refusal_of
    from workflows.search import CROSSDOCK_STATE, NEEDS_ATTENTION

# The (created, status rank) of the latest provider event taken in; None before any.
EventKey = tuple[datetime, int] | None

# Our states after which the provider asking again means a new round.
ANSWERED = frozenset({DisputeState.SUBMITTED, DisputeState.WON, DisputeState.INQUIRY_CLOSED})


# Stripe's events for the disputed amount leaving and coming back to our balance.
MONEY_EVENTS = {
    "charge.dispute.funds_withdrawn": "funds_withdrawn",
    "charge.dispute.funds_reinstated": "funds_reinstated",
}


class PartnerRefused(Exception):
    """A provider's business refusal of a dispute call, in its own words (`refusal`)."""

    def __init__(self, refusal: Refusal) -> None:
        super().__init__(refusal.message)
        self.refusal = refusal


class DisputeContext:
    def __init__(self, input: DisputeInput) -> None:
        first = input.first_event
        self.provider = input.provider
        self.policy = input.policy
        self.status = input.carried or DisputeStatus(
            provider=input.provider, dispute_id=first.dispute.id, snapshot=first.dispute
        )
        self.approval = Approval(
            self.status.approvals, note=self.note, attention=self._approval_attention
        )

    @property
    def workflow_id(self) -> str:
        return workflow.info().workflow_id

    def key(self, step: str) -> str:
        """Idempotency key for one side effect: stable across retries, crashes, replays."""
        return f"{self.workflow_id}/{step}-{self.status.round}"

    # -- provider events -----------------------------------------------------------

    def receive(self, event: DisputeEvent) -> None:
        """Apply a provider event: duplicates and events older than the latest one seen
        change nothing (webhooks arrive at least once and in any order)."""
        status = self.status
        if event.event_id in status.events_seen:
            return
        status.events_seen = [*status.events_seen, event.event_id][-EVENTS_REMEMBERED:]
        money = MONEY_EVENTS.get(event.type)
        if money:
            # Money moves whatever the order of delivery: the timeline records each once.
            self.note(money, f"{event.dispute.amount} ({event.type})")
        if status.latest_event is not None and event.order_key <= status.latest_event:
            self.note("provider_event_stale", f"{event.type} {event.dispute.status}")
            return
        status.latest_event = event.order_key
        before = status.snapshot.status
        status.snapshot = event.dispute
        if event.dispute.status != before:
            self.note("provider_status", f"{before} → {event.dispute.status} ({event.type})")
        if self.provider_closed and self.approval.current and self.approval.current.pending:
            self.approval.withdraw(f"the provider closed the round: {event.dispute.status}")

    def take_read(self, read: DisputeSnapshot, since: EventKey, what: str) -> bool:
        """Apply the dispute as a call read it from the provider (an answer, a re-read);
        say whether it was taken. A read has no time of its own: it is newer than every
        event delivered before the call began (`since`: the latest one then), but an
        event delivered during the call may be newer than it, and a decided round stays
        decided; then the read counts only if it moves the round on."""
        status = self.status
        current = status.snapshot
        fresh = status.latest_event == since and current.status not in FINAL
        count = max(current.submission_count, read.submission_count)
        if not fresh and not moves_on(read.status, current.status):
            status.snapshot = current.model_copy(update={"submission_count": count})
            self.note("provider_answer_older", f"{what}: {read.status}; {current.status} stands")
            return False
        status.snapshot = current.model_copy(
            update={
                "status": read.status,
                "submission_count": count,
                "due_by": read.due_by or current.due_by,
            }
        )
        if read.status != current.status:
            self.note("provider_status", f"{current.status} → {read.status} ({what})")
        return True

    @property
    def provider_status(self) -> ProviderStatus:
        return self.status.snapshot.status

    @property
    def provider_closed(self) -> bool:
        return self.provider_status in FINAL

    @property
    def asked_again(self) -> bool:
        """The provider wants an answer after we answered: a new round."""
        return self.status.state in ANSWERED and self.provider_status in NEEDS_ANSWER

    # -- mechanics -----------------------------------------------------------------

    async def call(self, activity: Callable[[Any, P], Awaitable[R]], arg: P) -> R:
        """Run a partner activity; a business refusal becomes `PartnerRefused`."""
        try:
            return await call_partner(activity, arg)
        except ActivityError as err:
            refusal = refusal_of(err)
            if refusal is not None:
                raise PartnerRefused(refusal) from err
            raise

    async def tell_order(self, open: bool, summary: str) -> None:
        """Link (or close the link to) this dispute on its order's timeline."""
        order_id = self.status.order_workflow_id
        if not order_id:
            return
        link = CaseLink(
            kind=CaseKind.DISPUTE, workflow_id=self.workflow_id, summary=summary, open=open
        )
        try:
            await workflow.get_external_workflow_handle(order_id).signal("link_case", link)
        except FailureError as err:
            # The order workflow closed: its query still answers, but it takes no signals.
            self.note("order_not_told", f"{order_id}: {err.message}")

    def move(self, target: DisputeState, detail: str = "") -> None:
        DISPUTE_LIFECYCLE.check(self.status.state, target)
        self.status.state = target
        self.note("moved", detail)
        workflow.upsert_search_attributes([CROSSDOCK_STATE.value_set(target.value)])

    def note(self, event: str, detail: str = "") -> None:
        self.status.timeline.append(
            TimelineEntry(at=workflow.now(), event=event, state=self.status.state, detail=detail)
        )

    def flag(self, why: str) -> None:
        """Ask for a person's attention for a reason of the dispute's own (not the
        approval's clocks), kept until the round ends (`unflag`)."""
        self.status.reason = why
        self.attention(True, why)

    def unflag(self, why: str) -> None:
        self.status.reason = ""
        self.attention(False, why)

    def _approval_attention(self, needed: bool) -> None:
        if needed:
            self.attention(True, "the decision waits past its reminder")
        elif not self.status.reason:
            self.attention(False, "decided")

    def attention(self, needed: bool, why: str) -> None:
        """Raise or clear the NeedsAttention flag operators filter on."""
        if self.status.needs_attention == needed:
            return
        self.status.needs_attention = needed
        self.note("attention" if needed else "attention_cleared", why)
        workflow.upsert_search_attributes([NEEDS_ATTENTION.value_set(needed)])
