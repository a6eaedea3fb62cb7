"""Partners' refusals after shipment (issue 17 item 2): a refund the provider refused is
never recorded as made and asks finance; a warehouse that forgot a reservation asks a
person instead of failing the workflow task; a reshipment is picked and a refused
confirmation never reads as confirmed; a parcel never scanned is flagged and asks a
person (time-skipping server, stand-in partners answering with typed refusals)."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import pytest
from temporalio.client import Client, WorkflowExecutionStatus, WorkflowUpdateFailedError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from crossdock.identity import ClaimSigner, ClaimVerifier
from crossdock.identity.binding import ClaimBinding
from crossdock.identity.interceptor import PrincipalVerification
from crossdock.models.approval import Decision, DecisionAction, Principal
from crossdock.models.order import Channel
from crossdock.models.order_states import OrderState
from crossdock.models.order_steps import CancelRequest
from crossdock.models.refusals import Refusal, RefusalKind
from crossdock.workflow_sandbox import RUNNER
from tests.conftest import skip_time
from tests.factories import NOW, order
from tests.workflows.order_harness import (
    FINANCE,
    OPERATOR,
    OrderHandle,
    start,
    wait_for_event,
    wait_for_question,
    wait_for_state,
    worker,
)
from tests.workflows.stand_ins import Partners
from tests.workflows.test_order_parcel import CLOCKS, decide, lose_parcel, scan, signal
from tests.workflows.test_order_stock import STOCK_CLOCKS, two_lines
from workflows.order import OrderWorkflow

NO_SUCH_INTENT = Refusal(
    kind=RefusalKind.NOT_FOUND,
    message="No such payment_intent: 'pi_1'",
    partner="stripe",
    code="resource_missing",
    status=404,
)
FORGOTTEN = Refusal(
    kind=RefusalKind.NOT_FOUND,
    message="no reservation 'rsv_1'",
    partner="warehouse",
    code="not_found",
    status=404,
)
NOTHING_LEFT = Refusal(
    kind=RefusalKind.ALREADY_DONE,
    message="Invalid input data: lineItems[0].quantity 1 for line item 1, which has 0 "
    "unit(s) left to ship",
    partner="ebay",
    code="32600",
    status=400,
)
SIGNING_KEY = b"console-signing-key-for-tests-0017"
# Set to a directory to save the histories of these runs (tests/histories/README.md).
RECORD = os.environ.get("CROSSDOCK_RECORD_HISTORIES", "")


def answer(key: str, option: str, by: Principal = FINANCE, reason: str = "") -> Decision:
    action = DecisionAction.REJECT if option == "close" else DecisionAction.APPROVE
    return Decision(
        key=key,
        action=action,
        option="" if option == "close" else option,
        reason=reason,
        by=by,
    )


async def refused(handle: OrderHandle, decision: Decision) -> str:
    with pytest.raises(WorkflowUpdateFailedError) as caught:
        await handle.execute_update(OrderWorkflow.decide, decision)
    return str(caught.value.cause)


async def record(handle: OrderHandle, name: str) -> None:
    if RECORD:
        history = await handle.fetch_history()
        Path(RECORD, f"{name}.json").write_text(history.to_json())  # noqa: ASYNC240


async def test_a_refund_the_provider_refused_is_never_recorded_and_asks_finance(
    time_env: WorkflowEnvironment, task_queue: str
) -> None:
    """Bug (a): refund_payment answered 404, yet the order ended `refunded` with the
    amount in its result. Now the case stays open in the inbox until finance answers.
    Its history is tests/histories/order-storefront-refund-refused-refunded-another-way."""
    partners = Partners(refusals={"refund_payment": (NO_SUCH_INTENT, None)})
    o = order(channel_order_id="SF25307520", deliver_by=NOW + timedelta(days=30))
    async with worker(time_env, task_queue, partners):
        handle = await start(time_env, task_queue, o, **CLOCKS)
        await lose_parcel(time_env, handle)
        await handle.execute_update(OrderWorkflow.decide, decide("refund"))
        question = await wait_for_question(handle)
        status = await handle.query(OrderWorkflow.status)
        assert question.money and question.refusal == NO_SUCH_INTENT
        assert status.state == OrderState.EXCEPTION and status.refunded is None
        assert [r.state for r in status.refund_reservations] == ["reserved"]
        assert status.needs_attention
        assert "No such payment_intent" in status.approvals[-1].request.subject
        assert (await handle.describe()).status == WorkflowExecutionStatus.RUNNING
        key = question.approval_key
        # Closing around the open money question is refused, saying why.
        with pytest.raises(WorkflowUpdateFailedError) as cancel:
            await handle.execute_update(
                OrderWorkflow.cancel, CancelRequest(reason="close it", by=OPERATOR)
            )
        assert "question about its money is open" in str(cancel.value.cause)
        assert "role 'operator' may not" in await refused(
            handle, answer(key, "refunded_by_hand", OPERATOR, "done")
        )
        assert "a reason is required" in await refused(handle, answer(key, "refunded_by_hand"))
        # Through a week of silence the question is asked again, never decided by a timer.
        await skip_time(time_env, timedelta(days=7))
        question = await wait_for_question(handle)
        assert question.approval_key != key
        await answer_the_current_question(
            handle, question.approval_key, "refunded_another_way", "bank transfer BT-7"
        )
        result = await handle.result()
        status = await handle.query(OrderWorkflow.status)
        await record(handle, "order-storefront-refund-refused-refunded-another-way")
    assert result.state == OrderState.REFUNDED
    assert result.refunded == result.captured
    [reservation] = status.refund_reservations
    assert reservation.state == "succeeded" and reservation.refund_id.endswith(":fin-2")
    assert "bank transfer BT-7" in next(e.detail for e in status.timeline if e.state == "refunded")
    assert partners.names().count("refund_payment") == 1


async def test_a_refused_refund_retried_by_finance_is_made_and_recorded(
    time_env: WorkflowEnvironment, task_queue: str
) -> None:
    """The history of this run is tests/histories/order-storefront-refund-refused-retried."""
    partners = Partners(refusals={"refund_payment": (NO_SUCH_INTENT, 1)})
    o = order(channel_order_id="SF25307521", deliver_by=NOW + timedelta(days=30))
    async with worker(time_env, task_queue, partners):
        handle = await start(time_env, task_queue, o, **CLOCKS)
        await lose_parcel(time_env, handle)
        await handle.execute_update(OrderWorkflow.decide, decide("refund"))
        question = await wait_for_question(handle)
        await handle.execute_update(OrderWorkflow.decide, answer(question.approval_key, "retry"))
        result = await handle.result()
        await record(handle, "order-storefront-refund-refused-retried")
    assert result.state == OrderState.REFUNDED and result.refunded == result.captured
    keys = [c.idempotency_key for n, c in partners.calls if n == "refund_payment"]
    # A retry is a new refund: the provider stored its refusal under the first key.
    assert [key.split("/", 1)[1] for key in keys] == ["refund", "refund/retry-1"]


async def test_a_refused_refund_closed_by_finance_ends_closed_with_nothing_refunded(
    time_env: WorkflowEnvironment, task_queue: str
) -> None:
    partners = Partners(refusals={"refund_payment": (NO_SUCH_INTENT, None)})
    o = order(channel_order_id="SF25307522", deliver_by=NOW + timedelta(days=30))
    async with worker(time_env, task_queue, partners):
        handle = await start(time_env, task_queue, o, **CLOCKS)
        await lose_parcel(time_env, handle)
        await handle.execute_update(OrderWorkflow.decide, decide("refund"))
        question = await wait_for_question(handle)
        await handle.execute_update(
            OrderWorkflow.decide,
            answer(question.approval_key, "close", reason="buyer refunded by chargeback"),
        )
        result = await handle.result()
        status = await handle.query(OrderWorkflow.status)
    assert result.state == OrderState.CLOSED
    assert result.refunded is not None and result.refunded.amount == 0
    assert [r.state for r in status.refund_reservations] == ["failed"]


async def test_a_forgotten_reservation_asks_a_person_instead_of_failing_the_task(
    time_env: WorkflowEnvironment, task_queue: str
) -> None:
    """Bug (b): after a partial shipment the warehouse answered 404 for the reservation;
    the refusal escaped the workflow code and failed the task on every retry, so even a
    cancel answered "try again". Now it is a question, and the case answers updates."""
    partners = Partners(
        short_lines=frozenset({1}), refusals={"check_reservation": (FORGOTTEN, None)}
    )
    async with worker(time_env, task_queue, partners):
        handle = await start(time_env, task_queue, two_lines("SF31446089"), **STOCK_CLOCKS)
        await wait_for_state(handle, OrderState.BACKORDERED)
        await skip_time(time_env, timedelta(hours=1, minutes=5))  # the first stock poll
        question = await wait_for_question(handle)
        assert question.refusal == FORGOTTEN and not question.money
        with pytest.raises(WorkflowUpdateFailedError) as cancel:
            await handle.execute_update(
                OrderWorkflow.cancel, CancelRequest(reason="stuck", by=OPERATOR)
            )
        assert "request a return instead" in str(cancel.value.cause)
        await handle.execute_update(
            OrderWorkflow.decide,
            answer(question.approval_key, "close", OPERATOR, "the warehouse lost the stock"),
        )
        await wait_for_event(handle, "lines_cancelled")
        await signal(handle, scan(1, "in_transit", parcel=1), scan(2, "delivered", parcel=1))
        result = await handle.result()
        await record(handle, "order-storefront-reservation-forgotten-lines-cancelled")
    assert result.state == OrderState.COMPLETED
    [refund] = [c for n, c in partners.calls if n == "refund_payment"]
    assert result.refunded == refund.amount and refund.amount.amount > 0


async def test_an_ebay_reship_is_picked_and_a_refused_confirmation_is_not_called_confirmed(
    time_env: WorkflowEnvironment, task_queue: str
) -> None:
    """Bug (c): eBay refused the reshipment's confirmation ("0 unit(s) left to ship")
    and the order still moved to shipment_confirmed; no pick was made for the parcel."""
    partners = Partners(refusals={"confirm_shipment": (NOTHING_LEFT, None)})
    o = order(
        channel=Channel.EBAY, channel_order_id="12-40000-00017", deliver_by=NOW + timedelta(days=30)
    )
    async with worker(time_env, task_queue, partners):
        handle = await start(time_env, task_queue, o, **CLOCKS)
        await lose_parcel(time_env, handle, OrderState.SHIPMENT_CONFIRMED)
        await handle.execute_update(OrderWorkflow.decide, decide("reship"))
        detail = await wait_for_event(handle, "not_confirmed")
        status = await handle.query(OrderWorkflow.status)
        assert status.state == OrderState.RESHIPPING
        await signal(handle, scan(1, "in_transit", parcel=2), scan(2, "delivered", parcel=2))
        result = await handle.result()
        status = await handle.query(OrderWorkflow.status)
        await record(handle, "order-ebay-reship-picked-confirmation-already-done")
    assert "0 unit(s) left to ship" in detail
    assert result.state == OrderState.COMPLETED
    reserves = [c for n, c in partners.calls if n == "reserve_stock"]
    assert [c.idempotency_key.split("/", 1)[1] for c in reserves] == [
        "reserve-stock",
        "package-2/reserve-stock",
    ]
    fulfils = [
        (c.package, c.idempotency_key.split("/", 1)[1])
        for n, c in partners.calls
        if n == "fulfil_stock"
    ]
    assert fulfils == [(1, "package-1/fulfil"), (2, "package-2/fulfil")]
    after_reship = [e.state for e in status.timeline if e.event == "moved"]
    reshipped_at = after_reship.index(OrderState.RESHIPPING)
    assert OrderState.SHIPMENT_CONFIRMED not in after_reship[reshipped_at:]


async def test_a_refused_reship_confirmation_the_order_cannot_settle_asks_a_person(
    time_env: WorkflowEnvironment, task_queue: str
) -> None:
    invalid = Refusal(kind=RefusalKind.INVALID, message="Invalid tracking number", partner="ebay")
    partners = Partners(refusals={"confirm_shipment": (invalid, None)})
    o = order(
        channel=Channel.EBAY, channel_order_id="12-40000-00018", deliver_by=NOW + timedelta(days=30)
    )
    async with worker(time_env, task_queue, partners):
        handle = await start(time_env, task_queue, o, **CLOCKS)
        await lose_parcel(time_env, handle, OrderState.SHIPMENT_CONFIRMED)
        await handle.execute_update(OrderWorkflow.decide, decide("reship"))
        question = await wait_for_question(handle)
        assert (await handle.query(OrderWorkflow.status)).state == OrderState.RESHIPPING
        await handle.execute_update(
            OrderWorkflow.decide,
            answer(question.approval_key, "done_by_hand", OPERATOR, "typed into Seller Hub"),
        )
        await wait_for_state(handle, OrderState.SHIPMENT_CONFIRMED)
        status = await handle.query(OrderWorkflow.status)
        await handle.terminate("test over")
    assert any("Seller Hub" in e.detail for e in status.timeline if e.event == "moved")


async def test_a_parcel_never_scanned_is_flagged_and_asks_a_person(
    time_env: WorkflowEnvironment, task_queue: str
) -> None:
    """Bug (d): an order sat in shipment_confirmed with no tracking and no flag."""
    partners = Partners()
    o = order(channel_order_id="SF40000099", deliver_by=NOW + timedelta(days=30))
    async with worker(time_env, task_queue, partners):
        handle = await start(time_env, task_queue, o, **CLOCKS)
        await wait_for_state(handle, OrderState.PAYMENT_CAPTURED)
        await skip_time(time_env, timedelta(days=2, hours=8))  # past lost_after, no scan
        await wait_for_state(handle, OrderState.EXCEPTION)
        status = await handle.query(OrderWorkflow.status)
        assert any(
            e.event == "attention" and "no carrier scan" in e.detail for e in status.timeline
        )
        assert status.approvals[-1].pending
        await handle.execute_update(OrderWorkflow.decide, decide("refund"))
        result = await handle.result()
    assert result.state == OrderState.REFUNDED and result.refunded == result.captured


async def test_a_refused_capture_recorded_as_collected_by_hand_counts_as_captured(
    time_env: WorkflowEnvironment, task_queue: str
) -> None:
    declined = Refusal(
        kind=RefusalKind.DECLINED, message="authorization expired", partner="stripe", status=402
    )
    partners = Partners(refusals={"capture_payment": (declined, None)})
    o = order(channel_order_id="SF40000098", deliver_by=NOW + timedelta(days=30))
    async with worker(time_env, task_queue, partners):
        handle = await start(time_env, task_queue, o, **CLOCKS)
        question = await wait_for_question(handle)
        assert (await handle.query(OrderWorkflow.status)).captured is None
        await handle.execute_update(
            OrderWorkflow.decide,
            answer(question.approval_key, "captured_by_hand", reason="payment link PL-3 paid"),
        )
        await wait_for_state(handle, OrderState.PAYMENT_CAPTURED)
        await signal(handle, scan(1, "in_transit"), scan(2, "delivered"))
        result = await handle.result()
        await record(handle, "order-storefront-capture-refused-collected-by-hand")
    assert result.captured is not None and result.captured.amount > 0


async def test_the_answer_travels_the_signed_update_path(
    time_env: WorkflowEnvironment, task_queue: str
) -> None:
    """Workers verify the console's signed principal on every update: an unsigned answer
    to a partner's refusal is refused like any unsigned decision; a signed one settles it."""
    signer = ClaimSigner(SIGNING_KEY, valid_for=timedelta(minutes=5))
    config = time_env.client.config()
    config["interceptors"] = [
        *config["interceptors"],
        ClaimBinding(signer, ClaimVerifier(SIGNING_KEY)),
    ]
    env = WorkflowEnvironment.from_client(Client(**config))
    partners = Partners(refusals={"refund_payment": (NO_SUCH_INTENT, None)})
    o = order(channel_order_id="SF25307529", deliver_by=NOW + timedelta(days=30))
    async with Worker(
        env.client,
        task_queue=task_queue,
        workflows=[OrderWorkflow],
        activities=partners.activities(),
        workflow_runner=RUNNER,
        interceptors=[PrincipalVerification(ClaimVerifier(SIGNING_KEY))],
    ):
        handle = await start(env, task_queue, o, **CLOCKS)
        await wait_for_state(handle, OrderState.PAYMENT_CAPTURED)
        await signal(handle, scan(1, "in_transit"))
        await skip_time(env, timedelta(days=2, hours=8))
        await wait_for_state(handle, OrderState.EXCEPTION)
        lost = decide("refund").model_copy(update={"by": signer.sign(OPERATOR, handle.id)})
        await handle.execute_update(OrderWorkflow.decide, lost)
        question = await wait_for_question(handle)
        by_hand = answer(question.approval_key, "refunded_by_hand", reason="dashboard re_9")
        assert "is not signed" in await refused(handle, by_hand)
        signed = by_hand.model_copy(update={"by": signer.sign(FINANCE, handle.id)})
        await handle.execute_update(OrderWorkflow.decide, signed)
        result = await handle.result()
    assert result.state == OrderState.REFUNDED and result.refunded == result.captured


async def answer_the_current_question(
    handle: OrderHandle, key: str, option: str, reason: str
) -> None:
    """Answer `key`, or the question asked after it when time skipped past its expiry
    while the answer was on its way (the time-skipping server advances time meanwhile),
    as an operator answers what the inbox shows now."""
    for _ in range(5):
        try:
            await handle.execute_update(OrderWorkflow.decide, answer(key, option, reason=reason))
            return
        except WorkflowUpdateFailedError as err:
            if "expired" not in str(err.cause):
                raise
        asked = await wait_for_question(handle)
        assert asked.approval_key != key
        key = asked.approval_key
    raise AssertionError(f"every question expired before its answer arrived (last {key!r})")
