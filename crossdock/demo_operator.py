"""A demo operator acting in `make run` as a person would, through the same workflow
updates the console will use:

- orders in review: most approved, some rejected with a reason, some left waiting (they
  are reminded, escalated and finally cancelled by the review's deadline);
- orders stuck in a customs hold: now and then the buyer gives up and the operator
  cancels (the order's side effects are compensated);
- parcel exceptions: an undeliverable address is corrected and the parcel reshipped; a
  lost parcel is reshipped or refunded; some are left to the deadline (refunded).
"""

from __future__ import annotations

import asyncio
import random
from typing import Any

import structlog
from temporalio.client import Client, WorkflowHandle, WorkflowUpdateFailedError

from crossdock.audit.attempts import attempt_update
from crossdock.audit.log import AuditLog
from crossdock.identity.claims import ClaimSigner
from crossdock.models.approval import Decision, DecisionAction, Principal, Role
from crossdock.models.order import Address
from crossdock.models.order_states import OrderState
from crossdock.models.order_steps import AddressCorrection, CancelRequest, OrderResult
from workflows.order import OrderWorkflow

log = structlog.get_logger(__name__)

DEMO_OPERATOR = Principal(id="demo-operator", role=Role.OPERATOR)
LOOK_EVERY_SECONDS = 8.0


class DemoOperator:
    def __init__(
        self,
        client: Client,
        seed: int,
        cancel_share: float = 0.35,
        signer: ClaimSigner | None = None,
        audit: AuditLog | None = None,
        look_every_seconds: float = LOOK_EVERY_SECONDS,
    ) -> None:
        self._look_every = look_every_seconds
        self._client = client
        # Signs the demo operator's principal as the console signs a logged-in operator's,
        # and records every attempt in the audit log as the console does.
        self._signer = signer
        self._audit = audit
        self._random = random.Random(seed)
        self._cancel_share = cancel_share
        self._seen: set[str] = set()

    async def _send(self, handle: WorkflowHandle[Any, Any], update: Any, request: Any) -> Any:
        if self._audit is None:
            return await handle.execute_update(update, request)
        return await attempt_update(handle, update, request, self._audit)

    def _by(self, workflow_id: str) -> Principal:
        return self._signer.sign(DEMO_OPERATOR, workflow_id) if self._signer else DEMO_OPERATOR

    async def run(self) -> None:
        """Look at the held orders every few seconds, until cancelled."""
        while True:
            await asyncio.sleep(self._look_every)
            try:
                await self._look_at_reviews()
                await self._look_at_customs_holds()
                await self._look_at_exceptions()
            except Exception as err:  # a demo helper must not stop the feed
                log.warning("demo_operator_failed", error=str(err))

    async def _look_at_reviews(self) -> None:
        query = f'WorkflowType="OrderWorkflow" AND CrossdockState="{OrderState.IN_REVIEW}"'
        async for execution in self._client.list_workflows(query):
            if execution.id in self._seen:
                continue
            self._seen.add(execution.id)
            roll = self._random.random()
            if roll < 0.6:
                await self._decide(execution.id, DecisionAction.APPROVE, "checked: genuine buyer")
            elif roll < 0.85:
                await self._decide(execution.id, DecisionAction.REJECT, "could not verify buyer")
            # else: left waiting, to show reminders, escalation and the auto-cancel

    async def _look_at_exceptions(self) -> None:
        query = f'WorkflowType="OrderWorkflow" AND CrossdockState="{OrderState.EXCEPTION}"'
        async for execution in self._client.list_workflows(query):
            handle = self._client.get_workflow_handle(execution.id, result_type=OrderResult)
            status = await handle.query(OrderWorkflow.status)
            pending = status.approvals[-1] if status.approvals else None
            if pending is None or not pending.pending or pending.request.key in self._seen:
                continue
            if not pending.request.key.startswith("exception-"):
                continue  # a partner's refusal put to a person: left for a real one
            self._seen.add(pending.request.key)
            if self._random.random() < 0.2:
                continue  # left to its deadline: the buyer is refunded
            option = "reship" if self._random.random() < 0.6 else "refund"
            if option == "reship" and status.tracking_exception == "failure":
                await self._correct_address(execution.id, status.ship_to)
            await self._decide(
                execution.id, DecisionAction.APPROVE, option, key=pending.request.key, option=option
            )

    async def _correct_address(self, workflow_id: str, ship_to: Address | None) -> None:
        """The buyer confirmed the address with an access note; the carrier will manage."""
        if ship_to is None:
            return
        corrected = ship_to.model_copy(update={"line2": "Side entrance, ring twice"})
        handle = self._client.get_workflow_handle(workflow_id, result_type=OrderResult)
        await self._send(
            handle,
            OrderWorkflow.correct_address,
            AddressCorrection(address=corrected, by=self._by(workflow_id)),
        )

    async def _decide(
        self,
        workflow_id: str,
        action: DecisionAction,
        reason: str,
        *,
        key: str = "review",
        option: str = "",
    ) -> None:
        handle = self._client.get_workflow_handle(workflow_id, result_type=OrderResult)
        decision = Decision(
            key=key, action=action, reason=reason, option=option, by=self._by(workflow_id)
        )
        try:
            await self._send(handle, OrderWorkflow.decide, decision)
        except WorkflowUpdateFailedError as refused:
            log.info("demo_decision_refused", workflow_id=workflow_id, why=str(refused.cause))
            return
        log.info("demo_decision", workflow_id=workflow_id, action=action)

    async def _look_at_customs_holds(self) -> None:
        query = f'WorkflowType="OrderWorkflow" AND CrossdockState="{OrderState.CUSTOMS_HOLD}"'
        async for execution in self._client.list_workflows(query):
            if execution.id in self._seen:
                continue
            self._seen.add(execution.id)
            if self._random.random() < self._cancel_share:
                await self._cancel(execution.id, "buyer gave up waiting for customs")

    async def _cancel(self, workflow_id: str, reason: str) -> None:
        handle = self._client.get_workflow_handle(workflow_id, result_type=OrderResult)
        request = CancelRequest(reason=reason, by=self._by(workflow_id))
        try:
            receipt = await self._send(handle, OrderWorkflow.cancel, request)
        except WorkflowUpdateFailedError as refused:
            log.info("demo_cancel_refused", workflow_id=workflow_id, why=str(refused.cause))
            return
        log.info("demo_cancel_accepted", workflow_id=workflow_id, state=receipt.accepted_in_state)
