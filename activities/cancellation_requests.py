"""Buyers' cancellation requests: find them on the marketplace, relay each to its order
workflow as the `cancel` update, and answer the marketplace (docs/lifecycles.md).

- eBay lists requests in the Post-Order API; each is approved when the order will not
  ship (the order took the update, or was cancelled already) and rejected when it has
  shipped or is shipping, with the shipment's date and tracking number.
- Amazon flags the order's items (`BuyerRequestedCancel`) and moves its LastUpdateDate.
  Orders v0 takes no answer from the seller: an accepted request shows in the order's
  timeline, a refused one is logged, and the shipment confirmation tells Amazon the
  order went ahead.

Relaying is idempotent: the update carries an id derived from the request, so Temporal
answers a repeat with the first result, and an order already cancelling or cancelled
counts as done. The order's own compensation does not tell the marketplace that it
cancelled; for eBay, the approval sent here is what cancels the order there. A request
the order refused because it has shipped becomes a return (`after_shipment`).

A relay makes progress under partner faults: it heartbeats what it has listed and
handled (`RelayProgress`), so a retry resumes after the last handled entry instead of
listing and reading every order's items again; on its last attempt a passing fault ends
the run early with what it has done, and the poller's cursor advances only over that.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import structlog
from pydantic import BaseModel, Field
from temporalio import activity
from temporalio.client import Client, WorkflowHandle, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from activities.heartbeat import beat
from crossdock.identity.claims import ClaimSigner
from crossdock.models import order_handlers
from crossdock.models.approval import Principal
from crossdock.models.intake import (
    ANSWERING_CHANNELS,
    INTAKE_PRINCIPALS,
    CancellationOutcome,
    HandledCancellation,
    ImportCancellationsInput,
    ImportCancellationsResult,
    MarketplaceAnswer,
    answer_for,
)
from crossdock.models.order import Channel, order_workflow_id
from crossdock.models.order_states import BEFORE_SHIPMENT, OrderState
from crossdock.models.order_status import OrderStatus
from crossdock.models.order_steps import CancelReceipt, CancelRequest, OrderResult
from crossdock.partners.amazon import AmazonOrder, AmazonOrdersClient
from crossdock.partners.ebay_post_order import CANCEL_REJECTED, EbayPostOrderClient
from crossdock.partners.errors import PartnerRejected, PartnerUnavailable, RateLimited

log = structlog.get_logger(__name__)

OrderHandle = WorkflowHandle[Any, OrderResult]

# Amazon orders whose buyer can still ask to cancel; no others need their items read.
AMAZON_OPEN = ("Unshipped", "PartiallyShipped")
# The order's timeline entry the `cancel` update writes when it accepts a request.
CANCEL_NOTED = "cancel_requested"


@dataclass(frozen=True)
class BuyerRequest:
    """One buyer's cancellation request, as either marketplace reports it."""

    request_id: str
    channel: Channel
    channel_order_id: str
    reason: str


# What to do with a request the order refused because the parcel has left: start a return.
AfterShipment = Callable[[BuyerRequest], Awaitable[None]]


@dataclass(frozen=True)
class Listed:
    """One listing entry: its key and time (the poller's cursor and skip list) and the
    buyer's request it carries, if any."""

    key: str
    at: datetime
    request: BuyerRequest | None


class RelayProgress(BaseModel):
    """What a relay has done so far: every key listed (handled, skipped or with no
    request) with its time, and the requests handled. Heartbeated after each entry."""

    seen: dict[str, datetime] = Field(default_factory=dict)
    handled: list[HandledCancellation] = Field(default_factory=list)

    def since(self, input: ImportCancellationsInput) -> datetime:
        """Where the listing resumes: Amazon lists oldest change first, so after the
        newest key seen (its whole second again; the keys seen there are skipped). eBay's
        search is one call and is asked again from the start."""
        if input.channel is Channel.AMAZON and self.seen:
            return max(input.since, *self.seen.values())
        return input.since


def resumed() -> RelayProgress:
    """The progress an earlier attempt of this activity heartbeated, if any."""
    details = activity.info().heartbeat_details
    return RelayProgress.model_validate(details[0]) if details else RelayProgress()


def last_attempt() -> bool:
    """Whether Temporal will retry this activity no more (its policy's last attempt)."""
    info = activity.info()
    limit = info.retry_policy.maximum_attempts if info.retry_policy else 0
    return 0 < limit <= info.attempt


@dataclass(frozen=True)
class Relayed:
    outcome: CancellationOutcome
    detail: str
    status: OrderStatus | None = None  # the order as it stood, when it refused


class CancellationRelay:
    """Lists requests, relays them to their orders and answers the marketplace."""

    def __init__(
        self,
        client: Client,
        amazon: AmazonOrdersClient,
        post_order: EbayPostOrderClient,
        signer: ClaimSigner | None = None,
        after_shipment: AfterShipment | None = None,
    ) -> None:
        self._client = client
        self._after_shipment = after_shipment
        # Intake vouches for its own principal, as the console does for operators.
        self._signer = signer
        self._amazon = amazon
        self._post_order = post_order

    async def run(self, input: ImportCancellationsInput) -> ImportCancellationsResult:
        """Handle every request listed since `input.since` whose key is not skipped,
        resuming after what an earlier attempt heartbeated."""
        progress = resumed()
        skip = set(input.skip) | progress.seen.keys()
        try:
            async for listed in self._listed(input.channel, progress.since(input), skip):
                if listed.key not in skip and listed.request is not None:
                    progress.handled.append(await self.handle(listed.request))
                progress.seen[listed.key] = listed.at
                beat(progress.model_dump(mode="json"))
        except (PartnerUnavailable, RateLimited, RPCError) as err:
            if not last_attempt():
                raise
            # Temporal will not retry: hand back what was done, so the poller's cursor
            # moves over it and the next poll goes on from there.
            log.warning(
                "cancellation_relay_interrupted",
                channel=input.channel,
                seen=len(progress.seen),
                handled=len(progress.handled),
                error=str(err),
            )
        return ImportCancellationsResult(seen=progress.seen, handled=progress.handled)

    def _listed(self, channel: Channel, since: datetime, skip: set[str]) -> AsyncIterator[Listed]:
        if channel is Channel.AMAZON:
            return self._amazon_listed(since, skip)
        if channel is Channel.EBAY:
            return self._ebay_listed(since)
        # A bug in the caller, not a passing fault: retrying cannot help.
        raise ApplicationError(
            f"channel {channel} has no cancellation requests to poll (amazon, ebay do)",
            non_retryable=True,
        )

    async def _amazon_listed(self, since: datetime, skip: set[str]) -> AsyncIterator[Listed]:
        token: str | None = None
        while True:
            page = await self._amazon.get_updated_orders(since, token, order_statuses=AMAZON_OPEN)
            for order in page.orders:
                changed = order.last_update_date
                key = f"{order.amazon_order_id}@{changed.isoformat()}"
                if key in skip:
                    yield Listed(key, changed, None)
                    continue
                request = await self._amazon_request(order)
                # Not remembered while a request could still come in the same second
                # (LastUpdateDate has whole seconds): it would carry the same key.
                if request is not None or settled(changed, page.last_updated_before):
                    yield Listed(key, changed, request)
            if not (token := page.next_token):
                return

    async def _amazon_request(self, order: AmazonOrder) -> BuyerRequest | None:
        items = await self._amazon.get_order_items(order.amazon_order_id)
        asked = [item for item in items if item.cancel_requested]
        if not asked:
            return None
        return BuyerRequest(
            request_id=order.amazon_order_id,
            channel=Channel.AMAZON,
            channel_order_id=order.amazon_order_id,
            reason=asked[0].buyer_cancel_reason,
        )

    async def _ebay_listed(self, since: datetime) -> AsyncIterator[Listed]:
        # Oldest first, as Amazon lists: a run ended early has handled everything before
        # its newest key, which is what the poller's cursor assumes.
        found_all = await self._post_order.search_cancellations(since)
        for found in sorted(found_all, key=lambda found: found.cancel_request_date):
            request = None
            if found.awaits_seller:
                request = BuyerRequest(
                    request_id=found.cancel_id,
                    channel=Channel.EBAY,
                    channel_order_id=found.order_id,
                    reason=found.cancel_reason or "",
                )
            yield Listed(found.cancel_id, found.cancel_request_date, request)

    async def handle(self, request: BuyerRequest) -> HandledCancellation:
        """Relay one request to its order and answer the marketplace.

        Transient failures raise (Temporal retries the activity; every step repeats
        safely). A marketplace that refuses the answer outright is logged for a person
        and the request counts as handled, so one bad request cannot stall the rest.
        """
        relayed = await self._relay(request)
        if self._after_shipment is not None and shipped(relayed):
            await self._after_shipment(request)
        answer = answer_for(request.channel, relayed.outcome)
        detail = relayed.detail
        try:
            await self._answer(request, answer, relayed.status)
        except PartnerRejected as refused:
            detail = f"{detail}; {answer} refused by {request.channel}: {refused.message}"
            answer = MarketplaceAnswer.NONE
        needs_person = answer is MarketplaceAnswer.NONE and request.channel in ANSWERING_CHANNELS
        (log.warning if needs_person else log.info)(
            "buyer_cancellation_handled",
            channel=request.channel,
            order_id=request.channel_order_id,
            request_id=request.request_id,
            outcome=relayed.outcome,
            answer=answer,
            detail=detail,
        )
        return HandledCancellation(
            request_id=request.request_id,
            channel_order_id=request.channel_order_id,
            outcome=relayed.outcome,
            answer=answer,
            detail=detail,
        )

    def _principal(self, channel: Channel, workflow_id: str) -> Principal:
        principal = INTAKE_PRINCIPALS[channel]
        return self._signer.sign(principal, workflow_id) if self._signer else principal

    async def _relay(self, request: BuyerRequest) -> Relayed:
        workflow_id = order_workflow_id(request.channel, request.channel_order_id)
        handle: OrderHandle = self._client.get_workflow_handle(workflow_id, result_type=OrderResult)
        cancel = CancelRequest(
            reason=f"buyer asked on {request.channel.value}: {request.reason or 'no reason given'}",
            by=self._principal(request.channel, workflow_id),
        )
        try:
            receipt = await handle.execute_update(
                order_handlers.CANCEL,
                cancel,
                # Temporal answers a repeat of this id with the first result.
                id=f"buyer-cancel-{request.channel.value}-{request.request_id}",
                result_type=CancelReceipt,
            )
        except WorkflowUpdateFailedError as refused:
            return await _after_refusal(handle, str(refused.cause or refused))
        except RPCError as err:
            if err.status is not RPCStatusCode.NOT_FOUND:
                raise
            # No such workflow, or it has closed (then its final status still answers).
            return await _after_refusal(handle, err.message)
        return Relayed(CancellationOutcome.ACCEPTED, receipt.note)

    async def _answer(
        self, request: BuyerRequest, answer: MarketplaceAnswer, status: OrderStatus | None
    ) -> None:
        if answer is MarketplaceAnswer.NONE:
            return
        cancel_id = request.request_id
        try:
            if answer is MarketplaceAnswer.APPROVE:
                await self._post_order.approve_cancellation(cancel_id)
            else:
                shipped_at, tracking = shipment_of(status)
                await self._post_order.reject_cancellation(
                    cancel_id, shipped_at=shipped_at, tracking_number=tracking
                )
        except PartnerRejected:
            # A retry after an answer eBay took but whose reply was lost: eBay refuses to
            # answer a closed request, so read it back before calling this a failure.
            if not await self._answered(cancel_id, answer):
                raise

    async def _answered(self, cancel_id: str, answer: MarketplaceAnswer) -> bool:
        found = await self._post_order.get_cancellation(cancel_id)
        if found is None or found.awaits_seller:
            return False
        rejected = found.cancel_status == CANCEL_REJECTED
        return rejected == (answer is MarketplaceAnswer.REJECT)


async def _after_refusal(handle: OrderHandle, why: str) -> Relayed:
    """Classify a refused update by the order's own status."""
    try:
        status = await handle.query(order_handlers.STATUS, result_type=OrderStatus)
    except RPCError as err:
        if err.status is not RPCStatusCode.NOT_FOUND:
            raise
        return Relayed(CancellationOutcome.UNKNOWN_ORDER, f"no order workflow: {err.message}")
    cancelling = any(entry.event == CANCEL_NOTED for entry in status.timeline)
    if status.state is OrderState.CANCELLED or cancelling:
        return Relayed(CancellationOutcome.ALREADY_CANCELLED, why, status)
    return Relayed(CancellationOutcome.REFUSED, why, status)


def shipped(relayed: Relayed) -> bool:
    """The order refused the cancellation because it has shipped (not for another reason)."""
    status = relayed.status
    return (
        relayed.outcome is CancellationOutcome.REFUSED
        and status is not None
        and status.state not in BEFORE_SHIPMENT
        and status.state != OrderState.CANCELLED
    )


def settled(changed: datetime, window_end: datetime | None) -> bool:
    """Whether an Amazon order's LastUpdateDate lies in a second before the listing's
    window ended, so any later change shows a different LastUpdateDate."""
    end = window_end or datetime.now(UTC)
    return changed.replace(microsecond=0) < end.replace(microsecond=0)


def shipment_of(status: OrderStatus | None) -> tuple[datetime | None, str | None]:
    """(shipped at, tracking number) of an order, as far as it has got."""
    if status is None:
        return None, None
    shipped = next(
        (
            entry.at
            for entry in status.timeline
            if entry.event == "moved" and entry.state == OrderState.SHIPMENT_CONFIRMED
        ),
        None,
    )
    return shipped, status.label.tracking_code if status.label else None
