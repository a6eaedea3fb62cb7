"""The marketplace poller holds the orders partners send to the door's bounds: one it
cannot take (placed in the future, to a destination without customs rules) is refused
with its reason in the poller's result, and the poll goes on with the others."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from temporalio.testing import ActivityEnvironment, WorkflowEnvironment

from activities.intake import IntakeActivities
from crossdock.config import Settings
from crossdock.models.intake import ImportOrdersInput
from crossdock.models.order import Address, Buyer, Channel, Order
from crossdock.partners.clients import PartnerClients
from crossdock.sandbox.app import create_app
from starter.orders import OrderStarter
from starter.returns import ReturnStarter
from tests.factories import order
from tests.servers import sandbox_urls, serve


def ebay_order(order_id: str, placed_at: datetime, country: str = "FR") -> Order:
    buyer = Buyer(name="Ada Buyer", email="ada@example.com")
    ship_to = Address(name=buyer.name, line1="1 Rue Demo", city="Lyon", country=country)
    return order(
        channel=Channel.EBAY,
        channel_order_id=order_id,
        buyer=buyer,
        ship_to=ship_to,
        placed_at=placed_at,
        ship_by=placed_at + timedelta(days=2),
        deliver_by=placed_at + timedelta(days=9),
    )


async def test_orders_outside_the_bounds_are_refused_with_the_field_named(
    time_env: WorkflowEnvironment, tmp_path: Path, task_queue: str
) -> None:
    now = datetime.now(UTC)
    placed = {
        "12-00001-00001": ebay_order("12-00001-00001", now - timedelta(hours=1)),
        "12-00001-00002": ebay_order("12-00001-00002", now + timedelta(days=400)),
        "12-00001-00003": ebay_order("12-00001-00003", now - timedelta(hours=1), "CH"),
    }
    with serve(create_app()) as sandbox:
        async with httpx.AsyncClient(base_url=sandbox) as http:
            for listed in placed.values():
                body = listed.model_dump(mode="json")
                assert (await http.post("/ebay/_sandbox/orders", json=body)).is_success
        settings = Settings(
            state_dir=tmp_path, task_queue=task_queue, **sandbox_urls(sandbox), _env_file=None
        )
        partners = PartnerClients.from_settings(settings)
        try:
            intake = IntakeActivities(
                time_env.client,
                partners,
                settings,
                OrderStarter(time_env.client, settings),
                ReturnStarter(time_env.client, settings),
            )
            since = ImportOrdersInput(channel=Channel.EBAY, created_after=now - timedelta(days=1))
            result = await ActivityEnvironment().run(intake.import_new_orders, since)
        finally:
            await partners.aclose()
    assert result.started == ["12-00001-00001"]
    reasons = {refused.channel_order_id: refused.reason for refused in result.refused}
    assert "placed_at" in reasons["12-00001-00002"] and "future" in reasons["12-00001-00002"]
    assert "ship_to.country" in reasons["12-00001-00003"] and "'CH'" in reasons["12-00001-00003"]
