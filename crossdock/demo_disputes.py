"""Disputes in `make run`: some buyers dispute their delivered storefront orders or open
a marketplace claim (eBay INR/return case, Amazon A-to-z claim) on a delivered marketplace
order, and a demo operator answers some of the questions (the deadline policy answers the
rest).

Cardholders are simulated by the sandbox's `POST /stripe/_sandbox/disputes`; the sandbox
then pushes signed webhooks to intake, and its issuer decides submitted disputes after
`CROSSDOCK_DISPUTE_REVIEW_SECONDS`. Marketplace buyers are simulated by
`POST /ebay/_sandbox/cases` and `POST /amazon/_sandbox/claims`; the dispute poller finds
them, and this helper plays the marketplace too, deciding answered claims on a later look.
The operator decides through the dispute's `decide` update, as the console will.
"""

from __future__ import annotations

import asyncio
import random

import httpx
import structlog
from temporalio.client import Client, WorkflowUpdateFailedError

from crossdock.identity.claims import ClaimSigner
from crossdock.models.approval import Decision, DecisionAction, Principal, Role
from crossdock.models.dispute import DisputeReason
from crossdock.models.dispute_status import DisputeResult
from workflows.dispute import DisputeWorkflow

log = structlog.get_logger(__name__)

DEMO_DISPUTE_DESK = Principal(id="demo-disputes", role=Role.FINANCE)
LOOK_EVERY_SECONDS = 10.0
DELIVERED = (
    'WorkflowType="OrderWorkflow" AND (CrossdockState="delivered" OR CrossdockState="completed")'
)
WAITING = 'WorkflowType="DisputeWorkflow" AND AwaitingApproval=true'
REASONS = (
    DisputeReason.PRODUCT_NOT_RECEIVED,
    DisputeReason.FRAUDULENT,
    DisputeReason.PRODUCT_UNACCEPTABLE,
    DisputeReason.GENERAL,
)
# Buyers' claims by marketplace: where they are opened, their types, and where the
# marketplace decides an answered one.
CLAIMS = {
    "ebay": ("/ebay/_sandbox/cases", "case_type", ("ITEM_NOT_RECEIVED", "RETURN")),
    "amazon": ("/amazon/_sandbox/claims", "claim_type", ("ITEM_NOT_RECEIVED", "NOT_AS_DESCRIBED")),
}
MARKETPLACE_WIN_RATE = 0.7
# How the sandbox refuses to decide a claim the seller has not answered yet.
SELLER_TO_ANSWER = ("the case is OPEN", "the claim is ACTION_REQUIRED")


class DemoDisputes:
    """Opens disputes on a share of delivered storefront orders and decides some.

    Args:
        client: Temporal client (to find orders and decide disputes).
        sandbox_url: The partner sandbox's root URL.
        seed: Makes which orders are disputed, and how, reproducible.
        share: Share of delivered storefront orders that get disputed.
    """

    def __init__(
        self,
        client: Client,
        sandbox_url: str,
        seed: int,
        share: float = 0.2,
        signer: ClaimSigner | None = None,
        look_every_seconds: float = LOOK_EVERY_SECONDS,
    ) -> None:
        self._look_every = look_every_seconds
        self._client = client
        # Signs the desk's principal as the console signs a logged-in operator's.
        self._signer = signer
        self._sandbox_url = sandbox_url
        self._random = random.Random(seed)
        self._share = share
        self._seen: set[str] = set()
        # Claims the demo opened and the marketplace has not decided: path to decide them.
        self._claims: list[str] = []

    async def run(self) -> None:
        """Every few seconds: dispute some new deliveries, answer some questions."""
        async with httpx.AsyncClient(base_url=self._sandbox_url, timeout=10) as sandbox:
            while True:
                await asyncio.sleep(self._look_every)
                try:
                    await self._decide_claims(sandbox)
                    await self._dispute_deliveries(sandbox)
                    await self._answer_questions()
                except Exception as err:  # a demo helper must not stop the feed
                    log.warning("demo_disputes_failed", error=str(err))

    async def _dispute_deliveries(self, sandbox: httpx.AsyncClient) -> None:
        async for execution in self._client.list_workflows(DELIVERED):
            if execution.id in self._seen:
                continue
            self._seen.add(execution.id)
            if self._random.random() >= self._share:
                continue
            channel, _, channel_order_id = execution.id.removeprefix("order-").partition("-")
            if channel in CLAIMS:
                await self._open_claim(sandbox, channel, channel_order_id)
                continue
            body = {
                "order": execution.id,
                "reason": self._random.choice(REASONS).value,
                "inquiry": self._random.random() < 0.2,
            }
            response = await sandbox.post("/stripe/_sandbox/disputes", json=body)
            log.info("demo_dispute_opened", order=execution.id, status=response.status_code)

    async def _open_claim(self, sandbox: httpx.AsyncClient, channel: str, order_id: str) -> None:
        path, field, types = CLAIMS[channel]
        body = {"order_id": order_id, field: self._random.choice(types)}
        response = await sandbox.post(path, json=body)
        log.info("demo_claim_opened", channel=channel, order=order_id, status=response.status_code)
        if response.is_success:
            opened = response.json()
            claim_id = opened["caseId"] if channel == "ebay" else opened["payload"]["ClaimId"]
            self._claims.append(f"{path}/{claim_id}/decide")

    async def _decide_claims(self, sandbox: httpx.AsyncClient) -> None:
        """The marketplace decides the claims the seller has answered (others stay)."""
        for decide in list(self._claims):
            won = self._random.random() < MARKETPLACE_WIN_RATE
            response = await sandbox.post(decide, json={"winner": "SELLER" if won else "BUYER"})
            # Refused while the seller has not answered yet: ask again on the next look.
            if not any(waiting in response.text for waiting in SELLER_TO_ANSWER):
                self._claims.remove(decide)

    async def _answer_questions(self) -> None:
        async for execution in self._client.list_workflows(WAITING):
            if execution.id in self._seen:
                continue
            self._seen.add(execution.id)
            handle = self._client.get_workflow_handle(execution.id, result_type=DisputeResult)
            status = await handle.query(DisputeWorkflow.status)
            current = status.approvals[-1] if status.approvals else None
            draw = self._random.random()
            if current is None or not current.pending or draw < 0.3:
                continue  # left to the deadline policy
            contest = draw < 0.8
            decision = Decision(
                key=current.request.key,
                action=DecisionAction.APPROVE if contest else DecisionAction.REJECT,
                by=self._signer.sign(DEMO_DISPUTE_DESK, execution.id)
                if self._signer
                else DEMO_DISPUTE_DESK,
                reason="tracking shows delivery" if contest else "buyer is right, refund",
            )
            try:
                await handle.execute_update(DisputeWorkflow.decide, decision)
            except WorkflowUpdateFailedError as err:
                log.info("demo_dispute_decision_refused", dispute=execution.id, error=str(err))
