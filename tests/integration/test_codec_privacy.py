"""Payload encryption end to end: a buyer's name, e-mail and address planted in real
orders appear nowhere in the raw Temporal history, yet decode for those with the keys."""

from __future__ import annotations

import asyncio

from temporalio.api.enums.v1 import EventType
from temporalio.client import Client

from crossdock.demo import DemoOrders, place
from crossdock.identity.claims import signer_for
from crossdock.models.order import Buyer, Channel, Order
from tests.integration.conftest import Stack
from tests.integration.reviewer import reviewer

NAME = "Ottilie Quillfeather"
EMAIL = "ottilie.quillfeather@example.org"
STREET = "17 Brambleworth Lane"
PLANTED = (NAME, EMAIL, STREET)


def planted(order: Order) -> Order:
    ship_to = order.ship_to.model_copy(update={"name": NAME, "line1": STREET})
    return order.model_copy(update={"buyer": Buyer(name=NAME, email=EMAIL), "ship_to": ship_to})


async def far_enough(stack: Stack, order: Order, calls: int = 4) -> None:
    """Wait until the order has made `calls` partner calls (screening, quote, payment...)."""
    completed = EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED
    while True:
        try:
            history = await stack.client.get_workflow_handle(order.workflow_id).fetch_history()
            if sum(event.event_type == completed for event in history.events) >= calls:
                return
        except Exception as err:  # not started yet: the poller has not seen it
            if "not found" not in str(err).lower():
                raise
        await asyncio.sleep(0.3)


async def test_planted_personal_data_is_not_in_the_raw_history(stack: Stack) -> None:
    demo = DemoOrders(seed=606, decline_rate=0.0, review_rate=0.0)
    orders = [
        planted(demo.next(channel=channel)) for channel in (Channel.STOREFRONT, Channel.AMAZON)
    ]
    for order in orders:
        await place(stack.sandbox, order)
    async with reviewer(stack.client, signer_for(stack.settings)):
        # Far enough: validated, paid or verified, declared, labelled; whether it ends
        # now or waits (for stock, say) changes nothing about what is stored.
        await asyncio.wait_for(asyncio.gather(*(far_enough(stack, o) for o in orders)), 120)

    # A client without the keys sees what Temporal stores and shows.
    plain = await Client.connect(
        stack.settings.temporal_address, namespace=stack.settings.temporal_namespace
    )
    for order in orders:
        raw = await plain.get_workflow_handle(order.workflow_id).fetch_history()
        stored = b"".join(event.SerializeToString() for event in raw.events)
        for value in PLANTED:
            assert value.encode() not in stored, f"{value!r} is readable in {order.workflow_id}"
        described = await plain.get_workflow_handle(order.workflow_id).describe()
        assert not any(value in str(described.raw_description) for value in PLANTED)
        assert not any(value in order.workflow_id for value in PLANTED)
        # Every payload-carrying event is encrypted, not just some.
        started = raw.events[0].workflow_execution_started_event_attributes
        assert started.input.payloads[0].metadata["encoding"] == b"binary/encrypted"
        assert raw.events[0].event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED

    # The stack's own client (with the keys) reads the same values back.
    decoded = await stack.client.get_workflow_handle(orders[0].workflow_id).fetch_history()
    first = decoded.events[0].workflow_execution_started_event_attributes.input.payloads
    clear = (await stack.client.data_converter.payload_codec.decode(first))[0].data  # type: ignore[union-attr]
    assert all(value.encode() in clear for value in PLANTED)
