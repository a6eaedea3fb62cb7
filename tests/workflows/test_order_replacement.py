"""A replacement order (sent for a return): validated, declared, labelled and tracked
like any order, but nothing is charged or refunded on it and the channel, which has the
original order, is not told (time-skipping server, stand-in partners)."""

from __future__ import annotations

import pytest
from temporalio.client import WorkflowUpdateFailedError
from temporalio.testing import WorkflowEnvironment

from crossdock.models.order import Channel
from crossdock.models.order_cases import RefundRequest
from crossdock.models.order_states import OrderState
from crossdock.money import Money
from tests.factories import order
from tests.workflows.order_harness import deliver, start_replacement, wait_for_state, worker
from tests.workflows.stand_ins import Partners
from workflows.order import OrderWorkflow

ORIGINAL = "order-amazon-302-0000000-7000001"


@pytest.mark.parametrize("channel", [Channel.STOREFRONT, Channel.AMAZON])
async def test_a_replacement_ships_free_and_is_not_confirmed_to_the_channel(
    time_env: WorkflowEnvironment, task_queue: str, channel: Channel
) -> None:
    partners = Partners()
    o = order(channel=channel, channel_order_id=f"R-{channel.value}-7000001")
    async with worker(time_env, task_queue, partners):
        handle = await start_replacement(time_env, task_queue, o, ORIGINAL)
        await wait_for_state(handle, OrderState.SHIPMENT_CONFIRMED)
        with pytest.raises(WorkflowUpdateFailedError) as refused:
            await handle.execute_update(
                OrderWorkflow.reserve_refund,
                RefundRequest(
                    case_id="return-x", amount=Money(amount=100, currency="EUR"), reason="x"
                ),
            )
        await deliver(handle)
        result = await handle.result()
        status = await handle.query(OrderWorkflow.status)
    assert result.state == OrderState.COMPLETED and result.captured is None
    names = partners.names()
    assert {"buy_label", "file_declaration", "reserve_stock", "fulfil_stock"} <= set(names)
    assert not {"authorize_payment", "verify_marketplace_payment", "capture_payment"} & set(names)
    assert "confirm_shipment" not in names
    assert "exceeds what is left to refund (0.00 EUR" in str(refused.value.cause)
    assert status.replacement_of == ORIGINAL
