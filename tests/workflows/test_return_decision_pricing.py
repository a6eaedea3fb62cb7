"""Return decisions are priced by what they give away, not by the amount typed beside
them: a replacement's goods, the refund a declined offer falls back to, a refund made
without the goods back. Each test is an attack an operator could try alone."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator

import pytest
from temporalio.client import WorkflowUpdateFailedError
from temporalio.testing import WorkflowEnvironment

from crossdock.models.approval import Decision, DecisionAction, Principal
from crossdock.models.return_states import ReturnState
from crossdock.models.returns import ReturnReason
from crossdock.money import Money
from tests.factories import line_item, order
from tests.workflows.return_harness import (
    DAY,
    FINANCE,
    OPERATOR,
    TIMERS,
    ReturnPartners,
    delivered_order,
    request,
    scan,
    skip,
    start_return,
    wait_for,
    worker,
)
from tests.workflows.stand_ins import Partners
from workflows.returns import ReturnWorkflow

# Two lamps at 404.42 EUR: 808.84 EUR of goods, over the 500.00 EUR finance threshold.
LAMPS = [line_item(sku="LAMP", unit_price=Money(amount=40442, currency="EUR"), quantity=2)]


@contextlib.contextmanager
def refused(reason: str) -> Iterator[None]:
    """The update is rejected by its validator, saying `reason`."""
    with pytest.raises(WorkflowUpdateFailedError) as rejected:
        yield
    assert re.search(reason, str(rejected.value.cause)), str(rejected.value.cause)


def eur(cents: int) -> Money:
    return Money(amount=cents, currency="EUR")


def approve(key: str, by: Principal = OPERATOR, **terms: object) -> Decision:
    fields = {"key": key, "action": DecisionAction.APPROVE, "by": by, "reason": "ok", **terms}
    return Decision.model_validate(fields)


async def test_a_replacement_is_priced_at_its_goods_not_the_amount_typed(
    time_env: WorkflowEnvironment, task_queue: str
) -> None:
    partners, returns = Partners(), ReturnPartners()
    o = order(channel_order_id="SFPRICE1", items=LAMPS)
    async with worker(time_env, task_queue, partners, returns):
        await delivered_order(time_env, task_queue, o, returns)
        r = request(o, reason=ReturnReason.DAMAGED)
        handle = await start_return(time_env, task_queue, r, returns)
        await wait_for(handle, ReturnState.IN_REVIEW)
        # The attack: 1.00 EUR typed, 808.84 EUR of lamps sent.
        with refused(r"replacement gives away 808.84 EUR, which needs role finance"):
            await handle.execute_update(
                ReturnWorkflow.decide, approve("decision", option="replacement", amount=eur(100))
            )
        with refused("replacement gives away 808.84 EUR"):
            await handle.execute_update(
                ReturnWorkflow.decide, approve("decision", option="replacement")
            )
        # An amount means nothing beside goods: refused even for finance.
        with refused("amount does not apply to a replacement"):
            await handle.execute_update(
                ReturnWorkflow.decide,
                approve("decision", FINANCE, option="replacement", amount=eur(100)),
            )
        await handle.execute_update(
            ReturnWorkflow.decide, approve("decision", FINANCE, option="replacement")
        )
        result = await handle.result()
    assert result.state == ReturnState.REPLACED


async def test_a_small_offer_is_priced_at_the_refund_a_refusal_falls_back_to(
    time_env: WorkflowEnvironment, task_queue: str
) -> None:
    partners, returns = Partners(), ReturnPartners()
    o = order(channel_order_id="SFPRICE2", items=LAMPS)
    async with worker(time_env, task_queue, partners, returns):
        await delivered_order(time_env, task_queue, o, returns)
        r = request(o, reason=ReturnReason.NOT_RECEIVED)
        handle = await start_return(time_env, task_queue, r, returns)
        await wait_for(handle, ReturnState.IN_REVIEW)
        # Declined by the buyer, a 1.00 EUR offer becomes the whole returnless refund.
        with refused("partial_offer gives away .* EUR, which needs role finance"):
            await handle.execute_update(
                ReturnWorkflow.decide,
                approve("decision", option="partial_offer", amount=eur(100)),
            )
        await handle.execute_update(
            ReturnWorkflow.decide,
            approve("decision", FINANCE, option="partial_offer", amount=eur(100)),
        )
        await wait_for(handle, ReturnState.OFFERED)


async def test_refunding_without_the_parcel_is_priced_at_the_refund(
    time_env: WorkflowEnvironment, task_queue: str
) -> None:
    partners, returns = Partners(), ReturnPartners()
    o = order(channel_order_id="SFPRICE3", items=LAMPS)
    timers = TIMERS.model_copy(update={"transit_attention_seconds": 3 * DAY})
    async with worker(time_env, task_queue, partners, returns):
        await delivered_order(time_env, task_queue, o, returns)
        r = request(o, reason=ReturnReason.DAMAGED)
        handle = await start_return(time_env, task_queue, r, returns, timers)
        await wait_for(handle, ReturnState.IN_REVIEW)
        await handle.execute_update(
            ReturnWorkflow.decide, approve("decision", FINANCE, option="return_label")
        )
        await wait_for(handle, ReturnState.LABEL_ISSUED)
        await handle.signal(ReturnWorkflow.tracking_update, scan(1, "in_transit"))
        await wait_for(handle, ReturnState.IN_TRANSIT)
        await skip(time_env, 3 * DAY + 7200)
        # Finance approved a refund for goods that come back; without them it is a
        # returnless refund of the same amount, and the same threshold applies.
        with refused("refund_without_parcel gives away .* EUR, which needs role finance"):
            await handle.execute_update(
                ReturnWorkflow.decide, approve("missing-parcel", option="refund_without_parcel")
            )
        with refused("amount .* only applies to approving a request that has an amount"):
            await handle.execute_update(
                ReturnWorkflow.decide,
                approve("missing-parcel", FINANCE, option="refund_without_parcel", amount=eur(1)),
            )
        await handle.execute_update(
            ReturnWorkflow.decide,
            approve("missing-parcel", FINANCE, option="refund_without_parcel"),
        )
        result = await handle.result()
    assert result.state == ReturnState.REFUNDED
    assert result.refunded is not None and result.refunded.amount > 80884
