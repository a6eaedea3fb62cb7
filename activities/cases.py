"""Case activities: find a buyer's order, read its live facts, suggest a reply in the
buyer's language, and act on the order through its own updates.

The order is read through its `status` query and its start input (the order as sold),
by workflow id and result type, so this module does not import the order workflow.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

from temporalio import activity
from temporalio.client import Client, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from activities.returns import order_input_of, order_of
from crossdock.identity.claims import ClaimSigner
from crossdock.messages import language_for
from crossdock.messages.intents import Intent
from crossdock.messages.render import render
from crossdock.models.case import (
    CaseActionKind,
    CaseActionReceipt,
    FindOrderInput,
    OrderActionInput,
    OrderFacts,
    SuggestedReply,
    SuggestReplyInput,
)
from crossdock.models.notify import NotificationTemplate
from crossdock.models.order import Incoterm, Order
from crossdock.models.order_states import OrderState
from crossdock.models.order_status import OrderStatus
from crossdock.models.order_steps import (
    AddressCorrection,
    CancelReceipt,
    CancelRequest,
    CorrectionReceipt,
)
from crossdock.models.returns import ReturnLine, ReturnRequest, ReturnSource

# Starts a return's workflow; None when one with its id exists already
# (`starter.returns.ReturnStarter`, injected by worker.py).
StartReturn = Callable[[ReturnRequest], Awaitable[str | None]]

ORDER_UNKNOWN = "OrderUnknown"
# Orders scanned when a buyer gives only a tracking number or an e-mail address.
SCAN_LIMIT = 200
SHIPPED = {
    OrderState.SHIPMENT_CONFIRMED,
    OrderState.PAYMENT_CAPTURED,
    OrderState.IN_TRANSIT,
    OrderState.BACKORDERED,
}
TRACKING_PAGE = "https://track.easypost.com/{tracker_id}"


def facts_of(workflow_id: str, order: Order, status: OrderStatus) -> OrderFacts:
    label = status.label
    quote = status.landed_cost
    duties = None
    if quote is not None and order.incoterm is Incoterm.DAP:
        due = quote.duties + quote.taxes - quote.due_at_checkout
        duties = due if due.amount > 0 else None
    return OrderFacts(
        order_workflow_id=workflow_id,
        channel_order_id=order.channel_order_id,
        state=status.state,
        country=order.ship_to.country,
        language=language_for(order.ship_to.country, order.buyer.language),
        carrier=label.carrier if label else "",
        tracking_code=label.tracking_code if label else "",
        tracker_id=label.tracker_id if label else "",
        last_scan_at=status.last_scan_at,
        last_scan=status.tracking_status,
        expected_delivery=order.deliver_by.date(),
        duties_due=duties,
        refunded=status.refunded,
        buyer_email=order.buyer.email,
        currency=order.currency,
    )


def suggestion(intent: Intent, facts: OrderFacts | None, language: str) -> SuggestedReply:
    """A reply from the order's live facts, in `language`; `clear` when it answers the
    question fully (a parcel with tracking, a delivered order)."""
    if facts is None:
        return SuggestedReply(text="", language=language)
    template, clear = _template_for(intent, facts)
    params = {
        "order_ref": facts.channel_order_id,
        "carrier": facts.carrier,
        "tracking_code": facts.tracking_code,
        "tracking_url": TRACKING_PAGE.format(tracker_id=facts.tracker_id),
    }
    amounts = {"duties": facts.duties_due} if facts.duties_due else {}
    dates = {"expected_delivery": facts.expected_delivery} if facts.expected_delivery else {}
    message = render(
        template.value,
        language,
        facts.country,
        params=params,
        amounts=amounts,
        dates=dates,
        terms={},
    )
    return SuggestedReply(text=message.body, language=language, clear=clear)


def _template_for(intent: Intent, facts: OrderFacts) -> tuple[NotificationTemplate, bool]:
    state = OrderState(facts.state)
    if intent is Intent.CUSTOMS_CHARGES and facts.duties_due and facts.tracked:
        return NotificationTemplate.DUTIES_DUE, False
    if state is OrderState.CUSTOMS_HOLD:
        return NotificationTemplate.HELD_IN_CUSTOMS, intent is Intent.WHERE_IS_MY_ORDER
    if state is OrderState.DELIVERED or state is OrderState.COMPLETED:
        return NotificationTemplate.DELIVERED, intent is Intent.WHERE_IS_MY_ORDER
    if state in SHIPPED and facts.tracked:
        return NotificationTemplate.SHIPPED, intent is Intent.WHERE_IS_MY_ORDER
    if state is OrderState.DELAYED and facts.tracked:
        return NotificationTemplate.DELIVERY_DELAYED, False
    return NotificationTemplate.ORDER_CONFIRMED, False


class CaseActivities:
    def __init__(
        self,
        client: Client,
        signer: ClaimSigner | None = None,
        start_return: StartReturn | None = None,
    ) -> None:
        self._client = client
        self._signer = signer
        self._start_return = start_return

    @activity.defn
    async def find_order(self, input: FindOrderInput) -> str:
        """The order workflow's id: by the channel's order id, else by tracking number or
        e-mail among recent orders; "" when none matches."""
        if input.order_id:
            workflow_id = f"order-{input.channel}-{input.order_id}"
            try:
                await self._client.get_workflow_handle(workflow_id).describe()
            except RPCError as err:
                if err.status is RPCStatusCode.NOT_FOUND:
                    return ""
                raise
            return workflow_id
        if not (input.tracking_code or input.email):
            return ""
        since = (datetime.now(UTC) - timedelta(days=90)).isoformat()
        query = f"WorkflowType = 'OrderWorkflow' AND StartTime > '{since}'"
        prefix = f"order-{input.channel}-"
        async for execution in self._client.list_workflows(query, limit=SCAN_LIMIT):
            if execution.id.startswith(prefix) and await self._matches(execution.id, input):
                return execution.id
        return ""

    async def _matches(self, workflow_id: str, input: FindOrderInput) -> bool:
        handle = self._client.get_workflow_handle(workflow_id)
        if input.tracking_code:
            status = await handle.query("status", result_type=OrderStatus)
            codes = {p.label.tracking_code for p in status.parcels}
            codes |= {status.label.tracking_code} if status.label else set()
            return input.tracking_code in codes
        order = (await order_input_of(self._client, workflow_id)).order
        return order.buyer.email.casefold() == input.email.casefold()

    @activity.defn
    async def order_facts(self, order_workflow_id: str) -> OrderFacts:
        """The order's live facts: its status query and the order as sold."""
        handle = self._client.get_workflow_handle(order_workflow_id)
        try:
            status = await handle.query("status", result_type=OrderStatus)
            order = (await order_input_of(self._client, order_workflow_id)).order
        except RPCError as err:
            if err.status is not RPCStatusCode.NOT_FOUND:
                raise
            raise ApplicationError(
                f"no order workflow {order_workflow_id!r}", type=ORDER_UNKNOWN, non_retryable=True
            ) from err
        return facts_of(order_workflow_id, order, status)

    @activity.defn
    async def act_on_order(self, input: OrderActionInput) -> CaseActionReceipt:
        """Carry out a case action through the lifecycle's own update (cancel, correct
        the address) or start (open a return); a refusal (the order shipped already) is
        the receipt's answer, not an error."""
        action = input.action
        if action.kind is CaseActionKind.OPEN_RETURN:
            return await self._open_return(input)
        if action.kind not in (CaseActionKind.CANCEL_ORDER, CaseActionKind.CORRECT_ADDRESS):
            raise ApplicationError(f"{action.kind} is not carried out here", non_retryable=True)
        by = action.by
        if self._signer is not None:
            by = self._signer.sign(by, input.order_workflow_id)
        handle = self._client.get_workflow_handle(input.order_workflow_id)
        try:
            if action.kind is CaseActionKind.CANCEL_ORDER:
                cancelled = await handle.execute_update(
                    "cancel",
                    CancelRequest(reason=action.reason, by=by),
                    result_type=CancelReceipt,
                    id=input.idempotency_key,
                )
                return CaseActionReceipt(kind=action.kind, accepted=True, detail=cancelled.note)
            assert action.address is not None  # CaseAction's own check
            corrected = await handle.execute_update(
                "correct_address",
                AddressCorrection(address=action.address, by=by),
                result_type=CorrectionReceipt,
                id=input.idempotency_key,
            )
        except WorkflowUpdateFailedError as err:
            return CaseActionReceipt(kind=action.kind, accepted=False, detail=str(err.cause or err))
        return CaseActionReceipt(kind=action.kind, accepted=True, detail=corrected.note)

    async def _open_return(self, input: OrderActionInput) -> CaseActionReceipt:
        """An operator's return for the order: the lines asked, else every line. The
        RMA comes from the case, so a retry finds the return it started."""
        action = input.action
        if self._start_return is None:
            raise ApplicationError("this worker cannot start returns", non_retryable=True)
        order = await order_of(self._client, input.order_workflow_id)
        lines = action.lines or [
            ReturnLine(sku=item.sku, quantity=item.quantity) for item in order.items
        ]
        assert action.return_reason is not None  # CaseAction's own check
        try:
            request = ReturnRequest(
                channel=order.channel,
                rma=input.rma,
                order_id=input.order_workflow_id,
                lines=lines,
                reason=action.return_reason,
                source=ReturnSource.OPERATOR,
                requested_at=datetime.now(UTC),
                comment=action.reason,
                requested_by=action.by,
            )
        except ValueError as err:
            return CaseActionReceipt(kind=action.kind, accepted=False, detail=str(err))
        started = await self._start_return(request)
        verb = "opened" if started else "open already"
        return CaseActionReceipt(
            kind=action.kind,
            accepted=True,
            detail=f"return {request.rma} {verb}",
            workflow_id=request.workflow_id,
        )

    @activity.defn
    async def suggest_reply(self, input: SuggestReplyInput) -> SuggestedReply:
        """The reply a person would start from, from the order's live facts."""
        return suggestion(input.intent, input.facts, input.language)
