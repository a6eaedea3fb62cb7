"""Validation and the review gate: refusals, operator approval and rejection, expiry and
cancellation while waiting (time-skipping server, stand-in partners, real policies)."""

from __future__ import annotations

from typing import Any

import pytest
from temporalio.client import WorkflowUpdateFailedError
from temporalio.testing import WorkflowEnvironment

from crossdock.models.approval import Decision, DecisionAction
from crossdock.models.order import Address
from crossdock.models.order_states import OrderState
from crossdock.models.order_steps import CancelRequest
from crossdock.money import Money
from tests.factories import line_item, order
from tests.workflows.order_harness import OPERATOR, VIEWER, deliver, start, wait_for_state, worker
from tests.workflows.stand_ins import Partners
from workflows.order import OrderWorkflow

GB = Address(
    name="Demo buyer 00042",
    line1="4 Demo Street",
    city="Manchester",
    postal_code="M1 1AE",
    country="GB",
)
REVIEW_CLOCKS = {
    "review_remind_seconds": 3600,
    "review_escalate_seconds": 4 * 3600,
    "review_expire_seconds": 24 * 3600,
}


def knife_to_gb(order_id: str) -> Any:
    """Kitchen knives to the UK are restricted (age checks): the order needs a review."""
    knife = line_item(
        sku="KNIFE-SANTOKU",
        title="Santoku knife",
        hs_code="821191",
        origin_country="JP",
        unit_price=Money(amount=7900, currency="GBP"),
    )
    return order(
        channel_order_id=order_id,
        ship_to=GB,
        currency="GBP",
        items=[knife],
        shipping=Money(amount=890, currency="GBP"),
    )


def decision(action: DecisionAction, reason: str = "", by: Any = OPERATOR) -> Decision:
    return Decision(key="review", action=action, reason=reason, by=by)


async def test_restricted_goods_wait_for_an_operator_who_approves(
    time_env: WorkflowEnvironment, task_queue: str
) -> None:
    partners = Partners()
    async with worker(time_env, task_queue, partners):
        handle = await start(time_env, task_queue, knife_to_gb("SF30000001"), **REVIEW_CLOCKS)
        await wait_for_state(handle, OrderState.IN_REVIEW)
        assert "authorize_payment" not in partners.names()  # nothing booked while in review
        with pytest.raises(WorkflowUpdateFailedError) as refused:
            await handle.execute_update(
                OrderWorkflow.decide, decision(DecisionAction.APPROVE, by=VIEWER)
            )
        assert "viewer" in str(refused.value.cause)
        receipt = await handle.execute_update(
            OrderWorkflow.decide, decision(DecisionAction.APPROVE, "buyer is 18+, checked")
        )
        assert receipt.action == DecisionAction.APPROVE
        await deliver(handle)
        result = await handle.result()
        status = await handle.query(OrderWorkflow.status)
    assert result.state == OrderState.COMPLETED
    moves = [e.state for e in status.timeline if e.event == "moved"]
    assert moves[:4] == ["validated", "in_review", "approved", "payment_secured"]
    assert any(e.event == "check" and "restricted" in e.detail for e in status.timeline)


async def test_rejected_review_cancels_before_anything_is_booked(
    time_env: WorkflowEnvironment, task_queue: str
) -> None:
    partners = Partners()
    async with worker(time_env, task_queue, partners):
        handle = await start(time_env, task_queue, knife_to_gb("SF30000002"), **REVIEW_CLOCKS)
        await wait_for_state(handle, OrderState.IN_REVIEW)
        await handle.execute_update(
            OrderWorkflow.decide, decision(DecisionAction.REJECT, "no age verification")
        )
        result = await handle.result()
    assert result.state == OrderState.CANCELLED
    assert "review rejected: no age verification" in result.reason
    assert partners.names() == ["quote_landed_cost", "verify_address", "cancel_on_channel"]
    assert partners.partner_calls()[-1][1].reason == "risk_rejected"
    assert partners.messages()[-1].terms == {"reason": "cancel.risk_rejected"}


async def test_unanswered_review_is_reminded_escalated_and_cancelled_at_t3(
    time_env: WorkflowEnvironment, task_queue: str
) -> None:
    partners = Partners()
    async with worker(time_env, task_queue, partners):
        handle = await start(time_env, task_queue, knife_to_gb("SF30000003"), **REVIEW_CLOCKS)
        result = await handle.result()
        status = await handle.query(OrderWorkflow.status)
    assert result.state == OrderState.CANCELLED
    assert "review expired" in result.reason
    events = [e.event for e in status.timeline]
    assert events.index("attention") < events.index("moved", events.index("attention"))
    [review] = status.approvals
    assert review.reminded_at is not None and review.escalated_at is not None
    assert (review.escalated_at - review.opened_at).total_seconds() == pytest.approx(
        4 * 3600, abs=1
    )


async def test_cancelling_during_review_withdraws_it(
    time_env: WorkflowEnvironment, task_queue: str
) -> None:
    partners = Partners()
    async with worker(time_env, task_queue, partners):
        handle = await start(time_env, task_queue, knife_to_gb("SF30000004"), **REVIEW_CLOCKS)
        await wait_for_state(handle, OrderState.IN_REVIEW)
        await handle.execute_update(
            OrderWorkflow.cancel, CancelRequest(reason="buyer changed their mind", by=OPERATOR)
        )
        result = await handle.result()
        status = await handle.query(OrderWorkflow.status)
    assert result.state == OrderState.CANCELLED
    assert "buyer changed their mind" in result.reason
    assert status.approvals[0].state == "withdrawn"


@pytest.mark.parametrize(
    ("partners", "overrides", "reason"),
    [
        (Partners(undeliverable=True), {}, "line1: Address not found"),
        (
            Partners(),
            {"items": [line_item(hs_code="930100", sku="RIFLE")]},
            "items[0].hs_code '930100' is prohibited",
        ),
    ],
    ids=["undeliverable-address", "prohibited-goods"],
)
async def test_failed_checks_refuse_the_order_naming_the_field(
    time_env: WorkflowEnvironment,
    task_queue: str,
    partners: Partners,
    overrides: dict[str, Any],
    reason: str,
) -> None:
    o = order(channel_order_id=f"SF3000001{len(overrides)}", **overrides)
    async with worker(time_env, task_queue, partners):
        result = await (await start(time_env, task_queue, o)).result()
    assert result.state == OrderState.CANCELLED
    assert reason in result.reason
    assert "authorize_payment" not in partners.names()
