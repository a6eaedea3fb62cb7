"""BuyerCaseWorkflow: one buyer conversation (`case-{channel}-{thread}`), from the first
message to its close (docs/customer-service.md).

Each buyer message is read for its intent (rules as data, every supported language),
the case is linked to its order (by order id, tracking number or e-mail) and a reply is
suggested from the order's live facts in the buyer's language. "Where is my order" is
answered at once when policy allows and the facts are clear; anything else waits for an
operator, through the approval component's clocks: a reminder, an escalation, and at the
channel's deadline the case is flagged NeedsAttention as missed (it still waits for the
answer). Actions from the case go through the order's own updates.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from temporalio import workflow
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from activities.carrier import CarrierActivities
    from activities.cases import CaseActivities
    from crossdock.messages.intents import Intent, read_intent
    from crossdock.models.approval import (
        ApprovalRequest,
        Decision,
        DecisionAction,
        Principal,
        Role,
    )
    from crossdock.models.case import (
        CASE_LIFECYCLE,
        REFUND_DECISIONS,
        BuyerMessage,
        CaseAction,
        CaseActionKind,
        CaseActionReceipt,
        CaseInput,
        CaseReply,
        CaseState,
        CaseStatus,
        FindOrderInput,
        GoodwillRefund,
        OrderActionInput,
        SuggestReplyInput,
        ThreadLine,
    )
    from crossdock.models.lifecycle import TimelineEntry
    from crossdock.models.notify import NotificationTemplate, NotifyBuyerInput
    from crossdock.models.screening import VerifyAddressInput
    from workflows.approval import Approval
    from workflows.buyer_messages import send
    from workflows.case_refund import GoodwillRefunds
    from workflows.options import PARTNER_RETRY, PARTNER_TIMEOUT, P, R, condition_within
    from workflows.projection import READ_MODEL, case_projector, projected
    from workflows.search import CROSSDOCK_STATE, NEEDS_ATTENTION

REPLY_ROLES = frozenset({Role.OPERATOR, Role.ADMIN})
DECISION_ROLES = frozenset({Role.FINANCE, Role.ADMIN})
GOODWILL = frozenset({CaseActionKind.GOODWILL_REFUND}) | REFUND_DECISIONS
# A case closes only once its goodwill refunds are settled (none existed before).
CASE_ACTIONS = "case-actions"
AUTO = Principal(id="policy-auto-answer", role=Role.OPERATOR)
LOCAL = timedelta(seconds=10)


def case_id(channel: str, thread: str) -> str:
    return f"case-{channel}-{thread}"


@workflow.defn
class BuyerCaseWorkflow:
    @workflow.init
    def __init__(self, input: CaseInput) -> None:
        self._input = input
        self._status = CaseStatus(channel=input.channel)
        self._new: list[BuyerMessage] = []
        self._seen: set[str] = set()
        self._replies = 0
        # Where an e-mail buyer is answered (personal data: payloads only, encrypted).
        self._email = ""
        self._approval = Approval(
            self._status.approvals, note=self._note, attention=self._approval_attention
        )
        self._refunds = GoodwillRefunds(
            self._status,
            input.policy,
            self._note,
            lambda why: self._attention(True, why),
            self._refund_message,
        )

    @workflow.run
    async def run(self, input: CaseInput) -> CaseStatus:
        projector = case_projector(lambda: self._status) if workflow.patched(READ_MODEL) else None
        return await projected(projector, self._run(input))

    async def _run(self, input: CaseInput) -> CaseStatus:
        status = self._status
        close_after = input.policy.close_after_seconds
        # Listed by state from the start (a new case waits for us), not only once it moves.
        workflow.upsert_search_attributes([CROSSDOCK_STATE.value_set(status.state.value)])
        while True:
            if status.state is CaseState.AWAITING_US:
                await workflow.wait_condition(lambda: bool(self._new))
            elif not await condition_within(lambda: bool(self._new), close_after):
                if workflow.patched(CASE_ACTIONS):
                    await self._refunds_settled()
                self._move(CaseState.CLOSED, "no new message from the buyer")
                return status
            await self._read_new()
            if status.state is CaseState.AWAITING_US:
                await self._answer_in_time()

    # -- handlers ----------------------------------------------------------------------

    @workflow.signal
    def buyer_wrote(self, message: BuyerMessage) -> None:
        """A buyer's message (intake delivers each at least once: deduped by id)."""
        if message.message_id in self._seen:
            return
        self._seen.add(message.message_id)
        self._email = message.email or self._email
        intent, language = read_intent(message.text)
        self._status.thread.append(
            ThreadLine(
                at=message.received_at,
                by="buyer",
                inbound=True,
                text=message.text,
                intent=intent,
                language=language,
                via=message.channel.value,
            )
        )
        self._status.intents.append(intent)
        self._new.append(message)

    @workflow.update
    async def reply(self, reply: CaseReply) -> ThreadLine:
        """An operator's reply, sent to the buyer through the channel."""
        return await self._answer(reply.text, reply.by)

    @reply.validator
    def _check_reply(self, reply: CaseReply) -> None:
        if reply.by.role not in REPLY_ROLES:
            raise ApplicationError(f"{reply.by} may not answer buyers: operator or admin only")
        if self._status.state is CaseState.CLOSED:
            raise ApplicationError("the case is closed: a new buyer message reopens it")

    @workflow.update
    async def act(self, action: CaseAction) -> CaseActionReceipt:
        """An action on the linked order: through the order's own updates (cancel,
        correct the address), a return started for it, or a goodwill refund."""
        if action.kind in GOODWILL:
            return self._refunds.take(action)
        if action.kind is CaseActionKind.CORRECT_ADDRESS:
            refused = await self._undeliverable(action)
            if refused is not None:
                return refused
        receipt = await workflow.execute_activity_method(
            CaseActivities.act_on_order,
            OrderActionInput(
                order_workflow_id=self._status.order_workflow_id,
                action=action,
                idempotency_key=f"{workflow.info().workflow_id}/act-{len(self._status.timeline)}",
                rma=self._next_rma() if action.kind is CaseActionKind.OPEN_RETURN else "",
            ),
            start_to_close_timeout=PARTNER_TIMEOUT,
            retry_policy=PARTNER_RETRY,
        )
        verdict = "done" if receipt.accepted else "refused"
        self._note(f"action_{action.kind}", f"by {action.by.id}: {verdict}: {receipt.detail}")
        if receipt.workflow_id and receipt.workflow_id not in self._status.returns:
            self._status.returns.append(receipt.workflow_id)
        return receipt

    @act.validator
    def _check_act(self, action: CaseAction) -> None:
        roles = DECISION_ROLES if action.kind in REFUND_DECISIONS else REPLY_ROLES
        if action.by.role not in roles:
            allowed = ", ".join(sorted(roles))
            raise ApplicationError(f"{action.by} may not {action.kind}: {allowed} only")
        if not self._status.order_workflow_id:
            raise ApplicationError("the case is linked to no order: nothing to act on")
        if action.kind in GOODWILL:
            why = self._refunds.refusal(action)
            if why is not None:
                raise ApplicationError(why)

    @workflow.query
    def status(self) -> CaseStatus:
        return self._status

    # -- actions -----------------------------------------------------------------------

    async def _undeliverable(self, action: CaseAction) -> CaseActionReceipt | None:
        """The carrier's verdict on a corrected address: a refusal when it cannot
        deliver there (the order is not changed), else None."""
        assert action.address is not None
        verdict = await workflow.execute_activity_method(
            CarrierActivities.verify_address,
            VerifyAddressInput(address=action.address),
            start_to_close_timeout=PARTNER_TIMEOUT,
            retry_policy=PARTNER_RETRY,
        )
        if verdict.deliverable:
            return None
        detail = "the carrier cannot deliver there: " + ("; ".join(verdict.errors) or "no reason")
        self._note(f"action_{action.kind}", f"by {action.by.id}: refused: {detail}")
        return CaseActionReceipt(kind=action.kind, accepted=False, detail=detail)

    def _next_rma(self) -> str:
        """The return's id: the case's thread and the return's number (RMAs take no
        dots), so a retried action finds the return it opened."""
        thread = self._input.thread.replace(".", "-")
        return f"{thread}-r{len(self._status.returns) + 1}"[-64:]

    async def _refunds_settled(self) -> None:
        await workflow.wait_condition(lambda: self._refunds.idle)
        await self._refunds.finished()

    def _refund_message(self, record: GoodwillRefund) -> NotifyBuyerInput | None:
        """The buyer's note that a goodwill refund was made (None: nobody to write to)."""
        facts = self._status.facts
        if facts is None:
            return None
        try:
            return NotifyBuyerInput(
                to=self._email or facts.buyer_email,
                template=NotificationTemplate.ORDER_REFUNDED,
                params={"order_ref": facts.channel_order_id},
                amounts={"amount": record.amount},
                idempotency_key=f"{workflow.info().workflow_id}/{record.step}/refunded",
                language=self._status.language,
                country=facts.country,
                channel=self._input.channel,
                channel_order_id=facts.channel_order_id,
            )
        except ValueError as err:
            self._attention(True, f"refund message not sent: {err}")
            return None

    # -- steps -------------------------------------------------------------------------

    async def _read_new(self) -> None:
        status = self._status
        messages, self._new = self._new, []
        first = messages[0]
        if status.state is not CaseState.AWAITING_US:
            self._move(CaseState.AWAITING_US, f"the buyer wrote ({first.message_id})")
        if status.waiting_since is None:
            status.waiting_since = first.received_at
            status.deadline = first.received_at + self._input.policy.deadline(self._input.channel)
        if not status.order_workflow_id:
            status.order_workflow_id = await self._local(
                CaseActivities.find_order,
                FindOrderInput(
                    channel=first.channel,
                    order_id=first.order_id,
                    tracking_code=first.tracking_code,
                    email=first.email,
                ),
            )
            self._note(
                "linked" if status.order_workflow_id else "not_linked", status.order_workflow_id
            )
        if status.order_workflow_id:
            status.facts = await self._local(CaseActivities.order_facts, status.order_workflow_id)
        written = next((line.language for line in reversed(status.thread) if line.language), None)
        status.language = written or (status.facts.language if status.facts else "en")
        intent = status.intents[-1] if status.intents else Intent.OTHER
        status.suggested_reply = await self._local(
            CaseActivities.suggest_reply,
            SuggestReplyInput(intent=intent, facts=status.facts, language=status.language),
        )
        self._note("intent", f"{intent} [{status.language}]")

    async def _answer_in_time(self) -> None:
        status = self._status
        policy = self._input.policy
        intent = status.intents[-1]
        suggested = status.suggested_reply
        if (
            intent is Intent.WHERE_IS_MY_ORDER
            and policy.auto_answer_where_is_my_order
            and suggested is not None
            and suggested.clear
        ):
            await self._answer(suggested.text, AUTO)
            return
        assert status.deadline is not None and status.waiting_since is not None
        left = status.deadline - workflow.now()
        self._replies += 1
        outcome = await self._approval.ask(
            ApprovalRequest(
                key=f"reply-{self._replies}",
                subject=f"Answer the buyer: {intent} [{status.language}]",
                allowed_roles=REPLY_ROLES,
                actions=frozenset({DecisionAction.APPROVE}),
                remind_after=left * policy.remind_at,
                escalate_after=left * policy.escalate_at,
                expire_after=max(left, timedelta(seconds=1)),
            )
        )
        if outcome.expired:
            status.missed += 1
            self._attention(True, f"deadline missed: no answer by {status.deadline:%Y-%m-%d %H:%M}")
            await workflow.wait_condition(lambda: status.state is not CaseState.AWAITING_US)

    async def _answer(self, text: str, by: Principal) -> ThreadLine:
        status = self._status
        facts = status.facts
        key = f"{workflow.info().workflow_id}/reply-{len(status.thread)}"
        order_ref = facts.channel_order_id if facts else self._input.thread
        sent = None
        try:
            message = NotifyBuyerInput(
                to=self._email or (facts.buyer_email if facts else ""),
                template=NotificationTemplate.CASE_REPLY,
                params={"order_ref": order_ref, "reply": text},
                idempotency_key=key,
                language=status.language,
                country=facts.country if facts else "GB",
                channel=self._input.channel,
                channel_order_id=facts.channel_order_id if facts else "",
            )
        except ValueError as err:
            self._attention(True, f"reply not sent: {err}")
        else:
            sent = await send(message, self._note, lambda why: self._attention(True, why))
        line = ThreadLine(
            at=workflow.now(),
            by="auto" if by == AUTO else by.id,
            inbound=False,
            text=text,
            language=status.language,
            via=sent.via if sent else "not sent",
        )
        status.thread.append(line)
        if status.state is CaseState.AWAITING_US:
            self._answered(by)
        return line

    def _answered(self, by: Principal) -> None:
        status = self._status
        now = workflow.now()
        assert status.waiting_since is not None and status.deadline is not None
        if status.first_response_seconds is None:
            status.first_response_seconds = (now - status.waiting_since).total_seconds()
        status.answered_in_time.append(now <= status.deadline)
        status.answered_intents.append(status.intents[-1] if status.intents else Intent.OTHER)
        current = self._approval.current
        if current is not None and current.pending:
            decision = Decision(
                key=current.request.key, action=DecisionAction.APPROVE, by=by, reason="answered"
            )
            self._approval.accept(decision)
        status.waiting_since = status.deadline = None
        self._move(CaseState.ANSWERED, f"answered by {by.id}")
        if status.needs_attention:
            self._attention(False, "answered")

    # -- mechanics ---------------------------------------------------------------------

    async def _local(self, activity: Callable[[Any, P], Awaitable[R]], arg: P) -> R:
        """A short read (the order's facts, a suggestion) as a local activity: one
        history event instead of six."""
        return await workflow.execute_local_activity_method(
            activity, arg, start_to_close_timeout=LOCAL, retry_policy=PARTNER_RETRY
        )

    def _move(self, target: CaseState, detail: str) -> None:
        CASE_LIFECYCLE.check(self._status.state, target)
        self._status.state = target
        self._note("moved", detail)
        workflow.upsert_search_attributes([CROSSDOCK_STATE.value_set(target.value)])

    def _note(self, event: str, detail: str = "") -> None:
        self._status.timeline.append(
            TimelineEntry(at=workflow.now(), event=event, state=self._status.state, detail=detail)
        )

    def _approval_attention(self, needed: bool) -> None:
        if needed:
            self._attention(True, "a buyer waits past the reminder")

    def _attention(self, needed: bool, why: str) -> None:
        if self._status.needs_attention == needed:
            return
        self._status.needs_attention = needed
        self._note("attention" if needed else "attention_cleared", why)
        workflow.upsert_search_attributes([NEEDS_ATTENTION.value_set(needed)])
