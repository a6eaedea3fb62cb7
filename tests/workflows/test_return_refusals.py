"""What a partner says never fails a return: a refusal the workflow cannot settle becomes
a question in the inbox, in the partner's words, answered through `decide`; the return
records a refund only once it is confirmed, and its order is told the truth meanwhile."""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import Iterator

import pytest
from temporalio.client import WorkflowUpdateFailedError
from temporalio.testing import WorkflowEnvironment

from crossdock.models.approval import Decision, DecisionAction, Principal
from crossdock.models.order import Channel
from crossdock.models.refusals import Refusal, RefusalKind
from crossdock.models.return_states import ReturnState
from crossdock.models.returns import RefundState, ReturnReason
from crossdock.money import Money
from tests.factories import order
from tests.workflows.return_harness import (
    HOUR,
    OPERATOR,
    ReturnPartners,
    delivered_order,
    request,
    skip,
    start_return,
    wait_for,
    worker,
)
from tests.workflows.stand_ins import Partners
from workflows.order import OrderWorkflow
from workflows.returns import ReturnWorkflow

# What Amazon answered for the payment adjustment of return RRMA (issue 17).
FORGOTTEN = Refusal(
    kind=RefusalKind.NOT_FOUND,
    message="feedId '50065' was not found",
    partner="amazon",
    code="NotFound",
    status=404,
)


@contextlib.contextmanager
def refused(reason: str) -> Iterator[None]:
    with pytest.raises(WorkflowUpdateFailedError) as rejected:
        yield
    assert re.search(reason, str(rejected.value.cause)), str(rejected.value.cause)


def answer(key: str, option: str = "", by: Principal = OPERATOR, **terms: object) -> Decision:
    fields = {"key": key, "action": DecisionAction.APPROVE, "by": by, "option": option}
    return Decision.model_validate(fields | terms)


def eur(cents: int) -> Money:
    return Money(amount=cents, currency="EUR")


async def test_a_refund_the_partner_forgot_is_asked_about_not_failed(
    time_env: WorkflowEnvironment, task_queue: str
) -> None:
    partners = Partners()
    returns = ReturnPartners(refund_states=["pending"], refusals={"check_refund": [FORGOTTEN]})
    o = order(channel=Channel.AMAZON, channel_order_id="305-0000001-0000001", payment_method=None)
    async with worker(time_env, task_queue, partners, returns):
        order_handle = await delivered_order(time_env, task_queue, o, returns)
        r = request(o, reason=ReturnReason.NOT_RECEIVED)
        handle = await start_return(time_env, task_queue, r, returns)
        await wait_for(handle, ReturnState.IN_REVIEW)
        await handle.execute_update(
            ReturnWorkflow.decide, answer("decision", "returnless", amount=eur(2000))
        )
        # issue_refund succeeded (pending); an hour later check_refund got the 404.
        await wait_for(handle, ReturnState.REFUNDING)
        await skip(time_env, HOUR + 60)
        await wait_for(handle, ReturnState.REFUND_UNCONFIRMED)
        status = await handle.query(ReturnWorkflow.status)
        question = status.approvals[-1]
        assert question.pending and status.needs_attention
        assert "amazon said “feedId '50065' was not found” (HTTP 404)" in question.request.subject
        offered = set(question.request.options)
        assert offered == {"retry", "refunded_by_hand", "refunded_another_way"}
        # Nobody knows whether the money left: the case cannot be closed around it.
        assert DecisionAction.REJECT not in question.request.actions
        assert status.refunded is None and status.refunds[-1].state == "unconfirmed"
        told = await order_handle.query(OrderWorkflow.status)
        [reservation] = told.refund_reservations
        assert reservation.state == "reserved"  # neither refunded nor freed
        [case] = told.cases
        assert case.open and "refund of 20.00 EUR (re_1) unconfirmed" in case.summary
        assert "feedId '50065' was not found" in case.summary

        with refused("action 'reject' is not offered"):
            await handle.execute_update(
                ReturnWorkflow.decide,
                Decision(
                    key=question.request.key,
                    action=DecisionAction.REJECT,
                    by=OPERATOR,
                    reason="close it",
                ),
            )
        with refused("needs a reason"):
            await handle.execute_update(
                ReturnWorkflow.decide, answer(question.request.key, "refunded_by_hand")
            )
        await handle.execute_update(
            ReturnWorkflow.decide,
            answer(
                question.request.key, "refunded_by_hand", reason="adjustment seen in Seller Central"
            ),
        )
        result = await handle.result()
        told = await order_handle.query(OrderWorkflow.status)
        status = await handle.query(ReturnWorkflow.status)
    assert result.state == ReturnState.REFUNDED and result.refunded == eur(2000)
    assert status.refunds[-1].confirmed_by.startswith("ops-7")
    assert [r.state for r in told.refund_reservations] == ["succeeded"]
    assert told.refunded == eur(2000)
    assert not told.cases[0].open


async def test_a_refused_return_label_is_asked_about_and_retried(
    time_env: WorkflowEnvironment, task_queue: str
) -> None:
    bad_zip = Refusal(
        kind=RefusalKind.INVALID,
        message="to_address.zip '6900' is invalid",
        partner="easypost",
        status=422,
    )
    partners, returns = Partners(), ReturnPartners(refusals={"buy_return_label": [bad_zip]})
    o = order(channel_order_id="SFREFUSE2")
    async with worker(time_env, task_queue, partners, returns):
        await delivered_order(time_env, task_queue, o, returns)
        handle = await start_return(time_env, task_queue, request(o), returns)
        for _ in range(200):
            status = await handle.query(ReturnWorkflow.status)
            if status.approvals and status.approvals[-1].pending:
                break
            await asyncio.sleep(0.05)
        question = status.approvals[-1].request
        assert question.key == "return-label-refused-1" and status.needs_attention
        assert "easypost said “to_address.zip '6900' is invalid” (HTTP 422)" in question.subject
        assert set(question.options) == {"retry", "refund_without_parcel"}
        await handle.execute_update(ReturnWorkflow.decide, answer(question.key, "retry"))
        await wait_for(handle, ReturnState.LABEL_ISSUED)
    keys = [call.idempotency_key for name, call in returns.calls if name == "buy_return_label"]
    assert keys == [f"{handle.id}/return-label", f"{handle.id}/return-label-2"]


async def test_a_replacement_that_cannot_start_is_refunded_instead_on_an_answer(
    time_env: WorkflowEnvironment, task_queue: str
) -> None:
    gone = Refusal(kind=RefusalKind.NOT_FOUND, message="MUG-STONEWARE is discontinued")
    partners = Partners()
    returns = ReturnPartners(refusals={"start_replacement": [gone]})
    o = order(channel_order_id="SFREFUSE3")
    async with worker(time_env, task_queue, partners, returns):
        order_handle = await delivered_order(time_env, task_queue, o, returns)
        r = request(o, reason=ReturnReason.NOT_RECEIVED)
        handle = await start_return(time_env, task_queue, r, returns)
        await wait_for(handle, ReturnState.IN_REVIEW)
        await handle.execute_update(ReturnWorkflow.decide, answer("decision", "replacement"))
        for _ in range(200):
            status = await handle.query(ReturnWorkflow.status)
            if status.approvals[-1].request.key == "replacement-refused-1":
                break
            await asyncio.sleep(0.05)
        assert (
            "the partner said “MUG-STONEWARE is discontinued”"
            in status.approvals[-1].request.subject
        )
        await handle.execute_update(
            ReturnWorkflow.decide, answer("replacement-refused-1", "refund_instead")
        )
        result = await handle.result()
        told = await order_handle.query(OrderWorkflow.status)
    assert result.state == ReturnState.REFUNDED and result.refunded == told.refunded
    assert told.refunded is not None and told.refunded.amount > 0


@pytest.mark.parametrize("then", [RefundState.SUCCEEDED, RefundState.FAILED])
async def test_checking_an_unconfirmed_refund_again_takes_the_partners_answer(
    time_env: WorkflowEnvironment, task_queue: str, then: RefundState
) -> None:
    """Checked again, the partner answers: succeeded is refunded; failed goes the way of
    any failed refund (a new refund, then a person)."""
    partners = Partners()
    returns = ReturnPartners(
        refund_states=["pending"], settle_as=then, refusals={"check_refund": [FORGOTTEN]}
    )
    o = order(channel=Channel.AMAZON, channel_order_id="305-0000004-0000004", payment_method=None)
    async with worker(time_env, task_queue, partners, returns):
        await delivered_order(time_env, task_queue, o, returns)
        handle = await start_return(
            time_env, task_queue, request(o, reason=ReturnReason.NOT_RECEIVED), returns
        )
        await wait_for(handle, ReturnState.IN_REVIEW)
        await handle.execute_update(
            ReturnWorkflow.decide, answer("decision", "returnless", amount=eur(2000))
        )
        await wait_for(handle, ReturnState.REFUNDING)
        await skip(time_env, HOUR + 60)
        await wait_for(handle, ReturnState.REFUND_UNCONFIRMED)
        await handle.execute_update(ReturnWorkflow.decide, answer("refund-unconfirmed-1", "retry"))
        await skip(time_env, HOUR + 60)
        if then is RefundState.SUCCEEDED:
            result = await handle.result()
            assert result.state == ReturnState.REFUNDED and result.refunded == eur(2000)
            return
        await skip(time_env, HOUR + 60)
        await wait_for(handle, ReturnState.REFUND_FAILED)
        status = await handle.query(ReturnWorkflow.status)
    assert status.approvals[-1].request.key == "refund-2-failed-1"
    assert [r.state for r in status.refunds] == ["failed", "failed"]
    assert status.refunded is None
