"""OrderWorkflow: one order from receipt to the end of its return window (design §3).

The workflow is the order lifecycle table plus the waiting. Every partner call is an
activity with an idempotency key derived from the workflow id and the step, so retries,
worker crashes and replays can never charge, declare, label or confirm twice.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from activities.carrier import CarrierActivities
    from activities.customs import CustomsActivities
    from activities.marketplace import MarketplaceActivities
    from activities.payments import PaymentActivities
    from crossdock.models.order import Channel, Order
    from crossdock.models.order_steps import (
        AuthorizePaymentInput,
        BuyLabelInput,
        CancelDeclarationInput,
        CapturePaymentInput,
        ConfirmShipmentInput,
        FileDeclarationInput,
        OrderInput,
        OrderResult,
        QuoteLandedCostInput,
        TrackingUpdate,
        VerifyMarketplacePaymentInput,
        VoidAuthorizationInput,
        VoidLabelInput,
    )
    from workflows.lifecycle import TimelineEntry
    from workflows.options import P, R, call_partner
    from workflows.order_states import ORDER_LIFECYCLE, OrderState
    from workflows.order_status import TRACKING_PROGRESS, OrderStatus
    from workflows.saga import Saga
    from workflows.search import CROSSDOCK_STATE


class OrderRejected(Exception):
    """A business refusal (card declined, goods not importable, ...): cancel the order."""


@workflow.defn
class OrderWorkflow:
    @workflow.init
    def __init__(self, input: OrderInput) -> None:
        self._input = input
        self._status = OrderStatus()
        self._saga = Saga()

    @workflow.run
    async def run(self, input: OrderInput) -> OrderResult:
        order = input.order
        self._note("received", f"{order.channel} order, {len(order.items)} line(s)")
        try:
            await self._validate(order)
            await self._secure_payment(order)
            await self._declare(order)
            await self._buy_label(order)
            await self._confirm_shipment(order)
        except OrderRejected as rejection:
            return await self._cancel(str(rejection))
        # The goods are on their way: nothing before this point may be undone any more.
        self._saga.clear()
        if order.channel is Channel.STOREFRONT:
            await self._capture_payment()
        await self._follow_tracking()
        await workflow.sleep(timedelta(seconds=input.policy.return_window_seconds))
        self._move(OrderState.COMPLETED, "return window ended")
        return OrderResult(state=self._status.state, captured=self._status.captured)

    @workflow.signal
    def tracking_update(self, update: TrackingUpdate) -> None:
        """A carrier event; duplicates and stale (out-of-order) events change nothing."""
        status = self._status
        if update.event_id in status.tracking_events_seen:
            return
        status.tracking_events_seen.append(update.event_id)
        if update.status not in TRACKING_PROGRESS:
            self._note("tracking_update", f"{update.status}: {update.description}")
            return
        if TRACKING_PROGRESS.index(update.status) > status.tracking_rank():
            status.tracking_status = update.status
            self._note("tracking_update", f"{update.status}: {update.description}")

    @workflow.query
    def status(self) -> OrderStatus:
        """Live state, amounts, partner references and timeline."""
        return self._status

    # -- steps ---------------------------------------------------------------------

    async def _validate(self, order: Order) -> None:
        quote = await self._call(
            CustomsActivities.quote_landed_cost, QuoteLandedCostInput(order=order)
        )
        self._status.landed_cost = quote
        self._status.amount_due = order.order_total + quote.due_at_checkout
        self._move(
            OrderState.VALIDATED,
            f"{quote.regime}: duties {quote.duties}, taxes {quote.taxes}, "
            f"buyer owes {self._status.amount_due}",
        )

    async def _secure_payment(self, order: Order) -> None:
        if order.channel.collects_payment:
            payment = await self._call(
                MarketplaceActivities.verify_marketplace_payment,
                VerifyMarketplacePaymentInput(
                    channel=order.channel, channel_order_id=order.channel_order_id
                ),
            )
            if not payment.paid:
                raise OrderRejected(f"{order.channel} reports the order unpaid ({payment.status})")
            self._move(OrderState.PAYMENT_SECURED, f"paid on {order.channel}")
            return
        assert order.payment_method is not None  # the Order contract guarantees it
        amount_due = self._status.amount_due
        assert amount_due is not None
        authorization = await self._call(
            PaymentActivities.authorize_payment,
            AuthorizePaymentInput(
                reference=self._workflow_id,
                amount=amount_due,
                payment_method=order.payment_method,
                idempotency_key=self._key("authorize"),
            ),
        )
        self._status.authorization = authorization
        self._saga.add(
            "void_authorization",
            lambda: call_partner(
                PaymentActivities.void_authorization,
                VoidAuthorizationInput(
                    intent_id=authorization.intent_id, idempotency_key=self._key("void")
                ),
            ),
        )
        self._move(OrderState.PAYMENT_SECURED, f"authorized {authorization.amount}")

    async def _declare(self, order: Order) -> None:
        quote = self._status.landed_cost
        assert quote is not None
        declaration = await self._call(
            CustomsActivities.file_declaration,
            FileDeclarationInput(
                reference=self._workflow_id,
                order=order,
                quote_id=quote.quote_id,
                idempotency_key=self._key("declare"),
            ),
        )
        self._status.declaration = declaration
        self._saga.add(
            "cancel_declaration",
            lambda: call_partner(
                CustomsActivities.cancel_declaration,
                CancelDeclarationInput(
                    declaration_id=declaration.declaration_id,
                    idempotency_key=self._key("cancel-declaration"),
                ),
            ),
        )
        self._move(OrderState.CUSTOMS_DECLARED, f"declaration {declaration.mrn}")

    async def _buy_label(self, order: Order) -> None:
        label = await self._call(
            CarrierActivities.buy_label,
            BuyLabelInput(
                reference=self._workflow_id,
                order=order,
                ship_from=self._input.policy.ship_from,
                idempotency_key=self._key("label"),
            ),
        )
        self._status.label = label
        self._saga.add(
            "void_label",
            lambda: call_partner(
                CarrierActivities.void_label,
                VoidLabelInput(
                    shipment_id=label.shipment_id, idempotency_key=self._key("void-label")
                ),
            ),
        )
        self._move(
            OrderState.LABEL_BOUGHT, f"{label.carrier} {label.service} {label.tracking_code}"
        )

    async def _confirm_shipment(self, order: Order) -> None:
        label = self._status.label
        assert label is not None
        confirmation = await self._call(
            MarketplaceActivities.confirm_shipment,
            ConfirmShipmentInput(
                order=order,
                tracking_code=label.tracking_code,
                carrier=label.carrier,
                shipped_at=workflow.now(),
                idempotency_key=self._key("confirm"),
            ),
        )
        self._move(
            OrderState.SHIPMENT_CONFIRMED,
            f"confirmed to {order.channel} ({confirmation.confirmation_id})",
        )

    async def _capture_payment(self) -> None:
        authorization = self._status.authorization
        assert authorization is not None
        capture = await self._call(
            PaymentActivities.capture_payment,
            CapturePaymentInput(
                intent_id=authorization.intent_id,
                amount=authorization.amount,
                idempotency_key=self._key("capture"),
            ),
        )
        self._status.captured = capture.captured
        self._move(OrderState.PAYMENT_CAPTURED, f"captured {capture.captured}")

    async def _follow_tracking(self) -> None:
        await workflow.wait_condition(
            lambda: self._status.tracking_rank() >= TRACKING_PROGRESS.index("in_transit")
        )
        self._move(OrderState.IN_TRANSIT)
        await workflow.wait_condition(lambda: self._status.tracking_status == "delivered")
        self._move(OrderState.DELIVERED)

    async def _cancel(self, reason: str) -> OrderResult:
        self._status.reason = reason
        undone = await self._saga.compensate()
        self._move(OrderState.CANCELLED, f"{reason}; undone: {', '.join(undone) or 'nothing'}")
        return OrderResult(state=self._status.state, reason=reason)

    # -- mechanics -----------------------------------------------------------------

    @property
    def _workflow_id(self) -> str:
        return workflow.info().workflow_id

    def _key(self, step: str) -> str:
        """Idempotency key for one side effect: stable across retries, crashes, replays."""
        return f"{self._workflow_id}/{step}"

    async def _call(self, activity: Callable[[Any, P], Awaitable[R]], arg: P) -> R:
        """Run a partner activity; a business rejection becomes `OrderRejected`."""
        try:
            return await call_partner(activity, arg)
        except ActivityError as err:
            cause = err.cause
            if isinstance(cause, ApplicationError) and cause.non_retryable:
                raise OrderRejected(cause.message) from err
            raise

    def _move(self, target: OrderState, detail: str = "") -> None:
        ORDER_LIFECYCLE.check(self._status.state, target)
        self._status.state = target
        self._note("moved", detail)
        workflow.upsert_search_attributes([CROSSDOCK_STATE.value_set(target.value)])

    def _note(self, event: str, detail: str = "") -> None:
        self._status.timeline.append(
            TimelineEntry(at=workflow.now(), event=event, state=self._status.state, detail=detail)
        )
