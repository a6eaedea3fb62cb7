"""Buyers writing in `make run`, in their own languages, and the demo operator answering
most of them:

- some buyers of orders in transit ask where their parcel is (answered at once by policy
  when the order has tracking), some held in customs ask to cancel or why customs, some
  whose order arrived say it is damaged, want to return it or ask about the duties they
  paid at the door; Amazon and eBay buyers write on their marketplace (the sandbox's
  messaging), storefront buyers by e-mail; each message starts or joins its case;
- conversations waiting for us: the demo operator sends the suggested reply to most,
  and leaves some to their reminder, escalation and deadline.
"""

from __future__ import annotations

import asyncio
import random
from datetime import UTC, datetime
from typing import Any

import structlog
from temporalio.client import Client, WorkflowUpdateFailedError

from activities.returns import order_of
from crossdock.audit.attempts import attempt_update
from crossdock.audit.log import AuditLog
from crossdock.cli_cases import post_to_sandbox
from crossdock.config import Settings
from crossdock.identity.claims import ClaimSigner
from crossdock.messages import language_for
from crossdock.messages.catalogue import _read
from crossdock.models.approval import Principal, Role
from crossdock.models.case import BuyerMessage, CaseReply, CaseStatus
from crossdock.models.order_states import OrderState
from starter.cases import MESSAGES_POLLED, deliver_buyer_message
from workflows.case import BuyerCaseWorkflow

log = structlog.get_logger(__name__)

DEMO_AGENT = Principal(id="demo-service-desk", role=Role.OPERATOR)
LOOK_EVERY_SECONDS = 10.0

# What buyers write, by intent and language (the demo's data).
SAYS: dict[str, dict[str, str]] = _read("demo_buyers.json")["says"]
BY_STATE: dict[str, tuple[str, ...]] = {
    OrderState.IN_TRANSIT: ("where_is_my_order",),
    OrderState.DELAYED: ("where_is_my_order",),
    OrderState.CUSTOMS_HOLD: ("cancel", "where_is_my_order"),
    OrderState.DELIVERED: ("damaged", "customs_charges", "return"),
}


class DemoBuyers:
    def __init__(
        self,
        client: Client,
        settings: Settings,
        seed: int,
        write_share: float = 0.3,
        answer_share: float = 0.7,
        signer: ClaimSigner | None = None,
        audit: AuditLog | None = None,
        look_every_seconds: float = LOOK_EVERY_SECONDS,
    ) -> None:
        self._client = client
        self._settings = settings
        self._random = random.Random(seed)
        self._write_share = write_share
        self._answer_share = answer_share
        self._signer = signer
        self._audit = audit
        self._look_every = look_every_seconds
        self._seen: set[str] = set()

    async def run(self) -> None:
        """Write and answer every few seconds, until cancelled."""
        while True:
            await asyncio.sleep(self._look_every)
            for step in (self._write, self._answer):
                try:
                    await step()
                except Exception as err:  # a demo helper must not stop the feed
                    log.warning("demo_buyers_failed", step=step.__name__, error=str(err))

    async def _running(self, workflow_type: str, state: str) -> list[str]:
        query = f'WorkflowType="{workflow_type}" AND CrossdockState="{state}"'
        query += ' AND ExecutionStatus="Running"'
        return [execution.id async for execution in self._client.list_workflows(query)]

    async def _write(self) -> None:
        for state, intents in BY_STATE.items():
            for order_id in await self._running("OrderWorkflow", state):
                key = f"{order_id}/{state}"
                if key in self._seen:
                    continue
                self._seen.add(key)
                if self._random.random() < self._write_share:
                    await self._buyer_writes(order_id, self._random.choice(intents))

    async def _buyer_writes(self, order_workflow_id: str, intent: str) -> None:
        order = await order_of(self._client, order_workflow_id)
        language = language_for(order.ship_to.country, order.buyer.language)
        text = SAYS[intent][language]
        await post_to_sandbox(
            self._settings.sandbox_url, order.channel, order.channel_order_id, text
        )
        message = BuyerMessage(
            channel=order.channel,
            thread=order.channel_order_id,
            message_id=f"demo-{order.channel_order_id}-{len(self._seen)}",
            text=text,
            received_at=datetime.now(UTC),
            order_id=order.channel_order_id,
            email=order.buyer.email,
        )
        settings = self._settings
        if order.channel in MESSAGES_POLLED:
            # The marketplace's poller reads it from the sandbox like a real message.
            log.info("demo_buyer_wrote", order=order_workflow_id, intent=intent, language=language)
            return
        case = await deliver_buyer_message(
            self._client, message, settings.task_queue, settings.case_policy
        )
        log.info("demo_buyer_wrote", workflow_id=case, intent=intent, language=language)

    async def _answer(self) -> None:
        for case_id in await self._running("BuyerCaseWorkflow", "awaiting_us"):
            handle = self._client.get_workflow_handle(case_id)
            status = await handle.query("status", result_type=CaseStatus)
            suggested = status.suggested_reply
            # Each wait is looked at once, when its suggestion is ready.
            wait = f"{case_id}/{len(status.thread)}"
            if wait in self._seen or suggested is None or not suggested.text:
                continue
            self._seen.add(wait)
            if self._random.random() < self._answer_share:
                await self._reply(case_id, suggested.text)
            # else: left to its reminder, escalation and deadline

    async def _reply(self, case_id: str, text: str) -> Any:
        by = self._signer.sign(DEMO_AGENT, case_id) if self._signer else DEMO_AGENT
        handle = self._client.get_workflow_handle(case_id)
        request = CaseReply(text=text, by=by)
        try:
            if self._audit is None:
                return await handle.execute_update(BuyerCaseWorkflow.reply, request)
            return await attempt_update(handle, BuyerCaseWorkflow.reply, request, self._audit)
        except WorkflowUpdateFailedError as err:
            log.info("demo_reply_refused", workflow_id=case_id, error=str(err.cause or err))
            return None
