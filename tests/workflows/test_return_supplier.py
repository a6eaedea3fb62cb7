"""Supplier RMAs after inspection (time-skipping, a real OrderWorkflow, a stand-in
supplier): a dropshipped line raises one RMA with the inspected condition, own stock
raises none, and a supplier's refusal is flagged while the buyer is still refunded."""

from __future__ import annotations

from temporalio.testing import WorkflowEnvironment

from crossdock.models.approval import Decision, DecisionAction, Principal, Role
from crossdock.models.order import LineItem
from crossdock.models.return_states import ReturnState
from crossdock.models.returns import (
    InspectedLine,
    Inspection,
    InspectionVerdict,
    ReturnReason,
)
from crossdock.models.suppliers import SupplierRmaInput, SupplierRmaStatus
from crossdock.money import Money
from tests.factories import line_item, order
from tests.workflows.return_harness import (
    OPERATOR,
    ReturnPartners,
    delivered_order,
    request,
    send_back,
    start_return,
    wait_for,
    worker,
)
from tests.workflows.stand_ins import Partners
from workflows.returns import ReturnWorkflow
from workflows.search import NEEDS_ATTENTION

CHECKER = Principal(id="ops-9", role=Role.OPERATOR)
MILL = "sup-highland-mill"  # ships SCARF-WOOL for us (crossdock/data/suppliers.json)


def scarf() -> LineItem:
    return line_item(
        sku="SCARF-WOOL",
        title="Lambswool scarf",
        quantity=1,
        unit_price=Money(amount=4500, currency="EUR"),
        hs_code="611710",
        origin_country="GB",
        weight_grams=150,
        line_id="10002",
    )


def verdicts(*lines: tuple[str, InspectionVerdict]) -> Inspection:
    return Inspection(
        lines=[InspectedLine(sku=sku, verdict=verdict) for sku, verdict in lines], by=OPERATOR
    )


def rma_requests(returns: ReturnPartners) -> list[SupplierRmaInput]:
    return [arg for name, arg in returns.calls if name == "request_supplier_rma"]


async def test_a_dropshipped_line_raises_one_rma_with_the_inspected_condition(
    time_env: WorkflowEnvironment, task_queue: str
) -> None:
    partners, returns = Partners(), ReturnPartners()
    o = order(channel_order_id="SFSUP001", items=[line_item(), scarf()])
    async with worker(time_env, task_queue, partners, returns):
        await delivered_order(time_env, task_queue, o, returns)
        handle = await start_return(
            time_env, task_queue, request(o, reason=ReturnReason.DAMAGED), returns
        )
        await send_back(handle)
        await handle.execute_update(
            ReturnWorkflow.inspect,
            verdicts(
                ("MUG-STONEWARE", InspectionVerdict.ACCEPTED),
                ("SCARF-WOOL", InspectionVerdict.DAMAGED),
            ),
        )
        result = await handle.result()
        status = await handle.query(ReturnWorkflow.status)
    assert result.state == ReturnState.REFUNDED
    # Only the scarf goes back to its supplier, as the warehouse found it; the mug is ours.
    [sent] = rma_requests(returns)
    assert sent.supplier_id == MILL
    assert [(line.sku, line.quantity, line.condition) for line in sent.lines] == [
        ("SCARF-WOOL", 1, InspectionVerdict.DAMAGED)
    ]
    assert sent.idempotency_key == f"{handle.id}/supplier-rma-{MILL}"
    assert sent.order_reference == handle.id and sent.reason is ReturnReason.DAMAGED
    assert sent.delivered_at is not None
    # Raised after inspection, before the buyer's refund.
    names = returns.names()
    assert names.index("request_supplier_rma") < names.index("issue_refund")
    [rma] = status.supplier_rmas
    assert (rma.status, rma.credit) == (
        SupplierRmaStatus.AUTHORIZED,
        Money(amount=1750, currency="GBP"),
    )
    [note] = [e for e in status.timeline if e.event == "supplier_rma_requested"]
    assert note.detail.startswith(f"{MILL} rma_{MILL} authorized")
    assert not status.needs_attention


async def test_own_stock_raises_no_rma(time_env: WorkflowEnvironment, task_queue: str) -> None:
    partners, returns = Partners(), ReturnPartners()
    o = order(channel_order_id="SFSUP002")
    async with worker(time_env, task_queue, partners, returns):
        await delivered_order(time_env, task_queue, o, returns)
        handle = await start_return(time_env, task_queue, request(o), returns)
        await send_back(handle)
        await handle.execute_update(
            ReturnWorkflow.inspect, verdicts(("MUG-STONEWARE", InspectionVerdict.ACCEPTED))
        )
        result = await handle.result()
        status = await handle.query(ReturnWorkflow.status)
    assert result.state == ReturnState.REFUNDED
    assert rma_requests(returns) == []
    assert status.supplier_rmas == []


async def test_a_wrong_item_is_not_sent_to_the_supplier(
    time_env: WorkflowEnvironment, task_queue: str
) -> None:
    partners, returns = Partners(), ReturnPartners()
    o = order(channel_order_id="SFSUP003", items=[line_item(), scarf()])
    async with worker(time_env, task_queue, partners, returns):
        await delivered_order(time_env, task_queue, o, returns)
        handle = await start_return(
            time_env, task_queue, request(o, reason=ReturnReason.DAMAGED), returns
        )
        await send_back(handle)
        await handle.execute_update(
            ReturnWorkflow.inspect,
            verdicts(
                ("MUG-STONEWARE", InspectionVerdict.ACCEPTED),
                ("SCARF-WOOL", InspectionVerdict.WRONG_ITEM),
            ),
        )
        # An operator lets the rest (the mug) be refunded.
        await wait_for(handle, ReturnState.INSPECTED)
        await handle.execute_update(
            ReturnWorkflow.decide,
            Decision(key="wrong-item", action=DecisionAction.APPROVE, by=CHECKER),
        )
        result = await handle.result()
    assert result.state == ReturnState.REFUNDED
    assert rma_requests(returns) == []


async def test_a_supplier_refusal_is_flagged_and_the_buyer_still_refunded(
    time_env: WorkflowEnvironment, task_queue: str
) -> None:
    partners = Partners()
    returns = ReturnPartners(supplier_status=SupplierRmaStatus.REFUSED)
    o = order(channel_order_id="SFSUP004", items=[scarf()])
    async with worker(time_env, task_queue, partners, returns):
        await delivered_order(time_env, task_queue, o, returns)
        handle = await start_return(time_env, task_queue, request(o), returns)
        await send_back(handle)
        await handle.execute_update(
            ReturnWorkflow.inspect, verdicts(("SCARF-WOOL", InspectionVerdict.ACCEPTED))
        )
        result = await handle.result()
        status = await handle.query(ReturnWorkflow.status)
        described = await handle.describe()
    assert result.state == ReturnState.REFUNDED
    assert result.refunded is not None and result.refunded.amount > 0
    assert len(rma_requests(returns)) == 1
    [rma] = status.supplier_rmas
    assert rma.status is SupplierRmaStatus.REFUSED
    assert status.needs_attention
    [flag] = [e for e in status.timeline if e.event == "attention"]
    assert f"supplier {MILL} refused RMA" in flag.detail and "60-day" in flag.detail
    assert described.typed_search_attributes.get(NEEDS_ATTENTION) is True


async def test_a_request_the_supplier_rejects_is_flagged_and_the_buyer_still_refunded(
    time_env: WorkflowEnvironment, task_queue: str
) -> None:
    partners = Partners()
    returns = ReturnPartners(supplier_rejects="supplier_id: no supplier 'sup-highland-mill'")
    o = order(channel_order_id="SFSUP005", items=[scarf()])
    async with worker(time_env, task_queue, partners, returns):
        await delivered_order(time_env, task_queue, o, returns)
        handle = await start_return(time_env, task_queue, request(o), returns)
        await send_back(handle)
        await handle.execute_update(
            ReturnWorkflow.inspect, verdicts(("SCARF-WOOL", InspectionVerdict.ACCEPTED))
        )
        result = await handle.result()
        status = await handle.query(ReturnWorkflow.status)
    assert result.state == ReturnState.REFUNDED
    # Non-retryable: asked once, nothing recorded as an RMA, a person follows it up.
    assert len(rma_requests(returns)) == 1
    assert status.supplier_rmas == []
    assert status.needs_attention
    [failed] = [e for e in status.timeline if e.event == "supplier_rma_failed"]
    assert f"supplier RMA for {MILL} not raised" in failed.detail
    assert "no supplier" in failed.detail
