"""Intake of marketplace return requests: buyers' eBay and Amazon returns become
ReturnWorkflows (eBay: Post-Order return search; Amazon: the returns report).

Buyers' cancellations that reach an order after it shipped become returns too
(`return_for_cancellation`, called by the cancellation relay).

Thin: read the marketplace's requests, translate each into a `ReturnRequest` against the
order it is about, start its workflow (REJECT_DUPLICATE on `return-{channel}-{returnId}`,
so a request seen again starts nothing). Decisions stay in the return workflow.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Protocol, TypeVar

import structlog
from pydantic import BaseModel, Field
from temporalio import activity
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from activities.cancellation_requests import BuyerRequest
from activities.errors import partner_errors
from activities.returns import order_of
from activities.starters import StartReturn
from crossdock.models.order import Channel, Order, order_workflow_id
from crossdock.models.returns import ReturnLine, ReturnReason, ReturnRequest, ReturnSource
from crossdock.partners.amazon_reports import AmazonReportsClient, AmazonReturnRow
from crossdock.partners.ebay_returns import EbayReturnRequest, EbayReturnRequestsClient

log = structlog.get_logger(__name__)

# eBay's ReturnReasonEnum in our reasons; anything else is the buyer's change of mind.
EBAY_REASONS = {
    "ARRIVED_DAMAGED": ReturnReason.DAMAGED,
    "DEFECTIVE_ITEM": ReturnReason.DAMAGED,
    "MISSING_PARTS": ReturnReason.NOT_AS_DESCRIBED,
    "NOT_AS_DESCRIBED": ReturnReason.NOT_AS_DESCRIBED,
    "WRONG_ITEM": ReturnReason.WRONG_ITEM,
}
# Amazon's return reason codes in ours; anything else is the buyer's change of mind.
AMAZON_REASONS = {
    "CR-DAMAGED_BY_CARRIER": ReturnReason.DAMAGED,
    "CR-DEFECTIVE": ReturnReason.DAMAGED,
    "CR-QUALITY_UNACCEPTABLE": ReturnReason.NOT_AS_DESCRIBED,
    "AMZ-PG-BAD-DESC": ReturnReason.NOT_AS_DESCRIBED,
    "CR-MISSING_PARTS": ReturnReason.NOT_AS_DESCRIBED,
    "CR-WRONG_ITEM": ReturnReason.WRONG_ITEM,
    "CR-SWITCHEROO": ReturnReason.WRONG_ITEM,
    "CR-MISSED_ESTIMATED_DELIVERY": ReturnReason.NOT_RECEIVED,
}
# Requests the seller no longer acts on (Amazon or the buyer ended them).
AMAZON_ENDED = frozenset({"Closed", "Completed", "Cancelled"})


class FoundRequest(Protocol):
    """What intake needs of any marketplace's return request."""

    @property
    def return_id(self) -> str: ...
    @property
    def order_id(self) -> str: ...  # the marketplace's order id
    @property
    def created_at(self) -> datetime: ...


Found = TypeVar("Found", bound=FoundRequest)


class AmazonReturnRequest(BaseModel):
    """A buyer's Amazon return request: the report's rows of one Amazon RMA ID."""

    return_id: str
    order_id: str
    created_at: datetime
    rows: list[AmazonReturnRow]

    @classmethod
    def grouped(cls, rows: list[AmazonReturnRow]) -> list[AmazonReturnRequest]:
        """The requests of report rows (one row per item), oldest first, open ones only."""
        found: dict[str, AmazonReturnRequest] = {}
        for row in rows:
            if row.status in AMAZON_ENDED:
                continue
            request = found.setdefault(
                row.rma,
                cls(return_id=row.rma, order_id=row.order_id, created_at=row.requested_at, rows=[]),
            )
            request.rows.append(row)
        return sorted(found.values(), key=lambda r: r.created_at)


class ImportReturnRequestsInput(BaseModel):
    channel: Channel
    created_after: datetime


class ImportedReturnRequests(BaseModel):
    started: list[str] = Field(default_factory=list)
    # Requests about orders Crossdock does not run (or lines it cannot match), by id.
    skipped: list[str] = Field(default_factory=list)
    # Where the next search starts: the newest request seen (searches are inclusive, and
    # a request seen twice starts nothing the second time).
    cursor: datetime


class ReturnIntakeActivities:
    def __init__(
        self,
        client: Client,
        start_return: StartReturn,
        ebay_returns: EbayReturnRequestsClient,
        amazon_reports: AmazonReportsClient,
    ) -> None:
        self._client = client
        self._start_return = start_return
        self._ebay = ebay_returns
        self._amazon = amazon_reports

    @activity.defn
    async def import_return_requests(
        self, input: ImportReturnRequestsInput
    ) -> ImportedReturnRequests:
        """Start a return for every new eBay or Amazon return request."""
        result = ImportedReturnRequests(cursor=input.created_after)
        if input.channel is Channel.EBAY:
            with partner_errors():
                ebay = await self._ebay.search(input.created_after)
            await self._start_all(result, Channel.EBAY, ebay, translate)
        elif input.channel is Channel.AMAZON:
            with partner_errors():
                rows = await self._amazon.return_requests(input.created_after)
            # Rows of ended requests move the cursor too: seen, and nothing to start.
            result.cursor = max([result.cursor, *(row.requested_at for row in rows)])
            amazon = AmazonReturnRequest.grouped(rows)
            await self._start_all(result, Channel.AMAZON, amazon, translate_amazon)
        else:
            raise ValueError(f"return requests are read from ebay and amazon, not {input.channel}")
        return result

    async def _start_all(
        self,
        result: ImportedReturnRequests,
        channel: Channel,
        found: Sequence[Found],
        translated: Callable[[Found, Order], ReturnRequest | None],
    ) -> None:
        for request in found:
            result.cursor = max(result.cursor, request.created_at)
            started = await self._start(channel, request, translated)
            (result.started if started else result.skipped).append(request.return_id)

    async def _start(
        self,
        channel: Channel,
        found: Found,
        translated: Callable[[Found, Order], ReturnRequest | None],
    ) -> bool:
        order_id = order_workflow_id(channel, found.order_id)
        try:
            order = await order_of(self._client, order_id)
        except RPCError as err:
            if err.status is not RPCStatusCode.NOT_FOUND:
                raise
            log.info("return_for_unknown_order", return_id=found.return_id, order=order_id)
            return False
        request = translated(found, order)
        if request is None:
            log.info("return_line_not_in_order", return_id=found.return_id, order=order_id)
            return False
        started = await self._start_return(request)
        if started is not None:
            log.info("return_started", workflow_id=started, reason=request.reason)
        return started is not None


def translate(found: EbayReturnRequest, order: Order) -> ReturnRequest | None:
    """The eBay request in our terms; None when its line is not one of the order's."""
    item = next((i for i in order.items if i.line_id == found.transaction_id), None)
    if item is None:
        return None
    return ReturnRequest(
        channel=Channel.EBAY,
        rma=found.return_id,
        order_id=order.workflow_id,
        lines=[ReturnLine(sku=item.sku, quantity=min(found.quantity, item.quantity))],
        reason=EBAY_REASONS.get(found.reason, ReturnReason.CHANGED_MIND),
        source=ReturnSource.MARKETPLACE,
        requested_at=found.created_at,
        comment=f"eBay {found.reason}: {found.comments}"[:1000],
    )


def translate_amazon(found: AmazonReturnRequest, order: Order) -> ReturnRequest | None:
    """The Amazon request in our terms, its lines found by SKU; None when an item is not
    one of the order's. The first row's reason stands for the request (one reason each)."""
    lines = []
    for row in found.rows:
        item = next((i for i in order.items if i.sku == row.sku), None)
        if item is None:
            return None
        lines.append(ReturnLine(sku=item.sku, quantity=min(row.quantity, item.quantity)))
    first = found.rows[0]
    return ReturnRequest(
        channel=Channel.AMAZON,
        rma=found.return_id,
        order_id=order.workflow_id,
        lines=lines,
        reason=AMAZON_REASONS.get(first.reason, ReturnReason.CHANGED_MIND),
        source=ReturnSource.MARKETPLACE,
        requested_at=found.created_at,
        comment=f"Amazon {first.reason}"[:1000],
    )


async def return_for_cancellation(
    client: Client, start_return: StartReturn, request: BuyerRequest
) -> None:
    """A buyer's cancellation that reached the order after it shipped: the whole order
    comes back as a return (the buyer changed their mind; REJECT_DUPLICATE on
    `return-{channel}-cancel-{request id}`, so a request relayed again starts nothing)."""
    order = await order_of(client, order_workflow_id(request.channel, request.channel_order_id))
    opened = ReturnRequest(
        channel=request.channel,
        rma=f"cancel-{request.request_id}",
        order_id=order.workflow_id,
        lines=[ReturnLine(sku=item.sku, quantity=item.quantity) for item in order.items],
        reason=ReturnReason.CHANGED_MIND,
        source=ReturnSource.CANCELLATION,
        requested_at=datetime.now(UTC),
        comment=f"asked to cancel after shipment: {request.reason or 'no reason given'}"[:1000],
    )
    started = await start_return(opened)
    if started is not None:
        log.info("return_for_late_cancellation", workflow_id=started)
