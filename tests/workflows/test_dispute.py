"""DisputeWorkflow on the time-skipping server: every branch and deadline, weeks in seconds."""

from __future__ import annotations

import asyncio
import os
from datetime import timedelta
from pathlib import Path

import pytest
from temporalio.client import WorkflowUpdateFailedError
from temporalio.testing import WorkflowEnvironment

from crossdock.models.approval import Decision, DecisionAction, Principal, Role
from crossdock.models.dispute import DisputePolicy, EvidenceEdit, ProviderStatus
from crossdock.models.dispute_states import DisputeState
from crossdock.money import Money
from tests.conftest import skip_time
from tests.workflows.dispute_harness import (
    STRONG,
    DisputeHandle,
    DisputePartners,
    Provider,
    order_seen,
    start,
    wait_for,
    worker,
)
from workflows.dispute import DisputeWorkflow

RECORD = os.environ.get("CROSSDOCK_RECORD_HISTORIES", "")

OPERATOR = Principal(id="ops-7", role=Role.OPERATOR)
FINANCE = Principal(id="fin-1", role=Role.FINANCE)
FINANCE_2 = Principal(id="fin-2", role=Role.FINANCE)
DAY = timedelta(days=1)
HOUR = timedelta(hours=1)


def contest(by: Principal = OPERATOR, key: str = "decide-1") -> Decision:
    return Decision(key=key, action=DecisionAction.APPROVE, by=by, reason="delivered")


def concede(key: str = "decide-1") -> Decision:
    return Decision(key=key, action=DecisionAction.REJECT, by=OPERATOR, reason="buyer is right")


async def provider(env: WorkflowEnvironment, task_queue: str, **snapshot: object) -> Provider:
    return Provider(await env.get_current_time(), dispute_id=f"dp_{task_queue}", **snapshot)


async def test_operator_contests_submits_once_and_wins(
    time_env: WorkflowEnvironment, task_queue: str
) -> None:
    partners = DisputePartners(order_id=f"order-storefront-{task_queue}")
    stripe = await provider(time_env, task_queue)
    async with worker(time_env, task_queue, partners):
        handle = await start(
            time_env, task_queue, partners, stripe.event(ProviderStatus.NEEDS_RESPONSE)
        )
        staged = await wait_for(handle, DisputeState.AWAITING_DECISION)
        assert staged.packet.fields["shipping_tracking_number"] == "EZ1000000001"
        assert staged.strength.startswith("strong")
        await handle.execute_update(DisputeWorkflow.decide, contest())
        await wait_for(handle, DisputeState.SUBMITTED)
        await handle.signal(
            DisputeWorkflow.provider_event, stripe.event(ProviderStatus.UNDER_REVIEW)
        )
        await handle.signal(DisputeWorkflow.provider_event, stripe.event(ProviderStatus.WON))
        result = await handle.result()  # the reopen window (45 days) passes with no event
        links, settled = await order_seen(time_env, partners)
        if RECORD:
            history = await handle.fetch_history()
            path = Path(RECORD, "dispute-stripe-contested-won-buyer-told.json")
            path.write_text(history.to_json())  # noqa: ASYNC240
    assert (result.state, result.submissions, result.decided_by) == ("won", 1, "ops-7")
    [submitted] = partners.named("submit")
    assert submitted.idempotency_key == f"dispute-stripe-dp_{task_queue}/submit-1"
    assert set(submitted.evidence) == set(STRONG)  # the fields product_not_received calls for
    assert [link.open for link in links] == [True, False] and settled == []
    [told] = partners.messages()  # the verdict, in the buyer's language, once
    assert (told.template, told.language) == ("dispute_won", "de")
    assert told.idempotency_key == f"dispute-stripe-dp_{task_queue}/notify-won-1"
    assert told.amounts["amount"] == Money(amount=12_000, currency="EUR")


async def test_operator_accepts_and_the_loss_is_booked_on_the_order(
    time_env: WorkflowEnvironment, task_queue: str
) -> None:
    partners = DisputePartners(order_id=f"order-storefront-{task_queue}")
    stripe = await provider(time_env, task_queue)
    async with worker(time_env, task_queue, partners):
        handle = await start(
            time_env, task_queue, partners, stripe.event(ProviderStatus.NEEDS_RESPONSE)
        )
        await wait_for(handle, DisputeState.AWAITING_DECISION)
        await handle.execute_update(DisputeWorkflow.decide, concede())
        result = await handle.result()
        links, settled = await order_seen(time_env, partners)
    assert result.state == DisputeState.ACCEPTED and result.submissions == 0
    [closed] = partners.named("close")
    assert closed.idempotency_key.endswith("/accept-1")
    [reserved] = partners.named("reserve")
    assert (reserved.amount, reserved.step) == (
        Money(amount=12_000, currency="EUR"),
        "chargeback-1",
    )
    assert [s.reservation_id for s in settled] == [f"{handle.id}/chargeback-1"]
    assert settled[0].succeeded and links[-1].open is False


async def _undecided(
    env: WorkflowEnvironment, task_queue: str, partners: DisputePartners
) -> tuple[DisputeHandle, Provider]:
    stripe = await provider(env, task_queue)
    handle = await start(env, task_queue, partners, stripe.event(ProviderStatus.NEEDS_RESPONSE))
    await wait_for(handle, DisputeState.AWAITING_DECISION)
    return handle, stripe


async def test_deadline_policy_contests_strong_evidence_after_reminder_and_escalation(
    time_env: WorkflowEnvironment, task_queue: str
) -> None:
    partners = DisputePartners(order_id=f"order-storefront-{task_queue}")
    async with worker(time_env, task_queue, partners):
        handle, stripe = await _undecided(time_env, task_queue, partners)
        await skip_time(time_env, 7 * DAY)
        status = await wait_for(handle, DisputeState.SUBMITTED)
    due = stripe.snapshot.due_by
    assert due is not None
    [approval] = status.approvals
    assert approval.reminded_at is not None and approval.escalated_at is not None
    assert abs(approval.reminded_at - (due - 72 * HOUR)) < timedelta(minutes=1)
    assert abs(approval.escalated_at - (due - 24 * HOUR)) < timedelta(minutes=1)
    assert approval.state == "expired" and approval.closed_at is not None
    assert approval.closed_at <= due - 6 * HOUR + timedelta(minutes=1)
    assert status.decided_by == "deadline_policy" and status.needs_attention
    assert len(partners.named("submit")) == 1


async def test_deadline_policy_accepts_weak_evidence(
    time_env: WorkflowEnvironment, task_queue: str
) -> None:
    weak = {k: v for k, v in STRONG.items() if k != "shipping_documentation"}
    partners = DisputePartners(order_id=f"order-storefront-{task_queue}", evidence=weak)
    async with worker(time_env, task_queue, partners):
        handle, _ = await _undecided(time_env, task_queue, partners)
        assert (
            "missing shipping_documentation"
            in (await handle.query(DisputeWorkflow.status)).strength
        )
        result = await handle.result()
    assert (result.state, result.decided_by) == ("accepted", "deadline_policy")
    assert partners.named("submit") == [] and len(partners.named("close")) == 1


async def test_dispute_arriving_too_late_to_ask_is_decided_at_once(
    time_env: WorkflowEnvironment, task_queue: str
) -> None:
    partners = DisputePartners(order_id=f"order-storefront-{task_queue}")
    now = await time_env.get_current_time()
    stripe = await provider(time_env, task_queue, due_by=now + 2 * HOUR)
    async with worker(time_env, task_queue, partners):
        handle = await start(
            time_env, task_queue, partners, stripe.event(ProviderStatus.NEEDS_RESPONSE)
        )
        status = await wait_for(handle, DisputeState.SUBMITTED)
    assert status.approvals == [] and status.decided_by == "deadline_policy"
    assert any(e.event == "deadline_policy" for e in status.timeline)


async def test_contested_amount_over_threshold_needs_finance_not_the_editor(
    time_env: WorkflowEnvironment, task_queue: str
) -> None:
    partners = DisputePartners(order_id=f"order-storefront-{task_queue}")
    stripe = await provider(time_env, task_queue, amount=Money(amount=60_000, currency="EUR"))
    async with worker(time_env, task_queue, partners):
        handle = await start(
            time_env, task_queue, partners, stripe.event(ProviderStatus.NEEDS_RESPONSE)
        )
        await wait_for(handle, DisputeState.AWAITING_DECISION)
        with pytest.raises(WorkflowUpdateFailedError) as refused:
            await handle.execute_update(DisputeWorkflow.decide, contest(OPERATOR))
        assert "needs role finance or admin" in str(refused.value.cause)
        edit = EvidenceEdit(fields={"uncategorized_text": "signed for by the buyer"}, by=FINANCE)
        edited = await handle.execute_update(DisputeWorkflow.edit_evidence, edit)
        assert "uncategorized_text" in edited.fields
        with pytest.raises(WorkflowUpdateFailedError) as refused:
            await handle.execute_update(DisputeWorkflow.decide, contest(FINANCE))
        assert "maker ≠ checker" in str(refused.value.cause)
        await handle.execute_update(DisputeWorkflow.decide, contest(FINANCE_2))
        await wait_for(handle, DisputeState.SUBMITTED)
    [submitted] = partners.named("submit")
    assert submitted.evidence["uncategorized_text"] == "signed for by the buyer"


def test_evidence_edit_names_an_unknown_field() -> None:
    with pytest.raises(ValueError, match="unknown evidence field"):
        EvidenceEdit(fields={"tracking": "EZ1"}, by=OPERATOR)


async def test_lost_on_a_closed_order_is_recorded_on_the_dispute(
    time_env: WorkflowEnvironment, task_queue: str
) -> None:
    partners = DisputePartners(
        order_id=f"order-storefront-{task_queue}", loss_outcome="order_closed"
    )
    async with worker(time_env, task_queue, partners):
        handle, stripe = await _undecided(time_env, task_queue, partners)
        await handle.execute_update(DisputeWorkflow.decide, contest())
        await wait_for(handle, DisputeState.SUBMITTED)
        await handle.signal(DisputeWorkflow.provider_event, stripe.event(ProviderStatus.LOST))
        result = await handle.result()
        status = await handle.query(DisputeWorkflow.status)
    assert result.state == DisputeState.LOST and result.loss is not None
    assert result.loss.outcome == "order_closed"
    assert status.needs_attention and status.lost_amount == Money(amount=12_000, currency="EUR")
    assert [m.template for m in partners.messages()] == ["dispute_lost"]


async def test_a_loss_the_order_refuses_keeps_the_dispute_open_until_answered(
    time_env: WorkflowEnvironment, task_queue: str
) -> None:
    """The order refused the loss (a return refunded it first): the buyer has the money
    twice, so a person must say where it was booked before the dispute ends."""
    partners = DisputePartners(order_id=f"order-storefront-{task_queue}", loss_outcome="refused")
    async with worker(time_env, task_queue, partners):
        handle, stripe = await _undecided(time_env, task_queue, partners)
        await handle.execute_update(DisputeWorkflow.decide, contest())
        await wait_for(handle, DisputeState.SUBMITTED)
        await handle.signal(DisputeWorkflow.provider_event, stripe.event(ProviderStatus.LOST))
        status = await wait_for(handle, DisputeState.LOST)
        for _ in range(100):
            if status.approvals[-1].request.key == "loss-unbooked-1-1":
                break
            await asyncio.sleep(0.05)
            status = await handle.query(DisputeWorkflow.status)
        question = status.approvals[-1].request
        assert question.key == "loss-unbooked-1-1" and status.needs_attention
        assert "lost but not booked on the order: order said no" in question.subject
        assert set(question.options) == {"retry", "done_by_hand"}
        assert DecisionAction.REJECT not in question.actions
        booked = Decision(
            key=question.key,
            action=DecisionAction.APPROVE,
            by=OPERATOR,
            option="done_by_hand",
            reason="recovered from the buyer, booked in the ledger by hand",
        )
        with pytest.raises(WorkflowUpdateFailedError) as refused:
            await handle.execute_update(
                DisputeWorkflow.decide, booked.model_copy(update={"reason": ""})
            )
        assert "done_by_hand needs a reason" in str(refused.value.cause)
        await handle.execute_update(DisputeWorkflow.decide, booked)
        result = await handle.result()
        status = await handle.query(DisputeWorkflow.status)
    assert result.state == DisputeState.LOST
    assert any(e.event == "loss_by_hand" for e in status.timeline)


async def test_duplicate_and_out_of_order_events_change_nothing(
    time_env: WorkflowEnvironment, task_queue: str
) -> None:
    partners = DisputePartners(order_id=f"order-storefront-{task_queue}")
    async with worker(time_env, task_queue, partners):
        handle, stripe = await _undecided(time_env, task_queue, partners)
        await handle.execute_update(DisputeWorkflow.decide, contest())
        await wait_for(handle, DisputeState.SUBMITTED)
        early = stripe.event(ProviderStatus.NEEDS_RESPONSE)  # made first, delivered last
        review = stripe.event(ProviderStatus.UNDER_REVIEW)
        # Money events are recorded once each, whenever they arrive.
        withdrawn = early.model_copy(
            update={"event_id": "evt_funds", "type": "charge.dispute.funds_withdrawn"}
        )
        for event in (review, review, withdrawn, early, withdrawn):
            await handle.signal(DisputeWorkflow.provider_event, event)
        status = await handle.query(DisputeWorkflow.status)
        while early.event_id not in status.events_seen:
            status = await handle.query(DisputeWorkflow.status)
    assert status.state == DisputeState.SUBMITTED and status.round == 1
    assert status.snapshot.status == ProviderStatus.UNDER_REVIEW
    events = [e.event for e in status.timeline]
    assert events.count("provider_event_stale") == 2  # the early one, and funds (older)
    assert events.count("funds_withdrawn") == 1
    assert len(partners.named("gather")) == 1


async def test_a_return_in_progress_is_seen_and_flagged(
    time_env: WorkflowEnvironment, task_queue: str
) -> None:
    partners = DisputePartners(
        order_id=f"order-storefront-{task_queue}", open_returns=["return-storefront-R1"]
    )
    async with worker(time_env, task_queue, partners):
        handle, _ = await _undecided(time_env, task_queue, partners)
        status = await handle.query(DisputeWorkflow.status)
    assert status.open_returns == ["return-storefront-R1"] and status.needs_attention
    assert "return in progress: return-storefront-R1" in status.approvals[0].request.subject
    assert any(e.event == "return_in_progress" for e in status.timeline)


async def test_issuer_closing_the_inquiry_withdraws_the_question(
    time_env: WorkflowEnvironment, task_queue: str
) -> None:
    partners = DisputePartners(order_id=f"order-storefront-{task_queue}")
    stripe = await provider(time_env, task_queue, status=ProviderStatus.WARNING_NEEDS_RESPONSE)
    policy = DisputePolicy(reopen_window_seconds=3600)
    async with worker(time_env, task_queue, partners):
        first = stripe.event(ProviderStatus.WARNING_NEEDS_RESPONSE)
        handle = await start(time_env, task_queue, partners, first, policy)
        await wait_for(handle, DisputeState.AWAITING_DECISION)
        await handle.signal(
            DisputeWorkflow.provider_event, stripe.event(ProviderStatus.WARNING_CLOSED)
        )
        result = await handle.result()
        status = await handle.query(DisputeWorkflow.status)
    assert result.state == DisputeState.INQUIRY_CLOSED and result.submissions == 0
    assert status.approvals[0].state == "withdrawn"
    assert partners.named("submit") == [] and partners.named("close") == []


async def test_evidence_that_cannot_be_gathered_in_time_does_not_eat_the_deadline(
    time_env: WorkflowEnvironment, task_queue: str
) -> None:
    partners = DisputePartners(order_id=f"order-storefront-{task_queue}", gather_fails=True)
    now = await time_env.get_current_time()
    stripe = await provider(time_env, task_queue, due_by=now + 10 * HOUR)
    async with worker(time_env, task_queue, partners):
        first = stripe.event(ProviderStatus.NEEDS_RESPONSE)
        handle = await start(time_env, task_queue, partners, first)
        await skip_time(time_env, HOUR + timedelta(minutes=5))  # the gathering budget: 1 h
        status = await wait_for(handle, DisputeState.AWAITING_DECISION)
    assert status.needs_attention and "evidence not gathered within" in status.reason
    assert "order query timed out" in status.reason
    assert status.packet.fields == {} and status.strength.startswith("weak")
    assert len(partners.named("gather")) > 1  # retried until the budget ran out


async def test_every_editor_of_the_packet_is_barred_from_approving_it(
    time_env: WorkflowEnvironment, task_queue: str
) -> None:
    partners = DisputePartners(order_id=f"order-storefront-{task_queue}")
    stripe = await provider(time_env, task_queue)
    async with worker(time_env, task_queue, partners):
        handle = await start(
            time_env, task_queue, partners, stripe.event(ProviderStatus.NEEDS_RESPONSE)
        )
        await wait_for(handle, DisputeState.AWAITING_DECISION)
        first = EvidenceEdit(fields={"uncategorized_text": "signed for"}, by=OPERATOR)
        await handle.execute_update(DisputeWorkflow.edit_evidence, first)
        # A colleague touches one field: the first editor is still a maker of the packet.
        second = EvidenceEdit(fields={"customer_name": "Demo buyer"}, by=FINANCE)
        await handle.execute_update(DisputeWorkflow.edit_evidence, second)
        for editor in (OPERATOR, FINANCE):
            with pytest.raises(WorkflowUpdateFailedError) as refused:
                await handle.execute_update(DisputeWorkflow.decide, contest(editor))
            assert f"{editor.id} edited the evidence" in str(refused.value.cause)
        await handle.execute_update(DisputeWorkflow.decide, contest(FINANCE_2))
        await wait_for(handle, DisputeState.SUBMITTED)


@pytest.mark.parametrize(
    "amount", [Money(amount=60_000, currency="EUR"), Money(amount=9_000, currency="CHF")]
)
async def test_conceding_over_the_threshold_needs_finance(
    time_env: WorkflowEnvironment, task_queue: str, amount: Money
) -> None:
    """Conceding gives the amount away for certain; a currency the policy has no
    threshold for always needs finance (never a guessed conversion)."""
    partners = DisputePartners(order_id=f"order-storefront-{task_queue}")
    stripe = await provider(time_env, task_queue, amount=amount)
    async with worker(time_env, task_queue, partners):
        handle = await start(
            time_env, task_queue, partners, stripe.event(ProviderStatus.NEEDS_RESPONSE)
        )
        await wait_for(handle, DisputeState.AWAITING_DECISION)
        # Contesting "1.00" of it still contests all of it: an amount is refused.
        small = contest().model_copy(update={"amount": Money(amount=100, currency=amount.currency)})
        with pytest.raises(WorkflowUpdateFailedError) as refused:
            await handle.execute_update(DisputeWorkflow.decide, small)
        assert "amount does not apply" in str(refused.value.cause)
        with pytest.raises(WorkflowUpdateFailedError) as refused:
            await handle.execute_update(DisputeWorkflow.decide, concede())
        cause = str(refused.value.cause)
        assert f"conceding the dispute gives away {amount}, which needs role finance" in cause
        by_finance = concede().model_copy(update={"by": FINANCE})
        await handle.execute_update(DisputeWorkflow.decide, by_finance)
        result = await handle.result()
    assert (result.state, result.decided_by) == (DisputeState.ACCEPTED, FINANCE.id)
