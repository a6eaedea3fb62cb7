"""Returns started by intake: a buyer's cancellation that reaches a shipped order becomes
a return of the whole order (time-skipping server, a real OrderWorkflow)."""

from __future__ import annotations

from functools import partial

from temporalio.testing import WorkflowEnvironment

from activities.cancellation_requests import BuyerRequest, CancellationRelay
from activities.return_intake import return_for_cancellation, translate
from crossdock.config import Settings
from crossdock.models.intake import CancellationOutcome
from crossdock.models.order import Channel
from crossdock.models.return_states import ReturnState
from crossdock.models.returns import ReturnLine, ReturnReason, ReturnResult, ReturnSource
from crossdock.partners.amazon import AmazonOrdersClient
from crossdock.partners.ebay_post_order import EbayPostOrderClient
from crossdock.partners.ebay_returns import EbayReturnRequest
from starter.returns import ReturnStarter
from tests.factories import NOW, line_item, order
from tests.workflows.return_harness import (
    ReturnHandle,
    ReturnPartners,
    delivered_order,
    wait_for,
    worker,
)
from tests.workflows.stand_ins import Partners
from workflows.returns import ReturnWorkflow

UNUSED = "http://127.0.0.1:9"


async def test_cancellation_after_shipment_becomes_a_return_once(
    time_env: WorkflowEnvironment, task_queue: str
) -> None:
    partners, returns = Partners(), ReturnPartners()
    o = order(channel=Channel.AMAZON, channel_order_id="111-2222222-3333333")
    settings = Settings(task_queue=task_queue, _env_file=None)
    relay = CancellationRelay(
        time_env.client,
        AmazonOrdersClient(UNUSED, "unused", "A1PA6795UKMFR9"),
        EbayPostOrderClient(UNUSED, "unused"),
        after_shipment=partial(
            return_for_cancellation, time_env.client, ReturnStarter(time_env.client, settings)
        ),
    )
    request = BuyerRequest(
        request_id=o.channel_order_id,
        channel=Channel.AMAZON,
        channel_order_id=o.channel_order_id,
        reason="NoLongerNeeded",
    )
    async with worker(time_env, task_queue, partners, returns):
        await delivered_order(time_env, task_queue, o, returns)
        handled = await relay.handle(request)
        again = await relay.handle(request)  # relayed again: no second return
        handle: ReturnHandle = time_env.client.get_workflow_handle(
            f"return-amazon-cancel-{o.channel_order_id}", result_type=ReturnResult
        )
        returns.started.append(handle)
        await wait_for(handle, ReturnState.LABEL_ISSUED)
        status = await handle.query(ReturnWorkflow.status)
    assert handled.outcome is CancellationOutcome.REFUSED
    assert again.outcome is CancellationOutcome.REFUSED
    assert status.request.source is ReturnSource.CANCELLATION
    assert status.request.reason is ReturnReason.CHANGED_MIND
    assert status.request.lines == [ReturnLine(sku="MUG-STONEWARE", quantity=2)]
    assert returns.names().count("buy_return_label") == 1


def test_an_ebay_request_is_read_against_its_order_line() -> None:
    o = order(
        channel=Channel.EBAY,
        channel_order_id="12-34567-89012",
        items=[line_item(line_id="10001"), line_item(sku="BOWL", line_id="10002")],
    )
    found = EbayReturnRequest(
        return_id="5000000001",
        order_id="12-34567-89012",
        item_id="110001",
        transaction_id="10002",
        quantity=5,
        reason="ARRIVED_DAMAGED",
        created_at=NOW,
    )
    request = translate(found, o)
    assert request is not None
    assert request.workflow_id == "return-ebay-5000000001"
    assert request.reason is ReturnReason.DAMAGED
    assert request.lines == [ReturnLine(sku="BOWL", quantity=2)]  # never more than sold
    other = found.model_copy(update={"transaction_id": "99999"})
    assert translate(other, o) is None
