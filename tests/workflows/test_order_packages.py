"""Multi-package orders: a label and a channel confirmation per package with the item
quantities it carries, delivered when every parcel is, and one lost parcel handled on
its own (claim, then reship it or refund its share) while the others go on
(time-skipping server, stand-in partners)."""

from __future__ import annotations

from datetime import timedelta

from temporalio.testing import WorkflowEnvironment

from crossdock.models.order import Order
from crossdock.models.order_states import OrderState
from crossdock.models.order_steps import BuyLabelInput, CancelRequest, ConfirmShipmentInput
from tests.conftest import skip_time
from tests.factories import NOW, line_item, order
from tests.workflows.order_harness import OPERATOR, start, wait_for_state, worker
from tests.workflows.stand_ins import Partners
from tests.workflows.test_order_parcel import CLOCKS, SILENT_PAST_LOST, decide, scan, signal
from workflows.order import OrderWorkflow

# Four mugs (420 g) and three T-shirts (180 g), at most 2 kg a parcel: package 1 holds the
# mugs and one T-shirt (1860 g), package 2 the other two T-shirts.
MUGS = line_item(quantity=4, line_id="10001")
TEES = line_item(
    sku="TEE-ORGANIC-M",
    title="Organic cotton T-shirt, size M",
    quantity=3,
    hs_code="610910",
    origin_country="PT",
    weight_grams=180,
    unit_price=line_item().unit_price.model_copy(update={"amount": 2900}),
    line_id="10002",
)
POLICY = CLOCKS | {"max_parcel_grams": 2000}


def heavy_order(number: str) -> Order:
    return order(channel_order_id=number, items=[MUGS, TEES], deliver_by=NOW + timedelta(days=30))


def carried(call: BuyLabelInput | ConfirmShipmentInput) -> list[tuple[str, int]]:
    return [(item.line_id, item.quantity) for item in call.order.items]


async def test_each_package_is_labelled_and_confirmed_with_its_items(
    time_env: WorkflowEnvironment, task_queue: str
) -> None:
    partners = Partners()
    async with worker(time_env, task_queue, partners):
        handle = await start(time_env, task_queue, heavy_order("SF80000001"), **POLICY)
        await wait_for_state(handle, OrderState.PAYMENT_CAPTURED)
        await signal(handle, scan(1, "in_transit", parcel=1), scan(1, "in_transit", parcel=2))
        await signal(handle, scan(2, "delivered", parcel=1))
        await wait_for_state(handle, OrderState.IN_TRANSIT)
        assert (await handle.query(OrderWorkflow.status)).state == OrderState.IN_TRANSIT
        await signal(handle, scan(2, "delivered", parcel=2))
        result = await handle.result()
    assert result.state == OrderState.COMPLETED
    labels = [call for name, call in partners.calls if name == "buy_label"]
    confirms = [call for name, call in partners.calls if name == "confirm_shipment"]
    assert [carried(c) for c in labels] == [[("10001", 4), ("10002", 1)], [("10002", 2)]]
    assert [carried(c) for c in confirms] == [[("10001", 4), ("10002", 1)], [("10002", 2)]]
    assert [(c.package, c.tracking_code) for c in confirms] == [
        (1, "EZ1000000001"),
        (2, "EZ1000000002"),
    ]
    assert [c.idempotency_key.split("/", 1)[1] for c in confirms] == [
        "package-1/confirm",
        "package-2/confirm",
    ]
    assert partners.names().count("capture_payment") == 1


async def test_a_lost_package_is_refunded_on_its_own_and_the_order_completes(
    time_env: WorkflowEnvironment, task_queue: str
) -> None:
    partners = Partners()
    o = heavy_order("SF80000002")
    async with worker(time_env, task_queue, partners):
        handle = await start(time_env, task_queue, o, **POLICY)
        await wait_for_state(handle, OrderState.PAYMENT_CAPTURED)
        await signal(handle, scan(1, "in_transit", parcel=1), scan(1, "in_transit", parcel=2))
        await signal(handle, scan(2, "delivered", parcel=1))
        await skip_time(time_env, SILENT_PAST_LOST)  # package 2 falls silent: lost
        await wait_for_state(handle, OrderState.EXCEPTION)
        await handle.execute_update(OrderWorkflow.decide, decide("refund"))
        result = await handle.result()
        status = await handle.query(OrderWorkflow.status)
    two_tees = TEES.unit_price * 2
    claim = next(call for name, call in partners.calls if name == "file_carrier_claim")
    assert (claim.tracking_code, claim.amount) == ("EZ1000000002", two_tees)
    refund = next(call for name, call in partners.calls if name == "refund_payment")
    assert refund.amount == two_tees
    assert result.state == OrderState.COMPLETED and result.refunded == two_tees
    assert [p.outcome for p in status.parcels] == ["delivered", "refunded"]


async def test_a_lost_package_is_reshipped_as_a_new_package(
    time_env: WorkflowEnvironment, task_queue: str
) -> None:
    partners = Partners()
    async with worker(time_env, task_queue, partners):
        handle = await start(time_env, task_queue, heavy_order("SF80000003"), **POLICY)
        await wait_for_state(handle, OrderState.PAYMENT_CAPTURED)
        await signal(handle, scan(1, "in_transit", parcel=1), scan(1, "in_transit", parcel=2))
        await skip_time(time_env, SILENT_PAST_LOST)  # both silent; the longest silent first
        await wait_for_state(handle, OrderState.EXCEPTION)
        await handle.execute_update(OrderWorkflow.decide, decide("reship"))
        await wait_for_state(handle, OrderState.SHIPMENT_CONFIRMED)
        status = await handle.query(OrderWorkflow.status)
        await handle.terminate("test over")
    reshipped = [call for name, call in partners.calls if name == "buy_label"][-1]
    confirm = [call for name, call in partners.calls if name == "confirm_shipment"][-1]
    assert carried(reshipped) == [("10001", 4), ("10002", 1)]
    assert reshipped.idempotency_key.endswith("/package-3/label")
    assert (confirm.package, confirm.tracking_code) == (3, "EZ1000000003")
    assert [len(p.previous_labels) for p in status.parcels] == [1, 0]


async def test_a_cancellation_between_two_labels_stops_and_voids_the_first(
    time_env: WorkflowEnvironment, task_queue: str
) -> None:
    partners = Partners()
    async with worker(time_env, task_queue, partners):
        handle = await start(time_env, task_queue, heavy_order("SF80000004"), **POLICY)

        async def cancelled_meanwhile() -> None:
            if partners.names().count("buy_label") == 1:
                request = CancelRequest(reason="buyer asked", by=OPERATOR)
                await handle.execute_update(OrderWorkflow.cancel, request)

        partners.during_label = cancelled_meanwhile
        result = await handle.result()
    assert result.state == OrderState.CANCELLED
    assert partners.names().count("buy_label") == 1
    assert partners.names()[-5:] == [
        "void_label",
        "cancel_declaration",
        "release_stock",
        "void_authorization",
        "cancel_on_channel",
    ]
