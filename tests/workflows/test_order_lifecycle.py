"""Order branches beyond the happy path: cancellation, customs holds, late shipment and
late delivery (time-skipping server, stand-in partners)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from temporalio.client import WorkflowUpdateFailedError
from temporalio.testing import WorkflowEnvironment

from crossdock.models.approval import Decision, DecisionAction
from crossdock.models.order_states import OrderState
from crossdock.models.order_steps import CancelRequest
from tests.conftest import skip_time
from tests.factories import NOW, order
from tests.workflows.order_harness import (
    OPERATOR,
    VIEWER,
    OrderHandle,
    deliver,
    event,
    start,
    wait_for_question,
    wait_for_state,
    worker,
)
from tests.workflows.stand_ins import Partners
from tests.workflows.test_order_refusals import record
from workflows.order import OrderWorkflow


def cancel_request(reason: str = "buyer asked", by: object = OPERATOR) -> CancelRequest:
    return CancelRequest.model_validate({"reason": reason, "by": by})


async def timeline_events(handle: OrderHandle) -> list[tuple[str, str]]:
    status = await handle.query(OrderWorkflow.status)
    return [(entry.event, entry.state) for entry in status.timeline]


async def test_cancellation_racing_the_label_purchase_voids_the_label(
    time_env: WorkflowEnvironment, task_queue: str
) -> None:
    partners = Partners()
    o = order(channel_order_id="SF20000001")
    async with worker(time_env, task_queue, partners):
        handle = await start(time_env, task_queue, o)

        async def buyer_cancels_meanwhile() -> None:
            receipt = await handle.execute_update(OrderWorkflow.cancel, cancel_request())
            assert receipt.accepted_in_state == OrderState.CUSTOMS_DECLARED

        partners.during_label = buyer_cancels_meanwhile
        result = await handle.result()
    assert result.state == OrderState.CANCELLED
    assert "cancelled by op-7: buyer asked" in result.reason
    assert partners.names()[-6:] == [
        "buy_label",
        "void_label",
        "cancel_declaration",
        "release_stock",
        "void_authorization",
        "cancel_on_channel",
    ]
    assert "confirm_shipment" not in partners.names()


async def test_cancellation_is_refused_after_shipment_and_for_viewers(
    time_env: WorkflowEnvironment, task_queue: str
) -> None:
    partners = Partners()
    o = order(channel_order_id="SF20000002")
    async with worker(time_env, task_queue, partners):
        handle = await start(time_env, task_queue, o)
        await wait_for_state(handle, OrderState.PAYMENT_CAPTURED)
        with pytest.raises(WorkflowUpdateFailedError) as refused:
            await handle.execute_update(OrderWorkflow.cancel, cancel_request())
        assert "request a return instead" in str(refused.value.cause)
        with pytest.raises(WorkflowUpdateFailedError) as viewer:
            await handle.execute_update(OrderWorkflow.cancel, cancel_request(by=VIEWER))
        assert "role viewer may not cancel orders" in str(viewer.value.cause)
        await deliver(handle)
        result = await handle.result()
    assert result.state == OrderState.COMPLETED
    assert "void_authorization" not in partners.names()


async def test_customs_hold_waits_for_release_then_ships(
    time_env: WorkflowEnvironment, task_queue: str
) -> None:
    partners = Partners(hold_declaration=True, holds_before_release=2)
    o = order(channel_order_id="SF20000003")
    async with worker(time_env, task_queue, partners):
        handle = await start(time_env, task_queue, o, customs_poll_seconds=3600)
        await wait_for_state(handle, OrderState.CUSTOMS_HOLD)
        await deliver(handle)  # signals buffer until the order is in transit
        result = await handle.result()
        events = await timeline_events(handle)
    assert result.state == OrderState.COMPLETED
    assert partners.names().count("check_declaration") == 3
    assert ("moved", "customs_hold") in events
    assert ("attention_cleared", "customs_hold") in events
    assert partners.names().index("buy_label") > partners.names().index("check_declaration")


async def test_customs_hold_past_its_deadline_cancels_and_compensates(
    time_env: WorkflowEnvironment, task_queue: str
) -> None:
    partners = Partners(hold_declaration=True, holds_before_release=10_000)
    o = order(channel_order_id="SF20000004")
    async with worker(time_env, task_queue, partners):
        handle = await start(
            time_env,
            task_queue,
            o,
            customs_poll_seconds=6 * 3600,
            customs_hold_timeout_seconds=2 * 24 * 3600,
        )
        result = await handle.result()
    assert result.state == OrderState.CANCELLED
    assert "did not release" in result.reason
    assert partners.names().count("check_declaration") == 8  # every 6 h for 2 days
    assert partners.names()[-4:] == [
        "cancel_declaration",
        "release_stock",
        "void_authorization",
        "cancel_on_channel",
    ]


async def test_operator_can_abandon_a_customs_hold(
    time_env: WorkflowEnvironment, task_queue: str
) -> None:
    partners = Partners(hold_declaration=True, holds_before_release=10_000)
    o = order(channel_order_id="SF20000005")
    async with worker(time_env, task_queue, partners):
        handle = await start(time_env, task_queue, o)
        await wait_for_state(handle, OrderState.CUSTOMS_HOLD)
        await handle.execute_update(
            OrderWorkflow.cancel, cancel_request("goods abandoned at customs")
        )
        result = await handle.result()
    assert result.state == OrderState.CANCELLED
    assert "goods abandoned at customs" in result.reason
    assert partners.names()[-4:] == [
        "cancel_declaration",
        "release_stock",
        "void_authorization",
        "cancel_on_channel",
    ]


async def test_late_delivery_is_flagged_then_cleared_on_delivery(
    time_env: WorkflowEnvironment, task_queue: str
) -> None:
    partners = Partners()
    o = order(
        channel_order_id="SF20000006",
        ship_by=NOW + timedelta(days=1),
        deliver_by=NOW + timedelta(days=3),
    )
    async with worker(time_env, task_queue, partners):
        handle = await start(time_env, task_queue, o, delivery_grace_seconds=3600)
        await wait_for_state(handle, OrderState.PAYMENT_CAPTURED)
        await handle.signal(OrderWorkflow.tracking_update, event(1, "in_transit"))
        await wait_for_state(handle, OrderState.IN_TRANSIT)
        await skip_time(time_env, timedelta(days=4))
        await wait_for_state(handle, OrderState.DELAYED)
        assert (await handle.query(OrderWorkflow.status)).needs_attention
        await handle.signal(OrderWorkflow.tracking_update, event(3, "delivered"))
        result = await handle.result()
        events = await timeline_events(handle)
    assert result.state == OrderState.COMPLETED
    assert ("attention_cleared", "delayed") in events


async def test_near_ship_by_without_a_label_needs_attention_until_the_label(
    time_env: WorkflowEnvironment, task_queue: str
) -> None:
    partners = Partners()
    o = order(channel_order_id="SF20000007", ship_by=NOW + timedelta(hours=2))
    async with worker(time_env, task_queue, partners):
        handle = await start(time_env, task_queue, o, ship_by_warning_seconds=12 * 3600)
        await deliver(handle)
        await handle.result()
        status = await handle.query(OrderWorkflow.status)
    flags = [(e.event, e.detail) for e in status.timeline if e.event.startswith("attention")]
    assert len(flags) == 2
    assert flags[0][0] == "attention" and "no label yet" in flags[0][1]
    assert flags[1] == ("attention_cleared", "label bought")
    assert not status.needs_attention


async def test_ship_by_far_away_raises_nothing(
    time_env: WorkflowEnvironment, task_queue: str
) -> None:
    partners = Partners()
    o = order(channel_order_id="SF20000008", ship_by=NOW + timedelta(days=3))
    async with worker(time_env, task_queue, partners):
        handle = await start(time_env, task_queue, o, ship_by_warning_seconds=12 * 3600)
        await deliver(handle)
        await handle.result()
        status = await handle.query(OrderWorkflow.status)
    assert not [e for e in status.timeline if e.event.startswith("attention")]


async def test_a_refused_undo_asks_a_person_and_the_other_undos_still_run(
    time_env: WorkflowEnvironment, task_queue: str
) -> None:
    partners = Partners(reject_label=True, refuse=frozenset({"cancel_declaration"}))
    o = order(channel_order_id="SF20000009")
    async with worker(time_env, task_queue, partners):
        handle = await start(time_env, task_queue, o)
        question = await wait_for_question(handle)
        waiting = await handle.query(OrderWorkflow.status)
        await handle.execute_update(
            OrderWorkflow.decide,
            Decision(
                key=question.approval_key,
                action=DecisionAction.APPROVE,
                option="done_by_hand",
                reason="declaration withdrawn at the customs portal",
                by=OPERATOR,
            ),
        )
        result = await handle.result()
        status = await handle.query(OrderWorkflow.status)
        await record(handle, "order-storefront-undo-refused-done-by-hand")
    # The case stayed open, in the inbox, until a person finished the undo.
    assert waiting.state == OrderState.CANCELLED and waiting.needs_attention
    assert "cancel_declaration" in question.refusal.message and not question.money
    assert result.state == OrderState.CANCELLED and not status.needs_attention
    assert "customs portal" in status.timeline[-1].detail
    assert partners.names()[-4:] == [
        "cancel_declaration",
        "release_stock",
        "void_authorization",
        "cancel_on_channel",
    ]
