"""End to end, as the attacker of issue 18 probed it: forged, altered, unknown and
conflicting storefront checkouts, and forged carrier events, over real HTTP against the
sandbox and intake. Nothing forged reaches a payment, a label or a refund."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from temporalio.client import WorkflowExecutionStatus, WorkflowHandle
from temporalio.service import RPCError, RPCStatusCode

from crossdock.audit import AuditLog
from crossdock.demo import DemoOrders, place
from crossdock.models.order import Address, Channel, Order
from crossdock.models.order_states import OrderState
from crossdock.money import Money
from crossdock.store import Database
from starter.app import create_intake_app
from starter.orders import start_order
from tests.intake_signing import signed_checkout, signed_event
from tests.integration.conftest import Stack
from workflows.order import OrderWorkflow

_demo = DemoOrders(seed=1818, decline_rate=0.0, review_rate=0.0)
MALLORY = Address(name="Mallory", line1="1 Drop Street", city="Lyon", country="FR")


def storefront_order() -> Order:
    return _demo.next(channel=Channel.STOREFRONT)


async def post_checkout(
    stack: Stack, body: bytes, headers: dict[str, str] | None = None
) -> httpx.Response:
    url = f"{stack.settings.intake_url}/intake/storefront/checkout"
    return await stack.sandbox.post(url, content=body, headers=headers or {})


async def never_started(stack: Stack, order: Order) -> None:
    with pytest.raises(RPCError) as missing:
        await stack.client.get_workflow_handle(order.workflow_id).describe()
    assert missing.value.status is RPCStatusCode.NOT_FOUND
    ledger = await stack.sandbox.get(
        "/_sandbox/ledger", params={"partner": "stripe", "kind": "authorization"}
    )
    assert all(e["details"]["order"] != order.workflow_id for e in ledger.json())


async def shop_record(stack: Stack, order: Order, error: str, seconds: float = 15) -> None:
    """Until the storefront's forwarding of `order` has been answered `error`."""
    for _ in range(int(seconds / 0.1)):
        orders = (await stack.sandbox.get("/storefront/_sandbox/orders")).json()["orders"]
        mine = next((o for o in orders if o["order_id"] == order.channel_order_id), None)
        if mine is not None and mine["last_error"] == error:
            return
        await asyncio.sleep(0.1)
    raise AssertionError(
        f"the storefront's forwarding of {order.channel_order_id} never got {error}"
    )


async def test_forged_checkouts_are_refused_and_authorize_nothing(stack: Stack) -> None:
    """Probe: an unsigned checkout (ship-to Mallory, 0.01 EUR) was authorized and shipped."""
    forged = storefront_order().model_copy(update={"ship_to": MALLORY})
    body = json.dumps(forged.model_dump(mode="json")).encode()
    unsigned = await post_checkout(stack, body, {"Content-Type": "application/json"})
    wrong_key = await post_checkout(stack, *signed_checkout(stack.settings, forged, "guessed-" * 4))
    assert (unsigned.status_code, wrong_key.status_code) == (401, 401)
    assert "Crossdock-Storefront-Signature" in unsigned.json()["message"]
    await never_started(stack, forged)


async def test_an_order_the_storefront_never_had_is_refused(stack: Stack) -> None:
    """Probe: an order the storefront never had got an authorization, a declaration, a
    reservation and a label. Signed with the right secret (say, leaked), it is still
    refused: the shop does not have it."""
    unknown = storefront_order()
    response = await post_checkout(stack, *signed_checkout(stack.settings, unknown))
    assert response.status_code == 422
    answer = response.json()
    assert answer["error"] == "unknown_order"
    assert [f["field"] for f in answer["fields"]] == ["body.channel_order_id"]
    await never_started(stack, unknown)


async def test_prices_the_catalog_does_not_have_are_refused(stack: Stack) -> None:
    """Probe: a free mug reached payment. Here the shop itself took the checkout at
    0.01 EUR a line: intake compares with the catalog and refuses it."""
    order = storefront_order()
    cheap = [
        item.model_copy(update={"unit_price": Money(amount=1, currency=order.currency)})
        for item in order.items
    ]
    order = order.model_copy(update={"items": cheap})
    await place(stack.sandbox, order)
    await shop_record(stack, order, "HTTP 422")
    await never_started(stack, order)


async def test_a_checkout_altered_on_the_way_is_refused_naming_the_field(stack: Stack) -> None:
    genuine = storefront_order()
    await place(stack.sandbox, genuine)
    item = genuine.items[0].model_copy(
        update={"unit_price": Money(amount=1, currency=genuine.currency)}
    )
    altered = genuine.model_copy(update={"items": [item, *genuine.items[1:]]})
    response = await post_checkout(stack, *signed_checkout(stack.settings, altered))
    assert response.status_code == 422
    answer = response.json()
    assert answer["error"] == "differs_from_storefront"
    assert [f["field"] for f in answer["fields"]] == ["body.items.0.unit_price.amount"]
    # The genuine checkout goes through, at its price, once.
    handle = stack.client.get_workflow_handle(genuine.workflow_id)
    for _ in range(100):
        try:
            await handle.describe()
            break
        except RPCError:
            await asyncio.sleep(0.1)
    again = await post_checkout(stack, *signed_checkout(stack.settings, genuine))
    assert (again.status_code, again.json()["started"]) == (202, False)


async def test_the_same_order_id_with_other_content_is_refused_409_and_audited(
    stack: Stack,
) -> None:
    """Probe: first writer wins, and the real checkout got `202 started:false`. Here a
    first submission with other content got in (as before this check existed): the real
    one is refused with 409, logged and audited, never silently dropped."""
    real = storefront_order()
    first = real.model_copy(update={"ship_to": MALLORY})
    assert await start_order(stack.client, first, stack.settings)
    try:
        await place(stack.sandbox, real)
        await shop_record(stack, real, "HTTP 409")
        await asyncio.sleep(1.0)  # the storefront retries (0.2 s, 0.4 s, ...): one entry
        entries = AuditLog(Database.from_settings(stack.settings)).entries(real.workflow_id)
        assert [e.action for e in entries] == ["storefront_checkout"]
        assert entries[0].detail["conflict"][0].startswith("ship_to")
    finally:
        await stop(stack.client.get_workflow_handle(real.workflow_id))


async def stop(handle: WorkflowHandle[Any, Any]) -> None:
    """Terminate a workflow this test left running (one that ended needs nothing)."""
    if (await handle.describe()).status is WorkflowExecutionStatus.RUNNING:
        await handle.terminate("test over")


def test_no_endpoint_pushes_marketplace_orders(stack: Stack) -> None:
    """Marketplace orders come only from our own polling: intake's only order entry
    point is the storefront's checkout (and it refuses other channels)."""
    app = create_intake_app(stack.settings)
    paths: dict[str, dict[str, Any]] = app.openapi()["paths"]
    posts = {path for path, operations in paths.items() if "post" in operations}
    intake = {p for p in posts if p.startswith(("/intake", "/webhooks"))}
    # Buyer e-mail (and Amazon's relay) becomes messages in cases, never an order.
    assert intake == {
        "/intake/storefront/checkout",
        "/intake/mail/inbound",
        "/webhooks/stripe",
        "/webhooks/easypost",
    }


async def in_transit_and_silent(stack: Stack) -> tuple[Order, Any]:
    """A storefront order whose parcel the carrier has in transit and then goes silent
    (the sandbox's `lost` journey: no scan after the hub)."""
    order = storefront_order()
    scenario = {"reference": order.workflow_id, "scenario": "lost"}
    (await stack.sandbox.post("/easypost/_sandbox/scenarios", json=scenario)).raise_for_status()
    await place(stack.sandbox, order)
    handle = stack.client.get_workflow_handle(order.workflow_id)
    for _ in range(600):
        try:
            status = await handle.query(OrderWorkflow.status)
        except RPCError:
            status = None
        if status is not None and status.label and status.tracking_status == "in_transit":
            return order, status
        await asyncio.sleep(0.1)
    raise AssertionError(f"{order.workflow_id} never got in transit")


def carrier_event(label: Any, status: str) -> dict[str, Any]:
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    detail = {"status": status, "message": "Returned to Sender", "datetime": now}
    tracker = {
        "object": "Tracker",
        "id": label.tracker_id,
        "tracking_code": label.tracking_code,
        "shipment_id": label.shipment_id,
        "status": status,
        "tracking_details": [detail],
    }
    return {
        "object": "Event",
        "id": f"evt_forged_{label.tracker_id}",
        "description": "tracker.updated",
        "created_at": now,
        "result": tracker,
    }


async def test_carrier_events_forged_or_contradicted_refund_nothing(stack: Stack) -> None:
    """Probe: an unauthenticated `return_to_sender` event triggered the automatic refund.
    Unsigned it is refused; signed (say, a leaked secret) while the carrier has the parcel
    in transit, the order hears the carrier's in_transit, not the body's return."""
    order, status = await in_transit_and_silent(stack)
    handle = stack.client.get_workflow_handle(order.workflow_id)
    url = f"{stack.settings.intake_url}/webhooks/easypost"
    try:
        event = carrier_event(status.label, "return_to_sender")
        unsigned = await stack.sandbox.post(url, json=event)
        assert unsigned.status_code == 401
        body, headers = signed_event(stack.settings, event)
        signed = await stack.sandbox.post(url, content=body, headers=headers)
        assert signed.json() == {"status": "delivered", "workflow_id": order.workflow_id}
        await asyncio.sleep(2)
        after = await handle.query(OrderWorkflow.status)
        assert after.state is OrderState.IN_TRANSIT
        assert (after.tracking_exception, after.refunded) == ("", None)
        assert event["id"] in after.tracking_events_seen  # heard, as the carrier tells it
        refunds = await stack.sandbox.get(
            "/_sandbox/ledger", params={"partner": "stripe", "kind": "refund"}
        )
        assert all(order.workflow_id not in json.dumps(e) for e in refunds.json())
    finally:
        await stop(handle)
