"""End to end: one buyer's storefront orders are recorded in Crossdock's database under
a pseudonymous key, and their sixth order of the day, billed abroad, is held for review."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from crossdock.buyers import buyer_key
from crossdock.demo import place
from crossdock.identity.claims import signer_for
from crossdock.keys import buyer_key as buyer_key_secret
from crossdock.models.order import Address, Buyer, Channel, Order
from crossdock.models.order_states import OrderState
from crossdock.store import Database
from crossdock.store.buyer_orders import BuyerOrderRow
from tests.factories import order
from tests.integration.conftest import Stack
from tests.integration.reviewer import reviewer
from tests.integration.test_order_flow import result_of
from workflows.order import OrderWorkflow

BUYER = Buyer(name="Demo buyer 90001", email="buyer-90001@example.com")
LYON = Address(
    name=BUYER.name, line1="9 Demo Street", city="Lyon", postal_code="69001", country="FR"
)


def billed_in_us(number: int) -> Order:
    now = datetime.now(UTC)
    return order(
        channel_order_id=f"SF9000{number:04d}",
        buyer=BUYER,
        ship_to=LYON,
        billing_country="US",
        placed_at=now,
        ship_by=now + timedelta(days=2),
        deliver_by=now + timedelta(days=10),
    )


async def timeline_of(stack: Stack, workflow_id: str, event: str) -> list[str]:
    """The details of `event` entries, once the workflow has at least one."""
    handle = stack.client.get_workflow_handle(workflow_id)
    for _ in range(300):
        try:
            status = await handle.query(OrderWorkflow.status)
            found = [e.detail for e in status.timeline if e.event == event]
            if found:
                return found
        except Exception as err:  # intake has not started it yet
            if "not found" not in str(err).lower():
                raise
        await asyncio.sleep(0.2)
    raise AssertionError(f"{workflow_id} never noted {event}")


async def test_the_sixth_order_of_the_day_billed_abroad_is_held(stack: Stack) -> None:
    orders = [billed_in_us(n) for n in range(1, 7)]
    notes = []
    for placed in orders:  # one after the other, as a buyer orders
        await place(stack.sandbox, placed)
        notes += await timeline_of(stack, placed.workflow_id, "buyer_history")
    assert notes[0] == "0 earlier order(s), 0 in the last 24 h"
    assert notes[-1] == "5 earlier order(s), 5 in the last 24 h"
    held = stack.client.get_workflow_handle(orders[-1].workflow_id)
    checks = "\n".join(await timeline_of(stack, held.id, "check"))
    assert "risk: review - score 55 (review at 50)" in checks
    assert "billing_country_mismatch +25: billing country US differs" in checks
    assert "velocity +30: 5 other orders from the buyer in the last 24 h" in checks

    db = Database.from_settings(stack.settings)
    try:
        with db.session() as session:
            rows = list(
                session.scalars(
                    select(BuyerOrderRow).where(
                        BuyerOrderRow.order_workflow_id.in_([o.workflow_id for o in orders])
                    )
                )
            )
    finally:
        db.dispose()
    key = buyer_key(buyer_key_secret(stack.settings), Channel.STOREFRONT, BUYER)
    assert [row.buyer_key for row in rows] == [key] * 6
    assert all(BUYER.email not in str(vars(row)) for row in rows)

    async with reviewer(stack.client, signer_for(stack.settings)) as approved:
        results = await asyncio.wait_for(
            asyncio.gather(*(result_of(stack, o) for o in orders)), timeout=120
        )
    assert [r.state for r in results] == [OrderState.COMPLETED] * 6
    assert held.id in approved
