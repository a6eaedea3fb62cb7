"""Dispute activities: gather evidence from the order, submit it or accept, and book a
lost dispute on the order's refund ledger.

The order is read and updated through Temporal (its `status` query, its
`reserve_refund` update): the order workflow owns that state, and a query still works
once the order workflow has closed.
"""

from __future__ import annotations

from typing import Any

from temporalio import activity
from temporalio.api.enums.v1 import EventType
from temporalio.client import (
    Client,
    WorkflowExecutionStatus,
    WorkflowHandle,
    WorkflowUpdateFailedError,
)
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from activities.claims import CLAIM_PROVIDERS, MarketplaceClaims
from activities.dispute_evidence import order_evidence
from activities.errors import partner_errors
from crossdock.models import order_handlers, order_ledger
from crossdock.models.dispute import (
    CloseDisputeInput,
    DisputeAnswer,
    DisputeProvider,
    DisputeSnapshot,
    GatheredEvidence,
    GatherEvidenceInput,
    LossRecorded,
    ReadDisputeInput,
    RecordLossInput,
    SubmitEvidenceInput,
)
from crossdock.models.order import Order
from crossdock.models.order_cases import RefundGrant, RefundRequest
from crossdock.models.order_status import OrderStatus
from crossdock.models.order_steps import OrderInput, OrderResult
from crossdock.partners.amazon_claims import AmazonClaimsClient
from crossdock.partners.ebay_cases import EbayCasesClient
from crossdock.partners.ebay_payment_disputes import EbayPaymentDisputesClient
from crossdock.partners.stripe_disputes import StripeDisputesClient


class DisputeActivities:
    """Args: the Temporal client (the order is read and booked through it), Stripe's
    disputes, eBay's payment disputes and cases, and Amazon's A-to-z claims (None where
    that marketplace is not connected)."""

    def __init__(
        self,
        client: Client,
        disputes: StripeDisputesClient,
        ebay: EbayPaymentDisputesClient | None = None,
        cases: EbayCasesClient | None = None,
        atoz: AmazonClaimsClient | None = None,
    ) -> None:
        self._client = client
        self._disputes = disputes
        self._ebay = ebay
        self._claims = MarketplaceClaims(cases, atoz)

    def _ebay_client(self) -> EbayPaymentDisputesClient:
        if self._ebay is None:
            raise ApplicationError(
                "no eBay payment disputes client is configured", non_retryable=True
            )
        return self._ebay

    @activity.defn
    async def gather_dispute_evidence(self, input: GatherEvidenceInput) -> GatheredEvidence:
        """Find the disputed order and turn its record into evidence; an order we cannot
        find yields an empty packet (the workflow decides what a weak case means)."""
        order_id = input.order_workflow_id
        if not order_id and input.payment_intent:
            with partner_errors():
                order_id = await self._disputes.order_of_payment(input.payment_intent)
        if not order_id:
            return GatheredEvidence()
        handle = self._client.get_workflow_handle(order_id, result_type=OrderResult)
        try:
            status = await handle.query(order_handlers.STATUS, result_type=OrderStatus)
            description = await handle.describe()
            order = await self._order_of(handle)
        except RPCError as err:
            if err.status is not RPCStatusCode.NOT_FOUND:
                raise
            activity.logger.warning("disputed_order_not_found", extra={"order": order_id})
            return GatheredEvidence()
        return GatheredEvidence(
            order_workflow_id=order_id,
            order_state=status.state,
            order_closed=description.status is not WorkflowExecutionStatus.RUNNING,
            packet=order_evidence(order_id, order, status),
            open_returns=[c.workflow_id for c in status.cases if c.open and c.kind == "return"],
            refundable=order_ledger.remaining(status, order),
        )

    async def _order_of(self, handle: WorkflowHandle[Any, object]) -> Order:
        """The order as the workflow was started with it (its first history event)."""
        async for event in handle.fetch_history_events():
            if event.event_type is EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED:
                payloads = event.workflow_execution_started_event_attributes.input.payloads
                [start] = await self._client.data_converter.decode(payloads, [OrderInput])
                assert isinstance(start, OrderInput)
                return start.order
        raise RuntimeError(f"{handle.id} has no start event")

    @activity.defn
    async def submit_dispute_evidence(self, input: SubmitEvidenceInput) -> DisputeAnswer:
        """Submit the packet; the idempotency key makes a retry replay, never resubmit.

        eBay payment disputes are contested instead (once, by state); the packet goes as
        the contest note, since eBay's evidence is uploaded files.
        """
        if input.provider in CLAIM_PROVIDERS:
            return await self._claims.contest(input)
        with partner_errors():
            if input.provider is DisputeProvider.EBAY:
                note = "; ".join(f"{k}: {v}" for k, v in sorted(input.evidence.items()))
                dispute = await self._ebay_client().contest(input.dispute_id, note)
            else:
                dispute = await self._disputes.submit_evidence(
                    input.dispute_id, input.evidence, input.idempotency_key
                )
        return DisputeAnswer(
            dispute_id=dispute.id, status=dispute.status, submission_count=dispute.submission_count
        )

    @activity.defn
    async def read_dispute(self, input: ReadDisputeInput) -> DisputeSnapshot:
        """The dispute as its provider has it now: the source of truth when its events
        are late, lost, or crossed by an answer."""
        if input.provider in CLAIM_PROVIDERS:
            return await self._claims.read(input)
        with partner_errors():
            if input.provider is DisputeProvider.EBAY:
                return await self._ebay_client().get_dispute(input.dispute_id)
            return await self._disputes.retrieve_dispute(input.dispute_id)

    @activity.defn
    async def close_dispute(self, input: CloseDisputeInput) -> DisputeAnswer:
        """Accept the dispute (the provider closes it as lost)."""
        if input.provider in CLAIM_PROVIDERS:
            return await self._claims.accept(input)
        with partner_errors():
            if input.provider is DisputeProvider.EBAY:
                dispute = await self._ebay_client().accept(input.dispute_id)
            else:
                dispute = await self._disputes.close_dispute(
                    input.dispute_id, input.idempotency_key
                )
        return DisputeAnswer(
            dispute_id=dispute.id, status=dispute.status, submission_count=dispute.submission_count
        )

    @activity.defn
    async def reserve_dispute_refund(self, input: RecordLossInput) -> LossRecorded:
        """Reserve the lost amount on the order's ledger (update `reserve_refund`).

        The update id is the reservation id, so a retried activity gets the same grant.
        A refusal (more than is left, e.g. a return already refunded it) or a closed order
        is an answer, not a failure: the dispute records it.
        """
        request = RefundRequest(
            case_id=input.case_id, step=input.step, amount=input.amount, reason=input.reason
        )
        handle = self._client.get_workflow_handle(input.order_workflow_id, result_type=OrderResult)
        try:
            grant = await handle.execute_update(
                order_handlers.RESERVE_REFUND,
                request,
                id=request.reservation_id,
                result_type=RefundGrant,
            )
        except WorkflowUpdateFailedError as err:
            cause = err.cause
            detail = str(getattr(cause, "message", None) or cause or err)
            return LossRecorded(outcome="refused", detail=detail)
        except RPCError as err:
            if err.status is not RPCStatusCode.NOT_FOUND:
                raise
            return LossRecorded(outcome="order_closed", detail=err.message)
        return LossRecorded(
            outcome="reserved",
            reservation_id=grant.reservation_id,
            detail=f"{grant.granted} reserved, {grant.remaining} left to refund",
        )
