"""End to end: orders placed on the sandbox channels flow through intake, Temporal and
the worker to completion; the partners' ledgers show each side effect exactly once."""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

from crossdock.demo import NEAR_MISS_BUYERS, DemoOrders, place
from crossdock.identity.claims import signer_for
from crossdock.models.order import Buyer, Channel, Order
from crossdock.models.order_states import OrderState
from crossdock.models.order_steps import OrderResult
from crossdock.sandbox.customs.rules import default_rules
from tests.intake_signing import signed_checkout
from tests.integration.conftest import Stack
from tests.integration.reviewer import reviewer
from workflows.order import OrderWorkflow

ORDERS_PER_CHANNEL = 8
NEAR_MISS = Buyer(name=NEAR_MISS_BUYERS[0], email="buyer-review@example.com")


async def ledger(stack: Stack, partner: str, kind: str) -> list[dict[str, Any]]:
    response = await stack.sandbox.get(
        "/_sandbox/ledger", params={"partner": partner, "kind": kind}
    )
    response.raise_for_status()
    entries: list[dict[str, Any]] = response.json()
    return entries


async def test_orders_from_every_channel_complete_with_each_side_effect_once(
    stack: Stack,
) -> None:
    demo = DemoOrders(seed=2026, decline_rate=0.0, review_rate=0.0)
    orders = [demo.next(channel=channel) for channel in Channel for _ in range(ORDERS_PER_CHANNEL)]
    # One order whose buyer screening sends to review: the operator approves it.
    to_review = demo.next(channel=Channel.EBAY)
    ship_to = to_review.ship_to.model_copy(update={"name": NEAR_MISS.name})
    orders.append(to_review.model_copy(update={"buyer": NEAR_MISS, "ship_to": ship_to}))
    for order in orders:
        await place(stack.sandbox, order)
    # A second sighting of the same storefront checkout must not start a second workflow.
    storefront = next(o for o in orders if o.channel is Channel.STOREFRONT)
    body, headers = signed_checkout(stack.settings, storefront)
    repost = await stack.sandbox.post(
        f"{stack.settings.intake_url}/intake/storefront/checkout", content=body, headers=headers
    )
    assert repost.json() == {"workflow_id": storefront.workflow_id, "started": False}

    async with reviewer(stack.client, signer_for(stack.settings)) as approved:
        results = await asyncio.wait_for(
            asyncio.gather(*(result_of(stack, o) for o in orders)), timeout=240
        )
    assert [r.state for r in results] == [OrderState.COMPLETED] * len(orders)
    assert orders[-1].workflow_id in approved

    held = [o for o in orders if await was_held(stack, o)]
    assert held, "the sandbox held no declaration: the customs-hold path went untested"
    by_workflow = {o.workflow_id: o for o in orders}
    await assert_storefront_payments(stack, orders, by_workflow)
    await assert_once_per_order(stack, orders)


async def result_of(stack: Stack, order: Order) -> Any:
    """The order's result, once intake has started its workflow and it has finished."""
    handle = stack.client.get_workflow_handle(order.workflow_id, result_type=OrderResult)
    for _ in range(600):
        try:
            return await handle.result()
        except Exception as err:  # not started yet: the poller has not seen it
            if "not found" not in str(err).lower():
                raise
            await asyncio.sleep(0.2)
    raise AssertionError(f"{order.workflow_id} was never started")


async def was_held(stack: Stack, order: Order) -> bool:
    handle = stack.client.get_workflow_handle(order.workflow_id, result_type=OrderResult)
    status = await handle.query(OrderWorkflow.status)
    return any(e.event == "moved" and e.state == OrderState.CUSTOMS_HOLD for e in status.timeline)


async def assert_storefront_payments(
    stack: Stack, orders: list[Order], by_workflow: dict[str, Order]
) -> None:
    storefront = [o for o in orders if o.channel is Channel.STOREFRONT]
    # Other tests place orders on the same sandbox: count this test's orders only.
    authorizations = [
        e
        for e in await ledger(stack, "stripe", "authorization")
        if e["details"]["order"] in by_workflow
    ]
    intents = {e["reference"] for e in authorizations}
    captures = [e for e in await ledger(stack, "stripe", "capture") if e["reference"] in intents]
    assert len(authorizations) == len(storefront)
    assert len(captures) == len(storefront)
    assert Counter(e["details"]["order"] for e in authorizations) == Counter(
        o.workflow_id for o in storefront
    )
    intent_to_order = {e["reference"]: e["details"]["order"] for e in authorizations}
    for capture in captures:
        order = by_workflow[intent_to_order[capture["reference"]]]
        handle = stack.client.get_workflow_handle(order.workflow_id, result_type=OrderResult)
        status = await handle.query(OrderWorkflow.status)
        assert status.landed_cost is not None
        # Quote and declaration name the customs rules they used.
        version = default_rules().version
        assert (status.landed_cost.rules_version or "").startswith(f"{version} (")
        assert status.declaration is not None
        assert status.declaration.rules_version == status.landed_cost.rules_version
        owed = order.order_total + status.landed_cost.due_at_checkout
        assert (capture["amount"], capture["currency"]) == (owed.amount, owed.currency)


async def assert_once_per_order(stack: Stack, orders: list[Order]) -> None:
    workflow_ids = Counter(o.workflow_id for o in orders)
    labels = await ledger(stack, "easypost", "label")
    declarations = await ledger(stack, "customs", "declaration")
    labelled = Counter(e["details"]["shipment_reference"] for e in labels)
    declared = Counter(e["reference"] for e in declarations)
    assert {k: labelled[k] for k in workflow_ids} == workflow_ids
    assert {k: declared[k] for k in workflow_ids} == workflow_ids
    confirmed: Counter[str] = Counter()
    for partner in ("amazon", "ebay", "storefront"):
        for entry in await ledger(stack, partner, "confirmation"):
            confirmed[f"order-{partner}-{entry['reference']}"] += 1
    assert {k: confirmed[k] for k in workflow_ids} == workflow_ids
