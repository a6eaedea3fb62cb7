"""End to end: buyers ask the marketplaces to cancel; the pollers relay the requests to the
order workflows and answer eBay. An order waiting in review ends cancelled (eBay approves
the request); a request that reaches the seller after the parcel shipped is rejected on
eBay with the shipment's tracking number.

The product runs for real (dev server, sandbox, worker, marketplace pollers) in a rig of
its own on the session's dev server: its own sandbox, task queue and pollers. The
session `stack` cannot host the shipped order, because `test_order_flow.py` asserts that
the session sandbox's label, declaration and confirmation ledgers hold its orders only.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import httpx
import pytest
from temporalio.client import Client, WorkflowHandle, WorkflowUpdateFailedError
from temporalio.testing import WorkflowEnvironment

from crossdock.config import Settings
from crossdock.demo import NEAR_MISS_BUYERS, DemoOrders, place
from crossdock.identity import ClaimSigner
from crossdock.identity.claims import signer_for
from crossdock.models.approval import Principal, Role
from crossdock.models.order import Buyer, Channel, Order
from crossdock.models.order_states import OrderState
from crossdock.models.order_status import OrderStatus
from crossdock.models.order_steps import CancelRequest, OrderResult
from crossdock.partners.clients import PartnerClients
from crossdock.sandbox.app import create_app
from crossdock.sandbox.context import SandboxConfig
from crossdock.temporal import with_claim_binding
from starter.pollers import POLLED
from tests.integration.conftest import Stack
from tests.servers import free_port, sandbox_urls, serve
from worker import build_worker
from workflows.intake import MarketplacePollWorkflow, PollInput
from workflows.order import OrderWorkflow

T = TypeVar("T")
HELD = Buyer(name=NEAR_MISS_BUYERS[0], email="buyer-held@example.com")
SHIPPED = {OrderState.SHIPMENT_CONFIRMED, OrderState.IN_TRANSIT, OrderState.COMPLETED}
SHIPPED |= {OrderState.DELIVERED, OrderState.DELAYED}


TASK_QUEUE = "buyer-cancellation"
RIG = Principal(id="test-rig", role=Role.OPERATOR)


@pytest.fixture(scope="module")
async def rig(dev_env: WorkflowEnvironment) -> AsyncIterator[Stack]:
    """Sandbox, worker and pollers of this test's own, on the session's dev server.

    Carrier webhooks are not delivered (no intake app): the shipped order stops at
    shipment_confirmed, which is all this test needs.
    """
    port = free_port()
    sandbox = f"http://127.0.0.1:{port}"
    settings = Settings(
        temporal_address=dev_env.client.service_client.config.target_host,
        task_queue=TASK_QUEUE,
        sandbox_port=port,
        **sandbox_urls(sandbox),
        return_window_seconds=1.0,
        poll_interval_seconds=0.5,
        customs_poll_seconds=0.5,
        _env_file=None,
    )
    partners = PartnerClients.from_settings(settings)
    with serve(create_app(SandboxConfig(seed=12)), port):
        async with (
            build_worker(with_claim_binding(dev_env.client, settings), settings, partners),
            httpx.AsyncClient(base_url=sandbox, timeout=10) as http,
        ):
            pollers = [await start_poller(dev_env, settings, c) for c in POLLED]
            try:
                yield Stack(
                    client=with_claim_binding(dev_env.client, settings),
                    settings=settings,
                    sandbox=http,
                )
            finally:
                for poller in pollers:
                    await poller.terminate("test done")
                await leave_no_order_in_review(
                    with_claim_binding(dev_env.client, settings), signer_for(settings)
                )
    await partners.aclose()


async def leave_no_order_in_review(client: Client, signer: ClaimSigner) -> None:
    """Cancel this rig's orders still running while its worker is up: the dev server is
    shared, and other tests act on every order they find waiting in review."""
    query = f'TaskQueue="{TASK_QUEUE}" AND ExecutionStatus="Running"'
    async for execution in client.list_workflows(f'{query} AND WorkflowType="OrderWorkflow"'):
        handle = client.get_workflow_handle(execution.id, result_type=OrderResult)
        closing = CancelRequest(reason="test rig closing", by=signer.sign(RIG, execution.id))
        try:
            await handle.execute_update(OrderWorkflow.cancel, closing)
        except WorkflowUpdateFailedError:
            continue  # shipped, or cancelling already: not waiting in review
        await asyncio.wait_for(handle.result(), timeout=30)


async def start_poller(
    env: WorkflowEnvironment, settings: Settings, channel: Channel
) -> WorkflowHandle[MarketplacePollWorkflow, None]:
    return await env.client.start_workflow(
        MarketplacePollWorkflow.run,
        PollInput(
            channel=channel,
            created_after=datetime.now(UTC) - timedelta(hours=1),
            poll_interval_seconds=settings.poll_interval_seconds,
        ),
        id=f"{TASK_QUEUE}-poll-{channel.value}",
        task_queue=TASK_QUEUE,
    )


def held_in_review(order: Order) -> Order:
    """The same order from a buyer whose name screening sends to an operator's review."""
    ship_to = order.ship_to.model_copy(update={"name": HELD.name})
    return order.model_copy(update={"buyer": HELD, "ship_to": ship_to})


async def eventually(probe: Callable[[], Awaitable[T | None]], what: str, seconds: float = 90) -> T:
    """Poll `probe` until it returns something, for up to `seconds`."""
    for _ in range(int(seconds / 0.25)):
        found = await probe()
        if found is not None:
            return found
        await asyncio.sleep(0.25)
    raise AssertionError(f"timed out waiting for {what}")


async def status_of(stack: Stack, order: Order) -> OrderStatus | None:
    handle = stack.client.get_workflow_handle(order.workflow_id, result_type=OrderResult)
    try:
        return await handle.query(OrderWorkflow.status)
    except Exception as err:  # not started yet: the poller has not seen the order
        if "not found" in str(err).lower():
            return None
        raise


async def reaches(stack: Stack, order: Order, states: set[OrderState]) -> OrderStatus:
    async def probe() -> OrderStatus | None:
        status = await status_of(stack, order)
        return status if status is not None and status.state in states else None

    return await eventually(probe, f"{order.workflow_id} in {sorted(states)}")


async def ledger(stack: Stack, kind: str, **details: str) -> list[dict[str, Any]]:
    response = await stack.sandbox.get("/_sandbox/ledger", params={"partner": "ebay", "kind": kind})
    response.raise_for_status()
    return [
        e
        for e in response.json()
        if all(e["details"].get(name) == value for name, value in details.items())
    ]


async def buyer_cancels(stack: Stack, order: Order, body: dict[str, str]) -> dict[str, Any]:
    prefix = order.channel.value
    response = await stack.sandbox.post(
        f"/{prefix}/_sandbox/orders/{order.channel_order_id}/buyer-cancel", json=body
    )
    assert response.is_success, response.text
    found: dict[str, Any] = response.json()
    return found


async def result_of(stack: Stack, order: Order) -> OrderResult:
    handle = stack.client.get_workflow_handle(order.workflow_id, result_type=OrderResult)
    return await asyncio.wait_for(handle.result(), timeout=90)


async def test_buyer_cancels_an_order_in_review_and_a_late_request_is_rejected(
    rig: Stack,
) -> None:
    demo = DemoOrders(seed=4242, decline_rate=0.0, review_rate=0.0)
    held_ebay = held_in_review(demo.next(channel=Channel.EBAY))
    held_amazon = held_in_review(demo.next(channel=Channel.AMAZON))
    shipped = demo.next(channel=Channel.EBAY)
    for order in (held_ebay, held_amazon, shipped):
        await place(rig.sandbox, order)

    for order in (held_ebay, held_amazon):
        await reaches(rig, order, {OrderState.IN_REVIEW})
    await buyer_cancels(rig, held_ebay, {"reason": "ORDER_MISTAKE"})
    await buyer_cancels(rig, held_amazon, {"reason": "Ordered the wrong colour"})

    # The buyer asked while the label was being bought (customs declared, label not yet
    # bought); the request reached the seller after the parcel shipped: the race a seller
    # must answer with a rejection.
    status = await reaches(rig, shipped, SHIPPED)
    asked_at = [e.at for e in status.timeline if e.state == OrderState.CUSTOMS_DECLARED][-1]
    late = await buyer_cancels(
        rig, shipped, {"reason": "WONT_ARRIVE_IN_TIME", "requestDate": asked_at.isoformat()}
    )

    ebay_result, amazon_result = await asyncio.gather(
        result_of(rig, held_ebay), result_of(rig, held_amazon)
    )
    assert ebay_result.state == OrderState.CANCELLED
    assert "cancelled by intake:ebay: buyer asked on ebay: ORDER_MISTAKE" in ebay_result.reason
    assert amazon_result.state == OrderState.CANCELLED
    assert "intake:amazon" in amazon_result.reason
    # eBay hears of it once the order took the update: a moment after, not before.
    approved = await eventually(
        lambda: _present(ledger(rig, "cancellation_approved", order=held_ebay.channel_order_id)),
        "the approval on eBay",
    )
    assert len(approved) == 1

    [rejected] = await eventually(
        lambda: _present(ledger(rig, "cancellation_rejected", order=shipped.channel_order_id)),
        "the late request's rejection",
    )
    assert rejected["reference"] == late["cancelId"]
    assert status.label is not None
    assert rejected["details"]["tracking_number"] == status.label.tracking_code
    after = await status_of(rig, shipped)
    assert after is not None and after.state in SHIPPED  # the parcel goes on
    assert not any(e.event == "cancel_requested" for e in after.timeline)
    await assert_nothing_booked_for(rig, [held_ebay, held_amazon])


async def _present(entries: Awaitable[list[dict[str, Any]]]) -> list[dict[str, Any]] | None:
    return (await entries) or None


async def assert_nothing_booked_for(stack: Stack, orders: list[Order]) -> None:
    """Cancelled in review: no label, declaration or confirmation was ever made."""
    workflow_ids = {o.workflow_id for o in orders}
    channel_ids = {o.channel_order_id for o in orders}
    for partner, kind in (("easypost", "label"), ("customs", "declaration")):
        response = await stack.sandbox.get(
            "/_sandbox/ledger", params={"partner": partner, "kind": kind}
        )
        booked = {e["details"].get("shipment_reference", e["reference"]) for e in response.json()}
        assert not booked & workflow_ids, f"{kind} booked for a cancelled order"
    for partner in ("amazon", "ebay"):
        response = await stack.sandbox.get(
            "/_sandbox/ledger", params={"partner": partner, "kind": "confirmation"}
        )
        assert not {e["reference"] for e in response.json()} & channel_ids
