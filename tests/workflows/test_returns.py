"""ReturnWorkflow, every decision and deadline branch, against a real OrderWorkflow (its
ledger, links and queries) with stand-in partners on the time-skipping server."""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import Iterator

import pytest
from temporalio.client import WorkflowUpdateFailedError
from temporalio.testing import WorkflowEnvironment

from crossdock.models.approval import Decision, DecisionAction
from crossdock.models.order_states import OrderState
from crossdock.models.return_states import ReturnState
from crossdock.models.returns import (
    InspectedLine,
    Inspection,
    InspectionVerdict,
    OfferAnswer,
    ReturnReason,
    ReturnSource,
)
from crossdock.money import Money
from tests.factories import line_item, order
from tests.workflows.order_harness import wait_for_state
from tests.workflows.return_harness import (
    DAY,
    FINANCE,
    OPERATOR,
    TIMERS,
    ReturnHandle,
    ReturnPartners,
    delivered_order,
    request,
    scan,
    send_back,
    skip,
    start_return,
    wait_for,
    worker,
)
from tests.workflows.stand_ins import Partners
from workflows.order import OrderWorkflow
from workflows.returns import ReturnWorkflow

# The factory order: 2 mugs at 18.00 EUR, 9.90 shipping, 17.00 duties and taxes paid at
# checkout (DDP): 62.90 EUR captured. One mug's share of the taxes is 8.50.
PAID = 6290
ONE_MUG = 1800 + 850


@contextlib.contextmanager
def refused(reason: str) -> Iterator[None]:
    """The update is rejected by its validator, saying `reason`."""
    with pytest.raises(WorkflowUpdateFailedError) as rejected:
        yield
    assert re.search(reason, str(rejected.value.cause)), str(rejected.value.cause)


def eur(amount: int) -> Money:
    return Money(amount=amount, currency="EUR")


async def inspect_all(handle: ReturnHandle, verdict: InspectionVerdict, sku: str) -> None:
    await handle.execute_update(
        ReturnWorkflow.inspect,
        Inspection(lines=[InspectedLine(sku=sku, verdict=verdict)], by=OPERATOR),
    )


def decide(key: str, action: DecisionAction, **fields: object) -> Decision:
    return Decision.model_validate({"key": key, "action": action, "by": OPERATOR, **fields})


async def test_auto_approved_return_is_labelled_inspected_and_refunded_once(
    time_env: WorkflowEnvironment, task_queue: str
) -> None:
    partners, returns = Partners(), ReturnPartners()
    o = order(channel_order_id="SFRET001")
    async with worker(time_env, task_queue, partners, returns):
        order_handle = await delivered_order(time_env, task_queue, o, returns)
        handle = await start_return(
            time_env, task_queue, request(o, [("MUG-STONEWARE", 1)]), returns
        )
        await send_back(handle)
        await inspect_all(handle, InspectionVerdict.ACCEPTED, "MUG-STONEWARE")
        result = await handle.result()
        order_status = await order_handle.query(OrderWorkflow.status)
    assert result.state == ReturnState.REFUNDED
    # A withdrawal in France: no restocking fee; the mug's share of the taxes comes back.
    assert result.refunded == eur(ONE_MUG)
    assert returns.names().count("issue_refund") == 1
    assert returns.calls[0][0] == "buy_return_label"
    assert order_status.refunded == eur(ONE_MUG)
    [case] = order_status.cases
    assert case.workflow_id == handle.id and not case.open
    [reservation] = order_status.refund_reservations
    assert reservation.reservation_id == f"{handle.id}/refund"
    assert reservation.state == "succeeded"


async def test_operator_declines_with_reason_and_the_order_link_closes(
    time_env: WorkflowEnvironment, task_queue: str
) -> None:
    partners, returns = Partners(), ReturnPartners()
    o = order(channel_order_id="SFRET002")
    async with worker(time_env, task_queue, partners, returns):
        order_handle = await delivered_order(time_env, task_queue, o, returns)
        # Not received always goes to a person.
        handle = await start_return(
            time_env, task_queue, request(o, reason=ReturnReason.NOT_RECEIVED), returns
        )
        await wait_for(handle, ReturnState.IN_REVIEW)
        with refused("reason is required"):
            await handle.execute_update(
                ReturnWorkflow.decide, decide("decision", DecisionAction.REJECT)
            )
        await handle.execute_update(
            ReturnWorkflow.decide,
            decide("decision", DecisionAction.REJECT, reason="carrier shows it delivered"),
        )
        result = await handle.result()
        order_status = await order_handle.query(OrderWorkflow.status)
    assert result.state == ReturnState.DECLINED
    assert result.reason == "carrier shows it delivered"
    assert "issue_refund" not in returns.names()
    assert not order_status.cases[0].open
    assert order_status.refund_reservations == []


async def test_refund_over_the_finance_threshold_needs_a_finance_checker(
    time_env: WorkflowEnvironment, task_queue: str
) -> None:
    partners, returns = Partners(), ReturnPartners()
    maker = FINANCE.model_copy(update={"id": "fin-9"})
    o = order(
        channel_order_id="SFRET003",
        items=[line_item(sku="LAMP", unit_price=eur(30000), quantity=2)],
    )
    async with worker(time_env, task_queue, partners, returns):
        await delivered_order(time_env, task_queue, o, returns)
        r = request(o, reason=ReturnReason.DAMAGED, source=ReturnSource.OPERATOR, by=maker)
        handle = await start_return(time_env, task_queue, r, returns)
        await wait_for(handle, ReturnState.IN_REVIEW)
        approve = {"option": "returnless", "reason": "photos show the break"}
        with refused("needs role finance"):
            await handle.execute_update(
                ReturnWorkflow.decide, decide("decision", DecisionAction.APPROVE, **approve)
            )
        with refused("maker"):
            await handle.execute_update(
                ReturnWorkflow.decide,
                decide("decision", DecisionAction.APPROVE, **approve).model_copy(
                    update={"by": maker}
                ),
            )
        await handle.execute_update(
            ReturnWorkflow.decide,
            decide("decision", DecisionAction.APPROVE, **approve).model_copy(
                update={"by": FINANCE}
            ),
        )
        result = await handle.result()
    assert result.state == ReturnState.REFUNDED
    # Returnless: refunded without a label or inspection, goods + shipping + taxes.
    assert "buy_return_label" not in returns.names()
    assert result.refunded == eur(60000 + 990 + 1700)


async def test_undecided_return_is_accepted_at_expiry_as_marketplaces_do(
    time_env: WorkflowEnvironment, task_queue: str
) -> None:
    partners, returns = Partners(), ReturnPartners()
    o = order(channel_order_id="SFRET004")
    async with worker(time_env, task_queue, partners, returns):
        await delivered_order(time_env, task_queue, o, returns)
        handle = await start_return(
            time_env, task_queue, request(o, reason=ReturnReason.NOT_RECEIVED), returns
        )
        await wait_for(handle, ReturnState.IN_REVIEW)
        await skip(time_env, 2 * 3600)
        status = await handle.query(ReturnWorkflow.status)
        assert status.needs_attention  # reminded
        result = await handle.result()
        status = await handle.query(ReturnWorkflow.status)
    assert result.state == ReturnState.REFUNDED
    assert status.approvals[0].state == "expired"
    assert status.option == "returnless"  # not received: nothing to send back


async def test_partial_offer_accepted_by_the_buyer_refunds_the_offer(
    time_env: WorkflowEnvironment, task_queue: str
) -> None:
    partners, returns = Partners(), ReturnPartners()
    o = order(channel_order_id="SFRET005")
    async with worker(time_env, task_queue, partners, returns):
        await delivered_order(time_env, task_queue, o, returns)
        handle = await start_return(
            time_env, task_queue, request(o, reason=ReturnReason.NOT_RECEIVED), returns
        )
        await wait_for(handle, ReturnState.IN_REVIEW)
        with refused("needs the amount offered"):
            await handle.execute_update(
                ReturnWorkflow.decide,
                decide("decision", DecisionAction.APPROVE, option="partial_offer"),
            )
        await handle.execute_update(
            ReturnWorkflow.decide,
            decide("decision", DecisionAction.APPROVE, option="partial_offer", amount=eur(1000)),
        )
        await wait_for(handle, ReturnState.OFFERED)
        await handle.signal(ReturnWorkflow.answer_offer, OfferAnswer(accepted=True))
        result = await handle.result()
    assert result.state == ReturnState.REFUNDED
    assert result.refunded == eur(1000)


async def test_declined_offer_becomes_the_ordinary_return(
    time_env: WorkflowEnvironment, task_queue: str
) -> None:
    partners, returns = Partners(), ReturnPartners()
    o = order(channel_order_id="SFRET006", items=[line_item(unit_price=eur(9000))])
    async with worker(time_env, task_queue, partners, returns):
        await delivered_order(time_env, task_queue, o, returns)
        handle = await start_return(
            time_env, task_queue, request(o, reason=ReturnReason.NOT_AS_DESCRIBED), returns
        )
        await wait_for(handle, ReturnState.IN_REVIEW)
        await handle.execute_update(
            ReturnWorkflow.decide,
            decide("decision", DecisionAction.APPROVE, option="partial_offer", amount=eur(3000)),
        )
        await wait_for(handle, ReturnState.OFFERED)
        await handle.signal(ReturnWorkflow.answer_offer, OfferAnswer(accepted=False))
        await send_back(handle)
        await inspect_all(handle, InspectionVerdict.ACCEPTED, "MUG-STONEWARE")
        result = await handle.result()
    assert result.state == ReturnState.REFUNDED
    assert result.refunded == eur(PAID - 3600 + 18000)  # the whole order, at 90.00 a mug


async def test_buyer_who_never_ships_closes_the_return_and_the_label_is_voided(
    time_env: WorkflowEnvironment, task_queue: str
) -> None:
    partners, returns = Partners(), ReturnPartners()
    o = order(channel_order_id="SFRET007")
    async with worker(time_env, task_queue, partners, returns):
        order_handle = await delivered_order(time_env, task_queue, o, returns)
        handle = await start_return(
            time_env, task_queue, request(o, [("MUG-STONEWARE", 1)]), returns
        )
        await wait_for(handle, ReturnState.LABEL_ISSUED)
        await skip(time_env, 8 * DAY)
        result = await handle.result()
        order_status = await order_handle.query(OrderWorkflow.status)
    assert result.state == ReturnState.NOT_SHIPPED
    assert "void_label" in partners.names()
    assert not order_status.cases[0].open


async def test_inspection_writes_off_damaged_goods_and_escalates_wrong_items(
    time_env: WorkflowEnvironment, task_queue: str
) -> None:
    partners, returns = Partners(), ReturnPartners()
    o = order(
        channel_order_id="SFRET008",
        items=[line_item(quantity=1), line_item(sku="BOWL", quantity=1, line_id="10002")],
    )
    async with worker(time_env, task_queue, partners, returns):
        await delivered_order(time_env, task_queue, o, returns)
        handle = await start_return(time_env, task_queue, request(o), returns)
        await send_back(handle)
        with refused("'BOWL' was returned but has no"):
            await inspect_all(handle, InspectionVerdict.ACCEPTED, "MUG-STONEWARE")
        receipt = await handle.execute_update(
            ReturnWorkflow.inspect,
            Inspection(
                lines=[
                    InspectedLine(sku="MUG-STONEWARE", verdict=InspectionVerdict.DAMAGED),
                    InspectedLine(sku="BOWL", verdict=InspectionVerdict.WRONG_ITEM),
                ],
                by=OPERATOR,
            ),
        )
        assert receipt.written_off == ["MUG-STONEWARE"] and receipt.escalated == ["BOWL"]
        await handle.execute_update(
            ReturnWorkflow.decide,
            decide("wrong-item", DecisionAction.APPROVE, reason="refund the mug"),
        )
        result = await handle.result()
        status = await handle.query(ReturnWorkflow.status)
    # Changed mind, damaged by the buyer: half the mug, and half its share of the taxes.
    assert result.state == ReturnState.REFUNDED
    assert result.refunded == eur(900 + 1700 * 900 // 3600)
    assert status.written_off == ["MUG-STONEWARE"]


async def test_failed_refund_is_retried_as_a_new_refund(
    time_env: WorkflowEnvironment, task_queue: str
) -> None:
    partners, returns = Partners(), ReturnPartners(refund_states=["failed", "pending"])
    o = order(channel_order_id="SFRET009")
    async with worker(time_env, task_queue, partners, returns):
        order_handle = await delivered_order(time_env, task_queue, o, returns)
        handle = await start_return(
            time_env, task_queue, request(o, reason=ReturnReason.DAMAGED), returns
        )
        await send_back(handle)
        await inspect_all(handle, InspectionVerdict.DAMAGED, "MUG-STONEWARE")
        result = await handle.result()
        order_status = await order_handle.query(OrderWorkflow.status)
    assert result.state == ReturnState.REFUNDED
    keys = [call.idempotency_key for name, call in returns.calls if name == "issue_refund"]
    assert keys == [f"{handle.id}/refund", f"{handle.id}/refund-2"]
    assert "check_refund" in returns.names()  # the second one was pending, then succeeded
    states = [
        (r.reservation_id.rsplit("/", 1)[1], r.state) for r in order_status.refund_reservations
    ]
    assert states == [("refund", "failed"), ("refund-2", "succeeded")]
    assert order_status.refunded == eur(PAID)


async def test_refund_that_only_a_person_can_make_is_escalated_and_recorded(
    time_env: WorkflowEnvironment, task_queue: str
) -> None:
    partners, returns = Partners(), ReturnPartners(refund_states=["by_hand"])
    o = order(channel_order_id="SFRET010")
    async with worker(time_env, task_queue, partners, returns):
        order_handle = await delivered_order(time_env, task_queue, o, returns)
        handle = await start_return(
            time_env, task_queue, request(o, reason=ReturnReason.NOT_RECEIVED), returns
        )
        await wait_for(handle, ReturnState.IN_REVIEW)
        await handle.execute_update(
            ReturnWorkflow.decide,
            decide("decision", DecisionAction.APPROVE, option="returnless", amount=eur(2000)),
        )
        await wait_for(handle, ReturnState.REFUND_FAILED)
        assert (await handle.query(ReturnWorkflow.status)).approvals[-1].pending
        await handle.execute_update(
            ReturnWorkflow.decide,
            decide(
                "refund-failed-1",
                DecisionAction.APPROVE,
                option="refunded_by_hand",
                reason="refunded in Seller Central",
            ),
        )
        result = await handle.result()
        order_status = await order_handle.query(OrderWorkflow.status)
    assert result.state == ReturnState.REFUNDED
    assert returns.names().count("issue_refund") == 1  # no retry: it cannot help
    assert order_status.refunded == eur(2000)


async def test_concurrent_returns_on_one_order_never_refund_more_than_was_paid(
    time_env: WorkflowEnvironment, task_queue: str
) -> None:
    partners, returns = Partners(), ReturnPartners()
    # Cheap enough to refund without the goods (returnless), so all three race at once.
    o = order(channel_order_id="SFRET011", items=[line_item(unit_price=eur(700))])
    paid = 1400 + 990 + 1700
    async with worker(time_env, task_queue, partners, returns):
        order_handle = await delivered_order(time_env, task_queue, o, returns)
        handles = await asyncio.gather(
            *(
                start_return(time_env, task_queue, request(o, reason=ReturnReason.DAMAGED), returns)
                for _ in range(3)
            )
        )
        results = await asyncio.gather(*(h.result() for h in handles))
        order_status = await order_handle.query(OrderWorkflow.status)
    refunded = [r.refunded.amount for r in results if r.refunded is not None]
    assert sum(refunded) == paid
    assert sorted(r.state for r in results).count(ReturnState.CLOSED) == 2
    assert order_status.refunded == eur(paid)
    assert all(not case.open for case in order_status.cases)


async def test_return_naming_an_item_not_in_the_order_is_declined_at_once(
    time_env: WorkflowEnvironment, task_queue: str
) -> None:
    partners, returns = Partners(), ReturnPartners()
    o = order(channel_order_id="SFRET012")
    async with worker(time_env, task_queue, partners, returns):
        await delivered_order(time_env, task_queue, o, returns)
        handle = await start_return(time_env, task_queue, request(o, [("TEAPOT", 1)]), returns)
        result = await handle.result()
        status = await handle.query(ReturnWorkflow.status)
    assert result.state == ReturnState.DECLINED
    assert "lines[0].sku 'TEAPOT' is not in order SFRET012" in status.eligibility.problems[0]  # type: ignore[union-attr]


async def test_return_after_the_order_closed_is_declined_naming_why(
    time_env: WorkflowEnvironment, task_queue: str
) -> None:
    partners, returns = Partners(), ReturnPartners()
    o = order(channel_order_id="SFRET013")
    async with worker(time_env, task_queue, partners, returns):
        order_handle = await delivered_order(time_env, task_queue, o, returns)
        await skip(time_env, 31 * DAY)  # the return window ends: the order completes
        await order_handle.result()
        handle = await start_return(time_env, task_queue, request(o), returns)
        result = await handle.result()
    assert result.state == ReturnState.DECLINED
    assert result.reason.startswith("order order-storefront-SFRET013 is closed")
    assert "buy_return_label" not in returns.names()


async def test_return_parcel_lost_on_its_way_back_is_refunded_on_an_operators_word(
    time_env: WorkflowEnvironment, task_queue: str
) -> None:
    partners, returns = Partners(), ReturnPartners()
    o = order(channel_order_id="SFRET014")
    timers = TIMERS.model_copy(update={"transit_attention_seconds": 3 * DAY})
    async with worker(time_env, task_queue, partners, returns):
        await delivered_order(time_env, task_queue, o, returns)
        r = request(o, [("MUG-STONEWARE", 1)])
        handle = await start_return(time_env, task_queue, r, returns, timers)
        await wait_for(handle, ReturnState.LABEL_ISSUED)
        await handle.signal(ReturnWorkflow.tracking_update, scan(1, "in_transit"))
        await wait_for(handle, ReturnState.IN_TRANSIT)
        await skip(time_env, 3 * DAY + 7200)  # no delivery scan: a person is asked
        status = await handle.query(ReturnWorkflow.status)
        assert status.needs_attention and status.approvals[-1].request.key == "missing-parcel"
        await handle.execute_update(
            ReturnWorkflow.decide,
            decide("missing-parcel", DecisionAction.APPROVE, option="refund_without_parcel"),
        )
        result = await handle.result()
    assert result.state == ReturnState.REFUNDED
    assert result.refunded == eur(ONE_MUG)
    assert "buy_return_label" in returns.names()


async def test_a_late_delivery_scan_withdraws_the_missing_parcel_question(
    time_env: WorkflowEnvironment, task_queue: str
) -> None:
    partners, returns = Partners(), ReturnPartners()
    o = order(channel_order_id="SFRET015")
    timers = TIMERS.model_copy(update={"transit_attention_seconds": 3 * DAY})
    async with worker(time_env, task_queue, partners, returns):
        await delivered_order(time_env, task_queue, o, returns)
        r = request(o, [("MUG-STONEWARE", 1)])
        handle = await start_return(time_env, task_queue, r, returns, timers)
        await wait_for(handle, ReturnState.LABEL_ISSUED)
        await handle.signal(ReturnWorkflow.tracking_update, scan(1, "in_transit"))
        await wait_for(handle, ReturnState.IN_TRANSIT)
        await skip(time_env, 3 * DAY + 7200)
        await handle.signal(ReturnWorkflow.tracking_update, scan(2, "delivered"))
        await wait_for(handle, ReturnState.RECEIVED)
        status = await handle.query(ReturnWorkflow.status)
    assert status.approvals[-1].state == "withdrawn"
    assert not status.needs_attention


async def test_operator_sends_a_replacement_instead_of_a_refund(
    time_env: WorkflowEnvironment, task_queue: str
) -> None:
    partners, returns = Partners(), ReturnPartners()
    o = order(channel_order_id="SFRET020")
    async with worker(time_env, task_queue, partners, returns):
        await delivered_order(time_env, task_queue, o, returns)
        handle = await start_return(
            time_env, task_queue, request(o, reason=ReturnReason.NOT_RECEIVED), returns
        )
        await wait_for(handle, ReturnState.IN_REVIEW)
        await handle.execute_update(
            ReturnWorkflow.decide,
            decide("decision", DecisionAction.APPROVE, option="replacement", reason="resend"),
        )
        result = await handle.result()
        status = await handle.query(ReturnWorkflow.status)
        replacement = time_env.client.get_workflow_handle(status.replacement_order)
        returns.started.append(replacement)
        await wait_for_state(replacement, OrderState.SHIPMENT_CONFIRMED)
        sent = await replacement.query(OrderWorkflow.status)
    assert result.state == ReturnState.REPLACED and result.refunded is None
    assert status.replacement_order.startswith(f"{o.workflow_id}-R")
    assert sent.replacement_of == o.workflow_id and sent.authorization is None
    assert "issue_refund" not in returns.names()
    labels = [call for name, call in partners.calls if name == "buy_label"]
    assert [item.quantity for item in labels[-1].order.items] == [
        line.quantity for line in status.request.lines
    ]
