"""OrderWorkflow on the time-skipping server with stand-in activities."""

from __future__ import annotations

from temporalio.testing import WorkflowEnvironment

from crossdock.models.order import Channel, Incoterm
from crossdock.models.order_states import OrderState
from crossdock.money import Money
from tests.factories import order
from tests.workflows.order_harness import (
    RETURN_WINDOW,
    deliver,
    event,
    start,
    wait_for_state,
    worker,
)
from tests.workflows.stand_ins import Partners
from workflows.order import OrderWorkflow


async def test_storefront_order_runs_to_completion_and_captures_what_the_buyer_owes(
    time_env: WorkflowEnvironment, task_queue: str
) -> None:
    partners = Partners(duties=500, taxes=1200)
    o = order(incoterm=Incoterm.DDP)
    async with worker(time_env, task_queue, partners):
        handle = await start(time_env, task_queue, o)
        await wait_for_state(handle, OrderState.PAYMENT_CAPTURED)
        await deliver(handle)
        result = await handle.result()
        status = await handle.query(OrderWorkflow.status)  # a closed workflow needs a worker

    owed = o.order_total + Money(amount=1700, currency="EUR")
    assert result.state == OrderState.COMPLETED
    assert result.captured == owed
    assert partners.names() == [
        "quote_landed_cost",
        "verify_address",
        "authorize_payment",
        "reserve_stock",
        "file_declaration",
        "buy_label",
        "confirm_shipment",
        "fulfil_stock",
        "capture_payment",
    ]
    keys = [
        call.idempotency_key
        for name, call in partners.calls
        if hasattr(call, "idempotency_key") and name != "notify_buyer"
    ]
    told = [(m.template.value, m.idempotency_key) for m in partners.messages()]
    assert told == [
        (template, f"{o.workflow_id}/notify-{step}")
        for template, step in (
            ("order_confirmed", "confirmed"),
            ("shipped", "shipped"),
            ("delivered", "delivered"),
        )
    ]
    assert keys == [
        f"{o.workflow_id}/{step}"
        for step in (
            "authorize",
            "reserve-stock",
            "declare",
            "label",
            "confirm",
            "package-1/fulfil",
            "capture",
        )
    ]
    moves = [entry.state for entry in status.timeline if entry.event == "moved"]
    assert moves == [
        "validated",
        "payment_secured",
        "customs_declared",
        "label_bought",
        "shipment_confirmed",
        "payment_captured",
        "in_transit",
        "delivered",
        "completed",
    ]
    delivered_at = next(e.at for e in status.timeline if e.state == "delivered")
    completed_at = status.timeline[-1].at
    assert completed_at - delivered_at >= RETURN_WINDOW


async def test_dap_order_charges_only_taxes_collected_at_sale(
    time_env: WorkflowEnvironment, task_queue: str
) -> None:
    partners = Partners(duties=500, taxes=1200)
    o = order(incoterm=Incoterm.DAP, channel_order_id="SF10000002")
    async with worker(time_env, task_queue, partners):
        handle = await start(time_env, task_queue, o)
        await wait_for_state(handle, OrderState.PAYMENT_CAPTURED)
        status = await handle.query(OrderWorkflow.status)
        await handle.terminate("test done")
    assert status.captured == o.order_total + Money(amount=1200, currency="EUR")


async def test_marketplace_order_verifies_payment_and_never_captures(
    time_env: WorkflowEnvironment, task_queue: str
) -> None:
    partners = Partners()
    o = order(channel=Channel.AMAZON, channel_order_id="302-1234567-1234567")
    async with worker(time_env, task_queue, partners):
        handle = await start(time_env, task_queue, o)
        await wait_for_state(handle, OrderState.SHIPMENT_CONFIRMED)
        await deliver(handle)
        result = await handle.result()
    assert result.state == OrderState.COMPLETED
    assert result.captured is None
    assert "verify_marketplace_payment" in partners.names()
    assert not {"authorize_payment", "capture_payment"} & set(partners.names())


async def test_declined_card_cancels_with_nothing_left_to_undo(
    time_env: WorkflowEnvironment, task_queue: str
) -> None:
    partners = Partners(decline_card=True)
    async with worker(time_env, task_queue, partners):
        handle = await start(time_env, task_queue, order(channel_order_id="SF10000003"))
        result = await handle.result()
    assert result.state == OrderState.CANCELLED
    assert "declined" in result.reason
    assert partners.names() == [
        "quote_landed_cost",
        "verify_address",
        "authorize_payment",
        "cancel_on_channel",
    ]


async def test_unpaid_marketplace_order_is_cancelled(
    time_env: WorkflowEnvironment, task_queue: str
) -> None:
    partners = Partners(marketplace_paid=False)
    o = order(channel=Channel.EBAY, channel_order_id="12-34567-89012")
    async with worker(time_env, task_queue, partners):
        result = await (await start(time_env, task_queue, o)).result()
    assert result.state == OrderState.CANCELLED
    assert "unpaid" in result.reason


async def test_label_rejection_undoes_declaration_then_authorization(
    time_env: WorkflowEnvironment, task_queue: str
) -> None:
    partners = Partners(reject_label=True)
    o = order(channel_order_id="SF10000004")
    async with worker(time_env, task_queue, partners):
        result = await (await start(time_env, task_queue, o)).result()
    assert result.state == OrderState.CANCELLED
    assert partners.names()[-5:] == [
        "buy_label",
        "cancel_declaration",
        "release_stock",
        "void_authorization",
        "cancel_on_channel",
    ]
    (told,) = [call for name, call in partners.calls if name == "cancel_on_channel"]
    assert told.reason == "address_undeliverable"
    undo_keys = [call.idempotency_key for name, call in partners.partner_calls()[-4:-1]]
    assert undo_keys == [
        f"{o.workflow_id}/{step}" for step in ("cancel-declaration", "release-stock", "void")
    ]


async def test_duplicate_and_out_of_order_tracking_never_moves_backwards(
    time_env: WorkflowEnvironment, task_queue: str
) -> None:
    partners = Partners()
    o = order(channel_order_id="SF10000005")
    async with worker(time_env, task_queue, partners):
        handle = await start(time_env, task_queue, o)
        await wait_for_state(handle, OrderState.PAYMENT_CAPTURED)
        await handle.signal(OrderWorkflow.tracking_update, event(2, "out_for_delivery"))
        await handle.signal(OrderWorkflow.tracking_update, event(1, "in_transit"))  # late
        await handle.signal(OrderWorkflow.tracking_update, event(2, "out_for_delivery"))  # dup
        await wait_for_state(handle, OrderState.IN_TRANSIT)
        status = await handle.query(OrderWorkflow.status)
        assert status.tracking_status == "out_for_delivery"
        assert [e.event for e in status.timeline].count("tracking_update") == 1
        await handle.signal(OrderWorkflow.tracking_update, event(3, "delivered"))
        result = await handle.result()
    assert result.state == OrderState.COMPLETED
