"""Returns in `make run`: some buyers send delivered orders back, and a demo warehouse and
demo operators act on them through the same updates and signals the console will use:

- about a third of delivered orders get a return (changed mind, damaged, not as
  described, not received): eBay buyers ask on eBay (the sandbox's Post-Order returns),
  Amazon buyers on Amazon (the sandbox's returns report), both found by the
  return-request pollers; storefront returns are opened as intake would;
- returns waiting for a decision: most approved (finance approves the large ones), some
  offered a partial refund (the buyer accepts half of the offers), some declined, some
  left waiting (reminded, escalated, then accepted at the deadline as marketplaces do);
- parcels back at the warehouse are inspected: mostly accepted, some damaged (written
  off), now and then a wrong item (an operator decides).
"""

from __future__ import annotations

import asyncio
import itertools
import random
from datetime import UTC, datetime
from typing import Any

import httpx
import structlog
from temporalio.client import Client, WorkflowHandle, WorkflowUpdateFailedError

from activities.returns import order_of
from crossdock.config import Settings
from crossdock.identity.claims import ClaimSigner
from crossdock.models.approval import Decision, DecisionAction, Principal, Role
from crossdock.models.order import Channel, Order
from crossdock.models.order_states import OrderState
from crossdock.models.return_states import ReturnState
from crossdock.models.returns import (
    InspectedLine,
    Inspection,
    InspectionVerdict,
    OfferAnswer,
    ReturnLine,
    ReturnOption,
    ReturnReason,
    ReturnRequest,
    ReturnResult,
    ReturnSource,
)
from crossdock.money import Money
from starter.returns import start_return
from workflows.return_questions import REFUNDED_BY_HAND
from workflows.returns import ReturnWorkflow

log = structlog.get_logger(__name__)

OPERATOR = Principal(id="demo-returns", role=Role.OPERATOR)
FINANCE = Principal(id="demo-finance", role=Role.FINANCE)
WAREHOUSE = Principal(id="demo-warehouse", role=Role.OPERATOR)
LOOK_EVERY_SECONDS = 6.0
# What a buyer picks on eBay for each of our reasons.
EBAY_REASONS = {
    ReturnReason.CHANGED_MIND: "NO_LONGER_NEED",
    ReturnReason.DAMAGED: "ARRIVED_DAMAGED",
    ReturnReason.NOT_AS_DESCRIBED: "NOT_AS_DESCRIBED",
    ReturnReason.WRONG_ITEM: "WRONG_ITEM",
    ReturnReason.NOT_RECEIVED: "NOT_AS_DESCRIBED",
}
# What a buyer picks on Amazon (a return reason code) for each of our reasons.
AMAZON_REASONS = {
    ReturnReason.CHANGED_MIND: "CR-UNWANTED_ITEM",
    ReturnReason.DAMAGED: "CR-DEFECTIVE",
    ReturnReason.NOT_AS_DESCRIBED: "AMZ-PG-BAD-DESC",
    ReturnReason.WRONG_ITEM: "CR-WRONG_ITEM",
    ReturnReason.NOT_RECEIVED: "CR-MISSED_ESTIMATED_DELIVERY",
}
REASONS: tuple[tuple[ReturnReason, float], ...] = (
    (ReturnReason.CHANGED_MIND, 0.45),
    (ReturnReason.DAMAGED, 0.2),
    (ReturnReason.NOT_AS_DESCRIBED, 0.2),
    (ReturnReason.NOT_RECEIVED, 0.15),
)


class DemoReturns:
    def __init__(
        self,
        client: Client,
        settings: Settings,
        seed: int,
        return_share: float = 0.35,
        signer: ClaimSigner | None = None,
        look_every_seconds: float = LOOK_EVERY_SECONDS,
    ) -> None:
        self._look_every = look_every_seconds
        self._client = client
        self._settings = settings
        self._random = random.Random(seed)
        self._share = return_share
        self._signer = signer
        self._seen: set[str] = set()
        self._numbers = itertools.count(1)

    def _by(self, who: Principal, workflow_id: str) -> Principal:
        return self._signer.sign(who, workflow_id) if self._signer else who

    async def run(self) -> None:
        """Look at delivered orders and open returns every few seconds, until cancelled."""
        while True:
            await asyncio.sleep(self._look_every)
            for step in (self._open_returns, self._decide, self._answer_offers, self._inspect):
                try:
                    await step()
                except Exception as err:  # a demo helper must not stop the feed
                    log.warning("demo_returns_failed", step=step.__name__, error=str(err))

    async def _running(self, workflow_type: str, state: str) -> list[str]:
        query = f'WorkflowType="{workflow_type}" AND CrossdockState="{state}"'
        query += ' AND ExecutionStatus="Running"'
        return [execution.id async for execution in self._client.list_workflows(query)]

    async def _open_returns(self) -> None:
        for order_id in await self._running("OrderWorkflow", OrderState.DELIVERED):
            if order_id in self._seen:
                continue
            self._seen.add(order_id)
            if self._random.random() >= self._share:
                continue
            order = await order_of(self._client, order_id)
            request = self._request(order)
            if order.channel is Channel.EBAY:
                # eBay buyers ask on eBay: the return-request poller finds it there.
                await self._ask_on_ebay(order, request)
                continue
            if order.channel is Channel.AMAZON:
                await self._ask_on_amazon(order, request)
                continue
            handle = await start_return(
                self._client, self._settings, request, self._settings.return_timers
            )
            if handle is not None:
                log.info("demo_return_opened", workflow_id=handle.id, reason=request.reason)

    async def _ask_on_ebay(self, order: Order, request: ReturnRequest) -> None:
        [line] = request.lines
        item = next(i for i in order.items if i.sku == line.sku)
        async with httpx.AsyncClient(base_url=self._settings.sandbox_url, timeout=10) as http:
            response = await http.post(
                f"/ebay/_sandbox/orders/{order.channel_order_id}/buyer-return",
                json={
                    "lineItemId": item.line_id,
                    "quantity": line.quantity,
                    "reason": EBAY_REASONS[request.reason],
                },
            )
            response.raise_for_status()
        log.info("demo_return_asked_on_ebay", order=order.workflow_id, reason=request.reason)

    async def _ask_on_amazon(self, order: Order, request: ReturnRequest) -> None:
        [line] = request.lines
        async with httpx.AsyncClient(base_url=self._settings.sandbox_url, timeout=10) as http:
            response = await http.post(
                f"/amazon/_sandbox/orders/{order.channel_order_id}/buyer-return",
                json={
                    "sku": line.sku,
                    "quantity": line.quantity,
                    "reason": AMAZON_REASONS[request.reason],
                },
            )
            response.raise_for_status()
        log.info("demo_return_asked_on_amazon", order=order.workflow_id, reason=request.reason)

    def _request(self, order: Order) -> ReturnRequest:
        reasons = [reason for reason, _ in REASONS]
        weights = [weight for _, weight in REASONS]
        item = self._random.choice(order.items)
        return ReturnRequest(
            channel=order.channel,
            rma=f"{order.channel_order_id}-R{next(self._numbers)}",
            order_id=order.workflow_id,
            lines=[ReturnLine(sku=item.sku, quantity=self._random.randint(1, item.quantity))],
            reason=self._random.choices(reasons, weights)[0],
            source=ReturnSource.MARKETPLACE,
            requested_at=datetime.now(UTC),
        )

    async def _decide(self) -> None:
        states = (
            ReturnState.IN_REVIEW,
            ReturnState.IN_TRANSIT,  # a return parcel gone missing
            ReturnState.INSPECTED,
            ReturnState.REFUND_FAILED,
            ReturnState.REFUND_UNCONFIRMED,
        )
        for state in states:
            for workflow_id in await self._running("ReturnWorkflow", state):
                await self._decide_one(workflow_id)

    async def _decide_one(self, workflow_id: str) -> None:
        handle = self._handle(workflow_id)
        status = await handle.query(ReturnWorkflow.status)
        pending = status.approvals[-1] if status.approvals else None
        # Each question is looked at once (some are left waiting on purpose).
        if pending is None or not pending.pending:
            return
        seen = f"{workflow_id}/{pending.request.key}"
        if seen in self._seen:
            return
        self._seen.add(seen)
        request = pending.request
        roll = self._random.random()
        if roll < 0.2:
            return  # left waiting: reminders, escalation, then the deadline's policy
        who = FINANCE if request.finance_threshold is not None else OPERATOR
        option = request.options[0] if request.options else ""
        if REFUNDED_BY_HAND in request.options:
            # Amazon refunds are made in Seller Central: the operator did it, says so.
            option = REFUNDED_BY_HAND
        decision = Decision(
            key=request.key,
            action=DecisionAction.APPROVE,
            option=option,
            by=self._by(who, workflow_id),
            reason="checked the photos and the order",
        )
        if roll < 0.35 and request.key == "decision":
            decision = decision.model_copy(
                update={"action": DecisionAction.REJECT, "option": "", "reason": "used, not faulty"}
            )
        elif roll < 0.55 and ReturnOption.PARTIAL_OFFER in request.options and request.amount:
            half = Money(amount=request.amount.amount // 2, currency=request.amount.currency)
            if half.amount > 0:
                update = {"option": ReturnOption.PARTIAL_OFFER.value, "amount": half}
                decision = decision.model_copy(update=update)
        try:
            await handle.execute_update(ReturnWorkflow.decide, decision)
        except WorkflowUpdateFailedError as refused:
            log.info("demo_return_decision_refused", workflow_id=workflow_id, why=str(refused))

    def _handle(self, workflow_id: str) -> WorkflowHandle[Any, ReturnResult]:
        return self._client.get_workflow_handle(workflow_id, result_type=ReturnResult)

    async def _answer_offers(self) -> None:
        for workflow_id in await self._running("ReturnWorkflow", ReturnState.OFFERED):
            if f"{workflow_id}/offer" in self._seen:
                continue
            self._seen.add(f"{workflow_id}/offer")
            handle = self._handle(workflow_id)
            accepted = self._random.random() < 0.5
            await handle.signal(ReturnWorkflow.answer_offer, OfferAnswer(accepted=accepted))

    async def _inspect(self) -> None:
        for workflow_id in await self._running("ReturnWorkflow", ReturnState.RECEIVED):
            if f"{workflow_id}/inspect" in self._seen:
                continue
            self._seen.add(f"{workflow_id}/inspect")
            handle = self._handle(workflow_id)
            status = await handle.query(ReturnWorkflow.status)
            if status.inspection is not None:
                continue
            lines = [
                InspectedLine(sku=line.sku, verdict=self._verdict())
                for line in status.request.lines
            ]
            try:
                await handle.execute_update(
                    ReturnWorkflow.inspect,
                    Inspection(lines=lines, by=self._by(WAREHOUSE, workflow_id)),
                )
            except WorkflowUpdateFailedError as refused:
                log.info("demo_inspection_refused", workflow_id=workflow_id, why=str(refused))

    def _verdict(self) -> InspectionVerdict:
        roll = self._random.random()
        if roll < 0.75:
            return InspectionVerdict.ACCEPTED
        return InspectionVerdict.DAMAGED if roll < 0.93 else InspectionVerdict.WRONG_ITEM
