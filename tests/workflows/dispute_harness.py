"""Running DisputeWorkflow on the time-skipping server against stand-in activities and a
stand-in order workflow that records the links and settlements it receives."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from temporalio import activity
from temporalio.client import WorkflowHandle
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from activities.errors import PartnerRefused
from crossdock.models.case import OrderFacts
from crossdock.models.dispute import (
    CloseDisputeInput,
    DisputeAnswer,
    DisputeEvent,
    DisputePolicy,
    DisputeProvider,
    DisputeReason,
    DisputeSnapshot,
    EvidencePacket,
    GatheredEvidence,
    GatherEvidenceInput,
    LossRecorded,
    ProviderStatus,
    ReadDisputeInput,
    RecordLossInput,
    SubmitEvidenceInput,
)
from crossdock.models.dispute_status import DisputeInput, DisputeResult, DisputeStatus
from crossdock.models.notify import NotificationSent, NotifyBuyerInput
from crossdock.models.order_cases import CaseLink, RefundOutcome
from crossdock.models.refusals import Refusal, RefusalKind
from crossdock.money import Money
from crossdock.workflow_sandbox import RUNNER
from tests.workflows.order_stub import OrderStub
from tests.workflows.projections import Projections
from workflows.dispute import DisputeWorkflow

DisputeHandle = WorkflowHandle[DisputeWorkflow, DisputeResult]
AMOUNT = Money(amount=12_000, currency="EUR")

STRONG = {
    "shipping_carrier": "DHL",
    "shipping_tracking_number": "EZ1000000001",
    "shipping_date": "2026-11-02",
    "shipping_documentation": "delivered 2026-11-05",
    "receipt": "order SF1",
    "product_description": "Ceramic teapot",
}


PAST_DUE = Refusal(
    kind=RefusalKind.INVALID,
    message="This dispute is past due and can no longer be updated",
    partner="stripe",
    code="invalid_request_error",
    status=400,
)


@dataclass
class DisputePartners:
    """What the stand-ins did and how they answer."""

    evidence: dict[str, str] = field(default_factory=lambda: dict(STRONG))
    order_id: str = "order-storefront-SF1"
    open_returns: list[str] = field(default_factory=list)
    loss_outcome: str = "reserved"
    # How many times the provider refuses a submission, and an acceptance, before it
    # takes one (Stripe's words for a dispute it will not take evidence on).
    refuse_submission: int = 0
    refuse_close: int = 0
    # gather_dispute_evidence fails (retryably) every time: the order cannot be read.
    gather_fails: bool = False
    # Holds the submission's answer until set, as a slow provider (or a retried call)
    # would: the provider's own events may arrive meanwhile.
    submit_gate: asyncio.Event | None = None
    submit_status: ProviderStatus = ProviderStatus.UNDER_REVIEW
    # What a re-read of the dispute finds at the provider; None: the read fails.
    provider_view: DisputeSnapshot | None = None
    calls: list[tuple[str, Any]] = field(default_factory=list)
    submissions: dict[str, int] = field(default_factory=dict)
    # Workflow ids the test started: terminated when its worker stops.
    started: list[str] = field(default_factory=list)

    def named(self, name: str) -> list[Any]:
        return [arg for called, arg in self.calls if called == name]

    def activities(self) -> list[Any]:
        @activity.defn(name="gather_dispute_evidence")
        async def gather(input: GatherEvidenceInput) -> GatheredEvidence:
            self.calls.append(("gather", input))
            if self.gather_fails:
                raise ApplicationError("order query timed out")
            return GatheredEvidence(
                order_workflow_id=self.order_id,
                order_state="completed",
                packet=EvidencePacket(fields=dict(self.evidence)),
                open_returns=list(self.open_returns),
            )

        @activity.defn(name="submit_dispute_evidence")
        async def submit(input: SubmitEvidenceInput) -> DisputeAnswer:
            self.calls.append(("submit", input))
            if self.submit_gate is not None:
                await self.submit_gate.wait()
            if self.refuse_submission:
                self.refuse_submission -= 1
                raise PartnerRefused(PAST_DUE)
            # Like the provider: one submission per idempotency key.
            count = self.submissions.setdefault(input.idempotency_key, len(self.submissions) + 1)
            return DisputeAnswer(
                dispute_id=input.dispute_id,
                status=self.submit_status,
                submission_count=count,
            )

        @activity.defn(name="close_dispute")
        async def close(input: CloseDisputeInput) -> DisputeAnswer:
            self.calls.append(("close", input))
            if self.refuse_close:
                self.refuse_close -= 1
                raise PartnerRefused(PAST_DUE)
            return DisputeAnswer(
                dispute_id=input.dispute_id, status=ProviderStatus.LOST, submission_count=0
            )

        @activity.defn(name="reserve_dispute_refund")
        async def reserve(input: RecordLossInput) -> LossRecorded:
            self.calls.append(("reserve", input))
            reservation = f"{input.case_id}/{input.step}"
            if self.loss_outcome != "reserved":
                return LossRecorded(outcome=self.loss_outcome, detail="order said no")
            return LossRecorded(outcome="reserved", reservation_id=reservation)

        return [gather, submit, close, reserve]

    def buyer(self) -> list[Any]:
        """Stand-ins for the order's facts and the buyer's messages (the verdict's
        message to the buyer)."""

        @activity.defn(name="order_facts")
        async def facts(order_workflow_id: str) -> OrderFacts:
            self.calls.append(("order_facts", order_workflow_id))
            channel_order_id = order_workflow_id.split("-", 2)[-1]
            return OrderFacts(
                order_workflow_id=order_workflow_id,
                channel_order_id=channel_order_id,
                state="completed",
                country="DE",
                language="de",
                buyer_email="buyer@example.com",
                currency="EUR",
            )

        @activity.defn(name="notify_buyer")
        async def notify(input: NotifyBuyerInput) -> NotificationSent:
            self.calls.append(("notify_buyer", input))
            return NotificationSent(
                template=input.template,
                idempotency_key=input.idempotency_key,
                language=input.language,
            )

        return [facts, notify]

    def messages(self) -> list[NotifyBuyerInput]:
        """The buyer messages sent, in order."""
        return [call for name, call in self.calls if name == "notify_buyer"]

    def reader(self) -> Any:
        """The stand-in for re-reading the dispute at its provider (`provider_view`)."""

        @activity.defn(name="read_dispute")
        async def read(input: ReadDisputeInput) -> DisputeSnapshot:
            self.calls.append(("read", input))
            if self.provider_view is None:
                raise ApplicationError("the provider cannot be read", non_retryable=True)
            return self.provider_view

        return read


@contextlib.asynccontextmanager
async def worker(
    env: WorkflowEnvironment, task_queue: str, partners: DisputePartners
) -> AsyncIterator[Worker]:
    """A worker for the test; on the way out the workflows `start` began are terminated:
    a dispute left waiting would wake on a later test's time skip with no worker to
    run it, and hold the module's shared test clock."""
    async with Worker(
        env.client,
        task_queue=task_queue,
        workflows=[DisputeWorkflow, OrderStub],
        activities=[
            *partners.activities(),
            partners.reader(),
            *partners.buyer(),
            *Projections().activities(),
        ],
        workflow_runner=RUNNER,
    ) as running:
        try:
            yield running
        finally:
            for workflow_id in partners.started:
                with contextlib.suppress(RPCError):
                    await env.client.get_workflow_handle(workflow_id).terminate("test over")


class Provider:
    """Makes provider events for one dispute, with increasing timestamps."""

    def __init__(self, now: datetime, dispute_id: str = "dp_1", **snapshot: Any) -> None:
        self.now = now
        self.seq = 0
        fields: dict[str, Any] = {
            "id": dispute_id,
            "charge": "ch_1",
            "payment_intent": "pi_1",
            "amount": AMOUNT,
            "reason": DisputeReason.PRODUCT_NOT_RECEIVED,
            "status": ProviderStatus.NEEDS_RESPONSE,
            "due_by": now + timedelta(days=7),
        }
        self.snapshot = DisputeSnapshot(**{**fields, **snapshot})

    def event(self, status: ProviderStatus, *, seconds: int = 1, **changes: Any) -> DisputeEvent:
        self.seq += 1
        self.now += timedelta(seconds=seconds)
        self.snapshot = self.snapshot.model_copy(update={"status": status, **changes})
        kind = "closed" if status in (ProviderStatus.WON, ProviderStatus.LOST) else "updated"
        return DisputeEvent(
            event_id=f"evt_{self.seq}",
            type=f"charge.dispute.{'created' if self.seq == 1 else kind}",
            created=self.now,
            dispute=self.snapshot,
        )


async def start(
    env: WorkflowEnvironment,
    task_queue: str,
    partners: DisputePartners,
    first: DisputeEvent,
    policy: DisputePolicy | None = None,
    provider: DisputeProvider = DisputeProvider.STRIPE,
) -> DisputeHandle:
    await env.client.start_workflow(OrderStub.run, id=partners.order_id, task_queue=task_queue)
    workflow_id = f"dispute-{provider}-{first.dispute.id}"
    partners.started += [partners.order_id, workflow_id]
    return await env.client.start_workflow(
        DisputeWorkflow.run,
        DisputeInput(provider=provider, first_event=first, policy=policy or DisputePolicy()),
        id=workflow_id,
        task_queue=task_queue,
    )


async def order_seen(
    env: WorkflowEnvironment, partners: DisputePartners
) -> tuple[list[CaseLink], list[RefundOutcome]]:
    handle = env.client.get_workflow_handle(partners.order_id)
    return await handle.query(OrderStub.seen)


async def wait_for(handle: DisputeHandle, state: str, rounds: int = 1) -> DisputeStatus:
    """Poll the status query (no time passes) until the dispute reaches `state`."""
    status = await handle.query(DisputeWorkflow.status)
    for _ in range(300):
        if status.state == state and status.round >= rounds:
            return status
        await asyncio.sleep(0.05)
        status = await handle.query(DisputeWorkflow.status)
    raise AssertionError(f"dispute stayed {status.state} (round {status.round}), not {state}")
