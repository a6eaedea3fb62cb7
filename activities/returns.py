"""Return activities: read the order, reserve its refund, refund through the channel,
buy the return label.

The order is another workflow: it is read through its `status` query (and its start
input, which holds what was sold) and asked for a refund through its `reserve_refund`
update, with the reservation id as the update id so a retried activity gets the first
answer instead of a second reservation.
"""

from __future__ import annotations

from datetime import UTC, datetime

from temporalio import activity
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from activities.errors import partner_errors
from activities.starters import StartOrderInput
from crossdock.models import order_handlers, order_ledger
from crossdock.models.order import Channel, LineItem, Order
from crossdock.models.order_cases import RefundGrant, RefundRequest
from crossdock.models.order_states import OrderState
from crossdock.models.order_status import OrderStatus
from crossdock.models.order_steps import OrderInput, OrderResult, ShippingLabel
from crossdock.models.returns import (
    CheckRefundInput,
    IssuedRefund,
    IssueRefundInput,
    OrderSnapshot,
    ReadOrderInput,
    RefundState,
    ReplacementStarted,
    ReserveRefundInput,
    ReturnLabelInput,
    ReturnLine,
    StartReplacementInput,
)
from crossdock.money import Money
from crossdock.partners.amazon_feeds import CANCELLED, DONE, FATAL, AmazonFeedsClient
from crossdock.partners.amazon_returns import PAYMENT_ADJUSTMENT, AdjustedItem, payment_adjustment
from crossdock.partners.carrier import CarrierClient, LabelRequest
from crossdock.partners.ebay_returns import EbayRefundsClient
from crossdock.partners.payments import PaymentsClient, RefundStatus
from crossdock.replacements import replacement_order

# Stripe refund statuses in ours; requires_action waits like pending.
_STRIPE_STATES = {
    RefundStatus.PENDING: RefundState.PENDING,
    RefundStatus.REQUIRES_ACTION: RefundState.PENDING,
    RefundStatus.SUCCEEDED: RefundState.SUCCEEDED,
    RefundStatus.FAILED: RefundState.FAILED,
    RefundStatus.CANCELED: RefundState.FAILED,
}
_EBAY_STATES = {
    "PENDING": RefundState.PENDING,
    "REFUNDED": RefundState.SUCCEEDED,
    "FAILED": RefundState.FAILED,
}
REFUSED_BY_ORDER = "RefundRefusedByOrder"
BY_HAND = "RefundByHand"
ORDER_UNKNOWN = "OrderUnknown"


class ReturnActivities:
    def __init__(
        self,
        client: Client,
        payments: PaymentsClient,
        carrier: CarrierClient,
        ebay_refunds: EbayRefundsClient,
        start_order: StartOrderInput,
        amazon_feeds: AmazonFeedsClient | None = None,
    ) -> None:
        self._client = client
        self._start_order = start_order
        self._amazon = amazon_feeds
        self._payments = payments
        self._carrier = carrier
        self._ebay = ebay_refunds

    @activity.defn
    async def read_order(self, input: ReadOrderInput) -> OrderSnapshot:
        """The order as sold (its start input) and as it stands (its `status` query).

        Raises:
            ApplicationError: no such order workflow (non-retryable, type OrderUnknown).
        """
        handle = self._client.get_workflow_handle(input.order_id, result_type=OrderResult)
        try:
            status = await handle.query(order_handlers.STATUS, result_type=OrderStatus)
            order = await self._order_of(input.order_id)
        except RPCError as err:
            if err.status is not RPCStatusCode.NOT_FOUND:
                raise
            raise ApplicationError(
                f"no order workflow {input.order_id!r}: {err.message}",
                type=ORDER_UNKNOWN,
                non_retryable=True,
            ) from err
        delivered_at = next(
            (
                entry.at
                for entry in status.timeline
                if entry.event == "moved" and entry.state == OrderState.DELIVERED
            ),
            None,
        )
        paid = order_ledger.paid(status, order)
        if order.channel.collects_payment and paid.amount > order.order_total.amount:
            # Marketplaces collect the sales taxes and refund them themselves: what the
            # seller refunds on a marketplace is at most the goods and the shipping.
            paid = order.order_total
        committed = order_ledger.committed(status, paid.currency)
        return OrderSnapshot(
            order=order,
            state=status.state,
            paid=paid,
            remaining=paid - committed,
            delivered_at=delivered_at,
            authorization=status.authorization,
            landed_cost=status.landed_cost,
        )

    async def _order_of(self, order_id: str) -> Order:
        return await order_of(self._client, order_id)

    @activity.defn
    async def start_replacement(self, input: StartReplacementInput) -> ReplacementStarted:
        """Start the order that sends the returned lines again, on this worker's task
        queue, with the original's policy; its id comes from the RMA, so a retry finds it
        started.

        Raises:
            ApplicationError: a line is not on the order (non-retryable).
        """
        original = await order_input_of(self._client, input.order_id)
        try:
            order = replacement_order(original.order, input.lines, input.rma, datetime.now(UTC))
        except ValueError as err:
            raise ApplicationError(str(err), non_retryable=True) from err
        replacement = OrderInput(order=order, policy=original.policy, replacement_of=input.order_id)
        started = await self._start_order(replacement, activity.info().task_queue)
        return ReplacementStarted(workflow_id=order.workflow_id, started=started)

    @activity.defn
    async def reserve_refund(self, input: ReserveRefundInput) -> RefundGrant:
        """Ask the order to set the refund aside (never more than is left on it).

        Raises:
            ApplicationError: the order refused (non-retryable, type RefundRefusedByOrder,
                its reason as the message).
        """
        request = RefundRequest(
            case_id=input.case_id, step=input.step, amount=input.amount, reason=input.reason
        )
        handle = self._client.get_workflow_handle(input.order_id, result_type=OrderResult)
        try:
            grant: RefundGrant = await handle.execute_update(
                order_handlers.RESERVE_REFUND,
                request,
                id=request.reservation_id,
                result_type=RefundGrant,
            )
        except WorkflowUpdateFailedError as refused:
            raise ApplicationError(
                str(refused.cause or refused), type=REFUSED_BY_ORDER, non_retryable=True
            ) from refused
        except RPCError as err:
            if err.status is not RPCStatusCode.NOT_FOUND:
                raise
            raise ApplicationError(
                f"order {input.order_id} has closed: {err.message}",
                type=REFUSED_BY_ORDER,
                non_retryable=True,
            ) from err
        return grant

    @activity.defn
    async def issue_refund(self, input: IssueRefundInput) -> IssuedRefund:
        """Refund through the channel: the payment provider for the storefront, eBay's
        issueRefund, Amazon's payment adjustment feed (our key as MerchantAdjustmentID).
        Without a feeds client Amazon refunds are non-retryable type RefundByHand, so the
        workflow asks a person at once."""
        order = input.order
        with partner_errors():
            if order.channel is Channel.STOREFRONT:
                if input.intent_id is None:
                    raise ApplicationError(
                        "storefront refund without a payment intent", non_retryable=True
                    )
                refund = await self._payments.refund(
                    input.intent_id, input.amount, input.idempotency_key
                )
                return IssuedRefund(refund_id=refund.id, state=_STRIPE_STATES[refund.status])
            if order.channel is Channel.EBAY:
                found = await self._ebay.issue_refund(
                    order.channel_order_id,
                    input.amount,
                    input.reason,
                    input.idempotency_key,
                    input.line_amounts or None,
                )
                return IssuedRefund(
                    refund_id=found.refund_id or "",
                    state=_EBAY_STATES.get(found.refund_status, RefundState.PENDING),
                    detail=f"eBay {found.refund_status}",
                )
            if order.channel is Channel.AMAZON and self._amazon is not None:
                feed = payment_adjustment(
                    order.channel_order_id,
                    input.idempotency_key,
                    amazon_items(order, input.lines, input.amount),
                    reason=input.adjustment_reason,
                )
                feed_id = await self._amazon.submit(PAYMENT_ADJUSTMENT, feed)
                return IssuedRefund(
                    refund_id=feed_id, state=RefundState.PENDING, detail="adjustment feed sent"
                )
        raise ApplicationError(
            f"refund {input.amount} on {order.channel} by hand (Seller Central)",
            type=BY_HAND,
            non_retryable=True,
        )

    @activity.defn
    async def check_refund(self, input: CheckRefundInput) -> IssuedRefund:
        """Where a pending refund stands now."""
        order = input.order
        with partner_errors():
            if order.channel is Channel.STOREFRONT:
                refund = await self._payments.retrieve_refund(input.refund_id)
                return IssuedRefund(refund_id=refund.id, state=_STRIPE_STATES[refund.status])
            if order.channel is Channel.AMAZON and self._amazon is not None:
                return await self._adjustment_state(input.refund_id)
            found = await self._ebay.refund_status(order.channel_order_id, input.refund_id)
        if found is None:
            return IssuedRefund(refund_id=input.refund_id, state=RefundState.PENDING)
        return IssuedRefund(
            refund_id=input.refund_id,
            state=_EBAY_STATES.get(found.refund_status, RefundState.PENDING),
            detail=f"eBay {found.refund_status}",
        )

    async def _adjustment_state(self, feed_id: str) -> IssuedRefund:
        assert self._amazon is not None
        feed = await self._amazon.get_feed(feed_id)
        if feed.processing_status in (FATAL, CANCELLED):
            return IssuedRefund(
                refund_id=feed_id, state=RefundState.FAILED, detail=f"feed {feed.processing_status}"
            )
        if feed.processing_status != DONE:
            return IssuedRefund(refund_id=feed_id, state=RefundState.PENDING)
        errors = [r for r in await self._amazon.processing_report(feed) if r.result_code == "Error"]
        if errors:
            detail = "; ".join(f"{r.message_code}: {r.description}" for r in errors)
            return IssuedRefund(refund_id=feed_id, state=RefundState.FAILED, detail=detail[:500])
        return IssuedRefund(refund_id=feed_id, state=RefundState.SUCCEEDED, detail="feed DONE")

    @activity.defn
    async def buy_return_label(self, input: ReturnLabelInput) -> ShippingLabel:
        """A prepaid return label from the buyer's address to the warehouse, with customs
        info for the returned goods when it crosses a border."""
        items = returned_items(input.order, input.lines)
        # EasyPost's is_return keeps the outbound addresses and swaps them on the label.
        request = LabelRequest(
            reference=input.reference,
            to_address=input.order.ship_to,
            from_address=input.warehouse,
            items=items,
            weight_grams=sum(item.weight_grams * item.quantity for item in items),
            currency=input.order.currency,
            is_return=True,
        )
        with partner_errors():
            label = await self._carrier.buy_label(request, input.idempotency_key)
        return ShippingLabel(
            shipment_id=label.shipment_id,
            tracking_code=label.tracking_code,
            tracker_id=label.tracker_id,
            carrier=label.carrier,
            service=label.service,
            cost=label.rate,
            label_url=label.label_url,
        )


async def order_of(client: Client, order_id: str) -> Order:
    """The order as sold: the order workflow's start input (its status query does not
    carry the order itself)."""
    return (await order_input_of(client, order_id)).order


async def order_input_of(client: Client, order_id: str) -> OrderInput:
    """The order workflow's start input: the order as sold and its policy."""
    handle = client.get_workflow_handle(order_id)
    async for event in handle.fetch_history_events():
        if event.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED:
            payloads = event.workflow_execution_started_event_attributes.input.payloads
            [started] = await client.data_converter.decode(payloads, [OrderInput])
            assert isinstance(started, OrderInput)
            return started
    raise ApplicationError(f"order workflow {order_id!r} has no start event", type=ORDER_UNKNOWN)


def amazon_items(order: Order, lines: list[ReturnLine], amount: Money) -> list[AdjustedItem]:
    """`amount` spread over the returned items: their price first, the rest as shipping
    (Amazon carries an order's shipping on its first item)."""
    left = amount.amount
    quantities = {line.sku: line.quantity for line in lines}
    principal: dict[str, int] = {}
    for item in order.items:
        if item.sku in quantities and left > 0:
            principal[item.line_id] = min(left, item.unit_price.amount * quantities[item.sku])
            left -= principal[item.line_id]
    first = order.items[0].line_id
    shipping = min(left, order.shipping.amount)
    left -= shipping
    if left > 0:
        raise ApplicationError(
            f"refund {amount} is more than the returned items and shipping of order "
            f"{order.channel_order_id}",
            type="RefundNotAllocatable",
            non_retryable=True,
        )
    currency = order.currency
    ids = list(principal) + ([first] if shipping and first not in principal else [])
    return [
        AdjustedItem(
            order_item_id=item_id,
            principal=Money(amount=principal.get(item_id, 0), currency=currency),
            shipping=Money(amount=shipping, currency=currency) if item_id == first else None,
        )
        for item_id in ids
    ]


def returned_items(order: Order, lines: list[ReturnLine]) -> list[LineItem]:
    """The order's items as they come back: returned quantities only."""
    quantities = {line.sku: line.quantity for line in lines}
    return [
        item.model_copy(update={"quantity": quantities[item.sku]})
        for item in order.items
        if item.sku in quantities
    ]
