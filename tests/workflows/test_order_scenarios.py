"""Seeded random scenarios through the real OrderWorkflow (time-skipping server): card
declines, label refusals, customs holds, cancellations at random points, tracking events
duplicated and shuffled. Whatever happens, the invariants hold:

- the order ends completed or cancelled, having moved only along the table;
- a cancelled order undid every side effect it made, newest first, and never captured
  or confirmed;
- a completed order captured exactly what it authorized (storefront), once, and undid
  nothing.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from itertools import pairwise

import pytest
from temporalio.testing import WorkflowEnvironment

from crossdock.models.order import Channel
from crossdock.models.order_states import ORDER_LIFECYCLE, OrderState
from crossdock.models.order_steps import CancelRequest
from tests.factories import order
from tests.workflows.order_harness import OPERATOR, OrderHandle, event, start, worker
from tests.workflows.stand_ins import Partners
from workflows.order import OrderWorkflow

SCENARIOS = 24
UNDO = {
    "authorize_payment": "void_authorization",
    "file_declaration": "cancel_declaration",
    "buy_label": "void_label",
}
TRACKING = ["pre_transit", "in_transit", "out_for_delivery", "delivered"]


@dataclass
class Scenario:
    seed: int
    channel: Channel
    partners: Partners
    cancel_during_label: bool
    tracking: list[tuple[int, str]]

    @classmethod
    def draw(cls, seed: int) -> Scenario:
        r = random.Random(seed)
        hold = r.random() < 0.3
        partners = Partners(
            decline_card=r.random() < 0.15,
            reject_label=r.random() < 0.15,
            hold_declaration=hold,
            holds_before_release=r.choice([1, 2, 10_000]) if hold else 0,
        )
        events = [(n, s) for n, s in enumerate(TRACKING)]
        events += r.sample(events, k=r.randint(0, 3))  # duplicates
        r.shuffle(events)
        return cls(
            seed, r.choice([Channel.STOREFRONT, Channel.AMAZON]), partners, r.random() < 0.2, events
        )


async def run(env: WorkflowEnvironment, task_queue: str, scenario: Scenario) -> OrderHandle:
    o = order(channel=scenario.channel, channel_order_id=f"SCN{scenario.seed:05d}")
    handle = await start(
        env, task_queue, o, customs_poll_seconds=3600, customs_hold_timeout_seconds=86_400
    )
    if scenario.cancel_during_label:

        async def cancel() -> None:
            await handle.execute_update(
                OrderWorkflow.cancel, CancelRequest(reason="random cancel", by=OPERATOR)
            )

        scenario.partners.during_label = cancel
    for n, status in scenario.tracking:
        await handle.signal(OrderWorkflow.tracking_update, event(n, status))
    await handle.result()
    return handle


def assert_invariants(scenario: Scenario, moves: list[str]) -> None:
    names = scenario.partners.names()
    states = [OrderState.RECEIVED, *map(OrderState, moves)]
    for before, after in pairwise(states):
        assert ORDER_LIFECYCLE.allowed(before, after), (scenario.seed, before, after)
    final = states[-1]
    done = [name for name in names if name in UNDO and name not in scenario.partners.rejected]
    undone = [name for name in names if name in UNDO.values()]
    if final is OrderState.CANCELLED:
        assert undone == [UNDO[name] for name in reversed(done)], scenario.seed
        assert "capture_payment" not in names and "confirm_shipment" not in names
    else:
        assert final is OrderState.COMPLETED, scenario.seed
        assert undone == []
        expected_captures = 1 if scenario.channel is Channel.STOREFRONT else 0
        assert names.count("capture_payment") == expected_captures
        assert names.count("authorize_payment") == expected_captures


@pytest.mark.parametrize("seed", range(SCENARIOS))
async def test_random_scenario_keeps_the_invariants(
    time_env: WorkflowEnvironment, task_queue: str, seed: int
) -> None:
    scenario = Scenario.draw(seed)
    async with worker(time_env, task_queue, scenario.partners):
        handle = await run(time_env, task_queue, scenario)
        status = await handle.query(OrderWorkflow.status)
    moves = [entry.state for entry in status.timeline if entry.event == "moved"]
    assert_invariants(scenario, moves)
    if status.state == OrderState.COMPLETED and scenario.channel is Channel.STOREFRONT:
        capture = next(c for n, c in scenario.partners.calls if n == "capture_payment")
        assert status.captured == capture.amount == status.authorization.amount  # type: ignore[union-attr]
