"""Buyers' cancellation requests reach their orders.

The relay (the `import_cancellation_requests` activity's work) runs in an activity
environment against the partner sandbox and real order workflows on the time-skipping
server; the poller runs with stand-in activities registered under the real names.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from temporalio import activity
from temporalio.client import WorkflowExecutionStatus
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment, WorkflowEnvironment
from temporalio.worker import Worker

from activities.cancellation_requests import BuyerRequest, CancellationRelay, settled
from crossdock.demo import NEAR_MISS_BUYERS
from crossdock.models.intake import (
    CancellationOutcome,
    ImportCancellationsInput,
    ImportCancellationsResult,
    ImportOrdersInput,
    ImportOrdersResult,
    MarketplaceAnswer,
)
from crossdock.models.order import Buyer, Channel, Order
from crossdock.models.order_states import OrderState
from crossdock.partners.amazon import AmazonOrdersClient
from crossdock.partners.ebay_post_order import EbayPostOrderClient
from crossdock.sandbox.app import create_app
from crossdock.sandbox.context import SandboxContext
from crossdock.workflow_sandbox import RUNNER
from tests.conftest import skip_time
from tests.factories import NOW, order
from tests.workflows.order_harness import OrderHandle, start, wait_for_state, worker
from tests.workflows.stand_ins import Partners
from workflows.intake import OVERLAP, MarketplacePollWorkflow, PollInput
from workflows.order import OrderWorkflow

# Long review clocks: the order must still wait when the buyer's request comes.
REVIEW_CLOCKS = {
    "review_remind_seconds": 30 * 86400,
    "review_escalate_seconds": 60 * 86400,
    "review_expire_seconds": 90 * 86400,
}
HELD_BUYER = Buyer(name=NEAR_MISS_BUYERS[0], email="held@example.com")
SINCE = NOW - timedelta(days=1)


@pytest.fixture(scope="module")
def app() -> FastAPI:
    return create_app()


@pytest.fixture
async def relay(app: FastAPI, time_env: WorkflowEnvironment) -> AsyncIterator[CancellationRelay]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app)) as http:
        amazon = AmazonOrdersClient("http://sandbox/amazon", "Atza|t", "A1PA6795UKMFR9", http=http)
        post_order = EbayPostOrderClient("http://sandbox/ebay", "v^1.1#t", http=http)
        yield CancellationRelay(time_env.client, amazon, post_order)


def marketplace_order(channel: Channel, order_id: str, *, held: bool = False) -> Order:
    buyer = HELD_BUYER if held else Buyer(name="Ada Buyer", email="ada@example.com")
    placed = order(channel=channel, channel_order_id=order_id, buyer=buyer)
    return placed.model_copy(
        update={"ship_to": placed.ship_to.model_copy(update={"name": buyer.name})}
    )


async def on_marketplace(app: FastAPI, placed: Order, reason: str | None) -> None:
    """Place the order on its sandbox marketplace and have the buyer ask to cancel (when
    `reason` is None, only place it)."""
    prefix = placed.channel.value
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://sandbox"
    ) as http:
        body = placed.model_dump(mode="json")
        assert (await http.post(f"/{prefix}/_sandbox/orders", json=body)).is_success
        if reason is not None:
            await buyer_asks(http, placed, reason)


async def buyer_asks(http: httpx.AsyncClient, placed: Order, reason: str) -> None:
    path = f"/{placed.channel.value}/_sandbox/orders/{placed.channel_order_id}/buyer-cancel"
    asked = await http.post(path, json={"reason": reason})
    assert asked.is_success, asked.text


async def relay_since(
    relay: CancellationRelay, channel: Channel, skip: list[str] | None = None
) -> ImportCancellationsResult:
    request = ImportCancellationsInput(channel=channel, since=SINCE, skip=skip or [])
    return await ActivityEnvironment().run(relay.run, request)


def mine(result: ImportCancellationsResult, order_id: str) -> list[Any]:
    return [(h.outcome, h.answer) for h in result.handled if h.channel_order_id == order_id]


def ledger(app: FastAPI, kind: str, order_id: str) -> list[Any]:
    ctx: SandboxContext = app.state.sandbox
    return [
        e for e in ctx.ledger.entries(partner="ebay", kind=kind) if e.details["order"] == order_id
    ]


async def held_in_review(env: WorkflowEnvironment, task_queue: str, placed: Order) -> OrderHandle:
    handle = await start(env, task_queue, placed, **REVIEW_CLOCKS)
    await wait_for_state(handle, OrderState.IN_REVIEW)
    return handle


class TestRelay:
    async def test_ebay_request_for_an_order_in_review_cancels_it_and_is_approved(
        self, app: FastAPI, relay: CancellationRelay, time_env: WorkflowEnvironment, task_queue: str
    ) -> None:
        placed = marketplace_order(Channel.EBAY, "16-00001-44444", held=True)
        async with worker(time_env, task_queue, Partners()):
            handle = await held_in_review(time_env, task_queue, placed)
            await on_marketplace(app, placed, "ORDER_MISTAKE")
            first = await relay_since(relay, Channel.EBAY)
            result = await handle.result()
            # Seen again (say, the poller lost its skip list): nothing more happens.
            again = await relay_since(relay, Channel.EBAY)
            status = await handle.query(OrderWorkflow.status)
        assert mine(first, placed.channel_order_id) == [
            (CancellationOutcome.ACCEPTED, MarketplaceAnswer.APPROVE)
        ]
        assert mine(again, placed.channel_order_id) == []  # closed on eBay now
        assert result.state == OrderState.CANCELLED
        assert "cancelled by intake:ebay: buyer asked on ebay: ORDER_MISTAKE" in result.reason
        assert any(
            e.event == "cancel_requested" and "intake:ebay" in e.detail for e in status.timeline
        )
        assert len(ledger(app, "cancellation_approved", placed.channel_order_id)) == 1

    async def test_ebay_request_for_a_shipped_order_is_rejected_with_its_tracking(
        self, app: FastAPI, relay: CancellationRelay, time_env: WorkflowEnvironment, task_queue: str
    ) -> None:
        placed = marketplace_order(Channel.EBAY, "16-00002-44444")
        async with worker(time_env, task_queue, Partners()):
            handle = await start(time_env, task_queue, placed)
            await wait_for_state(handle, OrderState.SHIPMENT_CONFIRMED)
            await on_marketplace(app, placed, "WONT_ARRIVE_IN_TIME")
            result = await relay_since(relay, Channel.EBAY)
            await handle.terminate("test done")
        [handled] = [h for h in result.handled if h.channel_order_id == placed.channel_order_id]
        assert (handled.outcome, handled.answer) == (
            CancellationOutcome.REFUSED,
            MarketplaceAnswer.REJECT,
        )
        assert "request a return instead" in handled.detail
        [rejected] = ledger(app, "cancellation_rejected", placed.channel_order_id)
        assert rejected.details["tracking_number"] == "EZ1000000001"
        assert rejected.details["shipment_date"] is not None

    async def test_a_repeated_request_gets_its_first_answer_and_ebay_is_read_back(
        self, app: FastAPI, relay: CancellationRelay, time_env: WorkflowEnvironment, task_queue: str
    ) -> None:
        placed = marketplace_order(Channel.EBAY, "16-00003-44444", held=True)
        async with worker(time_env, task_queue, Partners()):
            handle = await held_in_review(time_env, task_queue, placed)
            await on_marketplace(app, placed, "FOUND_CHEAPER_PRICE")
            first = await relay_since(relay, Channel.EBAY)
            [done] = [h for h in first.handled if h.channel_order_id == placed.channel_order_id]
            await handle.result()
            # An activity retry after eBay took the approval: Temporal answers the same
            # update id with its first result (even on the closed order), eBay refuses a
            # second approval, and reading the request back shows it approved.
            repeat = await relay.handle(
                BuyerRequest(done.request_id, Channel.EBAY, placed.channel_order_id, "again")
            )
        assert (repeat.outcome, repeat.answer) == (done.outcome, MarketplaceAnswer.APPROVE)
        assert len(ledger(app, "cancellation_approved", placed.channel_order_id)) == 1

    async def test_amazon_request_cancels_with_nothing_to_answer_and_is_skipped_after(
        self, app: FastAPI, relay: CancellationRelay, time_env: WorkflowEnvironment, task_queue: str
    ) -> None:
        placed = marketplace_order(Channel.AMAZON, "307-0000001-3333333", held=True)
        async with worker(time_env, task_queue, Partners()):
            handle = await held_in_review(time_env, task_queue, placed)
            await on_marketplace(app, placed, "Ordered the wrong size")
            first = await relay_since(relay, Channel.AMAZON)
            second = await relay_since(relay, Channel.AMAZON, skip=sorted(first.seen))
            result = await handle.result()
            # Another request for the closed, cancelled order (not a repeat): done too.
            other = BuyerRequest("other", Channel.AMAZON, placed.channel_order_id, "twice")
            late = await relay.handle(other)
        assert mine(first, placed.channel_order_id) == [
            (CancellationOutcome.ACCEPTED, MarketplaceAnswer.NONE)
        ]
        assert mine(second, placed.channel_order_id) == []
        assert (late.outcome, late.answer) == (
            CancellationOutcome.ALREADY_CANCELLED,
            MarketplaceAnswer.NONE,
        )
        assert "cancelled by intake:amazon: buyer asked on amazon: Ordered the wrong size" in (
            result.reason
        )

    async def test_amazon_request_in_the_same_second_as_the_last_listing_is_seen(
        self, app: FastAPI, relay: CancellationRelay, time_env: WorkflowEnvironment, task_queue: str
    ) -> None:
        placed = marketplace_order(Channel.AMAZON, "307-0000002-3333333", held=True)
        async with worker(time_env, task_queue, Partners()):
            handle = await held_in_review(time_env, task_queue, placed)
            await on_marketplace(app, placed, None)
            before = await relay_since(relay, Channel.AMAZON)
            async with httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app), base_url="http://sandbox"
            ) as http:
                await buyer_asks(http, placed, "changed my mind")
            after = await relay_since(relay, Channel.AMAZON, skip=sorted(before.seen))
            result = await handle.result()
        assert mine(before, placed.channel_order_id) == []
        assert mine(after, placed.channel_order_id) == [
            (CancellationOutcome.ACCEPTED, MarketplaceAnswer.NONE)
        ]
        assert result.state == OrderState.CANCELLED

    async def test_a_request_for_an_order_never_imported_waits_for_a_person(
        self, app: FastAPI, relay: CancellationRelay
    ) -> None:
        placed = marketplace_order(Channel.EBAY, "16-00004-44444")
        await on_marketplace(app, placed, "ORDER_MISTAKE")
        result = await relay_since(relay, Channel.EBAY)
        assert mine(result, placed.channel_order_id) == [
            (CancellationOutcome.UNKNOWN_ORDER, MarketplaceAnswer.NONE)
        ]
        found = await relay._post_order.search_cancellations(SINCE)
        assert [c.awaits_seller for c in found if c.order_id == placed.channel_order_id] == [True]

    async def test_an_answer_ebay_refuses_is_left_to_a_person(
        self, app: FastAPI, relay: CancellationRelay, time_env: WorkflowEnvironment, task_queue: str
    ) -> None:
        # eBay shows the order shipped (a fulfillment made outside Crossdock): it refuses
        # the approval. The request is reported, not retried forever.
        placed = marketplace_order(Channel.EBAY, "16-00005-44444", held=True)
        async with worker(time_env, task_queue, Partners()):
            await held_in_review(time_env, task_queue, placed)
            await shipped_outside_then_asked(app, placed)
            result = await relay_since(relay, Channel.EBAY)
        [handled] = [h for h in result.handled if h.channel_order_id == placed.channel_order_id]
        assert (handled.outcome, handled.answer) == (
            CancellationOutcome.ACCEPTED,
            MarketplaceAnswer.NONE,
        )
        assert "approve refused by ebay" in handled.detail


async def shipped_outside_then_asked(app: FastAPI, placed: Order) -> None:
    """On eBay: the order placed, shipped by someone else at 11:30, and a cancellation the
    buyer asked for at 10:30."""
    api = f"/ebay/sell/fulfillment/v1/order/{placed.channel_order_id}"
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),
        base_url="http://sandbox",
        headers={"Authorization": "Bearer t"},
    ) as http:
        await http.post("/ebay/_sandbox/orders", json=placed.model_dump(mode="json"))
        lines = (await http.get(api)).json()["lineItems"]
        shipped = await http.post(
            f"{api}/shipping_fulfillment",
            json={
                "lineItems": [{"lineItemId": line["lineItemId"]} for line in lines],
                "shippedDate": (NOW + timedelta(hours=2)).isoformat(),
                "shippingCarrierCode": "DHL",
                "trackingNumber": "OUTSIDE1",
            },
        )
        assert shipped.status_code == 201, shipped.text
        asked = await http.post(
            f"/ebay/_sandbox/orders/{placed.channel_order_id}/buyer-cancel",
            json={"reason": "ORDER_MISTAKE", "requestDate": (NOW + timedelta(hours=1)).isoformat()},
        )
        assert asked.status_code == 201, asked.text


# ---------------------------------------------------------------- the poller


class ScriptedIntake:
    """Stand-ins for the intake activities: record inputs, answer from a script."""

    def __init__(self, cancellations: list[dict[str, datetime]]) -> None:
        self.calls: list[str] = []
        self.cancellation_inputs: list[ImportCancellationsInput] = []
        self._script = list(cancellations)

    @activity.defn(name="import_new_orders")
    async def import_new_orders(self, input: ImportOrdersInput) -> ImportOrdersResult:
        self.calls.append("import_new_orders")
        return ImportOrdersResult()

    @activity.defn(name="import_cancellation_requests")
    async def import_cancellation_requests(
        self, input: ImportCancellationsInput
    ) -> ImportCancellationsResult:
        self.calls.append("import_cancellation_requests")
        self.cancellation_inputs.append(input)
        seen = self._script.pop(0) if self._script else {}
        return ImportCancellationsResult(seen=seen)


async def test_each_poll_relays_cancellations_with_a_cursor_of_its_own(
    time_env: WorkflowEnvironment, task_queue: str
) -> None:
    start_at = await time_env.get_current_time()
    newest = start_at + timedelta(hours=1)
    intake = ScriptedIntake([{"c1": start_at + timedelta(minutes=1), "c2": newest}])
    poll = PollInput(channel=Channel.EBAY, created_after=start_at, poll_interval_seconds=60)
    async with Worker(
        time_env.client,
        task_queue=task_queue,
        workflows=[MarketplacePollWorkflow],
        activities=[intake.import_new_orders, intake.import_cancellation_requests],
        workflow_runner=RUNNER,
    ):
        handle = await time_env.client.start_workflow(
            MarketplacePollWorkflow.run, poll, id=f"poll-{task_queue}", task_queue=task_queue
        )
        for _ in range(100):
            if len(intake.cancellation_inputs) >= 3:
                break
            await skip_time(time_env, 60)
            await asyncio.sleep(0.02)
        await handle.terminate("test done")
    first, second, third = intake.cancellation_inputs[:3]
    assert intake.calls[:4] == ["import_new_orders", "import_cancellation_requests"] * 2
    assert (first.since, first.skip) == (start_at, [])
    # The cursor moved to the newest request less the overlap; c1 fell behind it.
    assert (second.since, second.skip) == (newest - OVERLAP, ["c2"])
    assert (third.since, third.skip) == (newest - OVERLAP, ["c2"])


def test_an_amazon_order_changed_in_the_listings_last_second_is_not_remembered() -> None:
    end = datetime(2026, 11, 2, 12, 0, 1, tzinfo=UTC)
    assert settled(datetime(2026, 11, 2, 12, 0, 0, tzinfo=UTC), end)
    # Same whole second as the window's end: a request may still come with this date.
    assert not settled(datetime(2026, 11, 2, 12, 0, 1, tzinfo=UTC), end)
    assert not settled(datetime(2026, 11, 2, 12, 0, 1, 500000, tzinfo=UTC), end)


class FailingIntake(ScriptedIntake):
    @activity.defn(name="import_cancellation_requests")
    async def import_cancellation_requests(
        self, input: ImportCancellationsInput
    ) -> ImportCancellationsResult:
        self.calls.append("import_cancellation_requests")
        self.cancellation_inputs.append(input)
        raise ApplicationError("eBay: invalid token", type="1001", non_retryable=True)


async def test_a_refused_cancellation_listing_does_not_stop_order_intake(
    time_env: WorkflowEnvironment, task_queue: str
) -> None:
    start_at = await time_env.get_current_time()
    intake = FailingIntake([])
    # Polls every 50 ms of real time: the test waits on the polls themselves instead of
    # skipping time in fixed steps, which raced the worker on a loaded machine.
    poll = PollInput(channel=Channel.EBAY, created_after=start_at, poll_interval_seconds=0.05)
    async with Worker(
        time_env.client,
        task_queue=task_queue,
        workflows=[MarketplacePollWorkflow],
        activities=[intake.import_new_orders, intake.import_cancellation_requests],
        workflow_runner=RUNNER,
    ):
        handle = await time_env.client.start_workflow(
            MarketplacePollWorkflow.run, poll, id=f"poll-{task_queue}", task_queue=task_queue
        )
        try:
            async with asyncio.timeout(60):
                while intake.calls.count("import_new_orders") < 3:  # noqa: ASYNC110 (activities append)
                    await asyncio.sleep(0.05)
            description = await handle.describe()
        finally:
            await handle.terminate("test done")
    assert description.status == WorkflowExecutionStatus.RUNNING
    assert intake.calls.count("import_new_orders") >= 3
    # The cursor stayed put, so each poll asks for the same window again.
    assert {i.since for i in intake.cancellation_inputs} == {start_at}


def test_pollers_started_before_the_cancellation_cursor_begin_at_their_order_cursor() -> None:
    old_state = {
        "channel": "amazon",
        "created_after": "2026-11-01T00:00:00Z",
        "poll_interval_seconds": 60,
    }
    state = PollInput.model_validate(old_state)
    assert state.cancellations_after == datetime(2026, 11, 1, tzinfo=UTC)
    assert state.cancellations_seen == {}
