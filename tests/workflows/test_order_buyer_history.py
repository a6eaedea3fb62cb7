"""Buyer history and billing country in the review gate (time-skipping server, stand-in
partners, the real risk rules): the order is recorded under its buyer, and velocity,
first-time buyer and a foreign billing country score as risk_rules.json says."""

from __future__ import annotations

import pytest
from temporalio.testing import WorkflowEnvironment

from crossdock.models.approval import Decision, DecisionAction
from crossdock.models.buyer_history import BuyerHistory
from crossdock.models.order import Order
from crossdock.models.order_states import OrderState
from crossdock.models.order_status import OrderStatus
from crossdock.money import Money
from tests.factories import line_item, order
from tests.workflows.order_harness import OPERATOR, deliver, start, wait_for_state, worker
from tests.workflows.stand_ins import Partners
from workflows.order import OrderWorkflow

# Four orders from the buyer in the last 24 h: this one is their fifth of the day.
FIFTH_OF_THE_DAY = BuyerHistory(previous_orders=9, orders_in_window=4)


def billed_in_us(order_id: str, unit_eur: int = 1800) -> Order:
    """Shipped to France (the factory's ship-to), billed to a US card."""
    item = line_item(unit_price=Money(amount=unit_eur, currency="EUR"), quantity=2)
    return order(channel_order_id=order_id, billing_country="US", items=[item])


def checks(status: OrderStatus) -> str:
    return "\n".join(e.detail for e in status.timeline if e.event == "check")


async def test_a_big_fifth_order_of_the_day_billed_abroad_waits_for_review(
    time_env: WorkflowEnvironment, task_queue: str
) -> None:
    partners = Partners(buyer_history=FIFTH_OF_THE_DAY)
    async with worker(time_env, task_queue, partners):
        # 2 x EUR 550 + shipping: over the EUR 1,000 band.
        handle = await start(time_env, task_queue, billed_in_us("SF40000001", unit_eur=55000))
        await wait_for_state(handle, OrderState.IN_REVIEW)
        assert "authorize_payment" not in partners.names()
        await handle.execute_update(
            OrderWorkflow.decide,
            Decision(
                key="review", action=DecisionAction.APPROVE, reason="known buyer", by=OPERATOR
            ),
        )
        await deliver(handle)
        result = await handle.result()
        status = await handle.query(OrderWorkflow.status)
    assert result.state == OrderState.COMPLETED
    lines = checks(status)
    assert "risk: review - score 60 (review at 50)" in lines
    assert (
        "billing_country_mismatch +25: billing country US differs from ship_to.country FR" in lines
    )
    assert "velocity +15: 4 other orders from the buyer in the last 24 h" in lines
    assert "order_value +20" in lines
    assert "first_time_buyer" not in lines
    [asked] = partners.buyer_orders
    assert asked.order_workflow_id == handle.id
    assert asked.buyer.email == "buyer-00001@example.com"
    assert (asked.window_hours, asked.channel) == (24, "storefront")


@pytest.mark.parametrize(
    ("history", "score", "state"),
    [
        # Velocity 15 + billing 25 = 40: under review_at (50), the order goes ahead.
        (FIFTH_OF_THE_DAY, 40, OrderState.COMPLETED),
        # The sixth order of the day reaches the top velocity band (30): 55, review.
        (BuyerHistory(previous_orders=9, orders_in_window=5), 55, OrderState.IN_REVIEW),
    ],
)
async def test_velocity_and_billing_country_add_up_to_the_threshold(
    time_env: WorkflowEnvironment,
    task_queue: str,
    history: BuyerHistory,
    score: int,
    state: OrderState,
) -> None:
    partners = Partners(buyer_history=history)
    async with worker(time_env, task_queue, partners):
        handle = await start(time_env, task_queue, billed_in_us(f"SF4000001{score}"))
        if state is OrderState.COMPLETED:
            await deliver(handle)
            await handle.result()
        else:
            await wait_for_state(handle, state)
        status = await handle.query(OrderWorkflow.status)
        if state is OrderState.IN_REVIEW:
            await handle.terminate("test over")
    assert status.state == state
    lines = checks(status)
    assert f"score {score} (review at 50)" in lines
    assert "billing_country_mismatch +25" in lines
    assert f"{history.orders_in_window} other orders from the buyer" in lines


async def test_a_first_time_buyer_is_noted_and_scored(
    time_env: WorkflowEnvironment, task_queue: str
) -> None:
    partners = Partners(buyer_history=BuyerHistory(previous_orders=0, orders_in_window=0))
    async with worker(time_env, task_queue, partners):
        handle = await start(time_env, task_queue, order(channel_order_id="SF40000020"))
        await deliver(handle)
        result = await handle.result()
        status = await handle.query(OrderWorkflow.status)
    assert result.state == OrderState.COMPLETED
    notes = [e.detail for e in status.timeline if e.event == "buyer_history"]
    assert notes == ["0 earlier order(s), 0 in the last 24 h"]
    assert "risk: clear - score 10 (review at 50): first_time_buyer +10" in checks(status)
