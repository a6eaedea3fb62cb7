"""A cancellation relay that keeps failing never stops order intake, and makes progress
under partner faults without losing or doubling a request (chaos run, issue 17).

The relay runs in an activity environment against the partner sandbox with fault rules
on Amazon's order-items endpoint; attempts are chained the way Temporal chains them (the
last heartbeat's details handed to the next attempt). The poller runs on the
time-skipping server with stand-in activities registered under the real names.
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from temporalio import activity
from temporalio.common import RetryPolicy
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment, WorkflowEnvironment
from temporalio.worker import Worker

from activities.cancellation_requests import CancellationRelay
from crossdock.models.intake import (
    ImportCancellationsInput,
    ImportCancellationsResult,
    ImportOrdersInput,
    ImportOrdersResult,
)
from crossdock.models.order import Buyer, Channel
from crossdock.partners.amazon import AmazonOrdersClient
from crossdock.partners.ebay_post_order import EbayPostOrderClient
from crossdock.partners.errors import PartnerUnavailable
from crossdock.sandbox.app import create_app
from crossdock.sandbox.context import SandboxConfig, SandboxContext
from crossdock.sandbox.faults import EndpointRule, FaultProfile
from crossdock.workflow_sandbox import RUNNER
from tests.conftest import skip_time
from tests.factories import NOW, order
from workflows.intake import RELAY_RETRY, MarketplacePollWorkflow, PollInput

# Set to tests/histories to record the poller's history (tests/histories/README.md).
RECORD = os.environ.get("CROSSDOCK_RECORD_HISTORIES", "")
ITEMS = "/amazon/orders/v0/orders/*/orderItems"
ORDER_IDS = [f"307-00000{n:02d}-5555555" for n in range(1, 9)]


@pytest.fixture
def app() -> FastAPI:
    return create_app(SandboxConfig(faults=FaultProfile(name="items", seed=7)))


@pytest.fixture
def items_read() -> list[str]:
    """The order-items reads the sandbox answered (200), by URL."""
    return []


@pytest.fixture
async def relay(
    app: FastAPI, time_env: WorkflowEnvironment, items_read: list[str]
) -> AsyncIterator[CancellationRelay]:
    async def answered(response: httpx.Response) -> None:
        if response.url.path.endswith("/orderItems") and response.status_code == 200:
            items_read.append(str(response.url))

    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), event_hooks={"response": [answered]}
    ) as http:
        amazon = AmazonOrdersClient("http://sandbox/amazon", "Atza|t", "A1PA6795UKMFR9", http=http)
        post_order = EbayPostOrderClient("http://sandbox/ebay", "v^1.1#t", http=http)
        yield CancellationRelay(time_env.client, amazon, post_order)


def strike_items(app: FastAPI, rate: float) -> None:
    """Have the sandbox answer `rate` of order-items reads with a 503 (0: none)."""
    ctx: SandboxContext = app.state.sandbox
    rule = EndpointRule(method="GET", path=ITEMS, before={"error_503": rate})
    ctx.config.faults.endpoints[:] = [rule] if rate else []


async def buyers_ask(app: FastAPI, order_ids: list[str]) -> None:
    """Place Amazon orders whose buyers all ask to cancel."""
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://sandbox"
    ) as http:
        for order_id in order_ids:
            placed = order(
                channel=Channel.AMAZON,
                channel_order_id=order_id,
                buyer=Buyer(name="Ada Buyer", email="ada@example.com"),
            )
            assert (
                await http.post("/amazon/_sandbox/orders", json=placed.model_dump(mode="json"))
            ).is_success
            asked = await http.post(
                f"/amazon/_sandbox/orders/{order_id}/buyer-cancel", json={"reason": "too late"}
            )
            assert asked.is_success, asked.text


class Attempts:
    """Runs the relay's activity attempt after attempt, as Temporal retries it."""

    def __init__(self, relay: CancellationRelay, limit: int) -> None:
        self.relay = relay
        self.limit = limit
        self.details: list[Any] = []
        self.count = 0

    async def run(self, since: datetime, skip: list[str]) -> ImportCancellationsResult:
        """One activity execution: attempts until one returns (the last always does)."""
        self.details = []
        for attempt in range(1, self.limit + 1):
            self.count += 1
            env = ActivityEnvironment()
            env.info = dataclasses.replace(
                env.info,
                attempt=attempt,
                heartbeat_details=self.details,
                retry_policy=RetryPolicy(maximum_attempts=self.limit),
            )
            env.on_heartbeat = self._record
            request = ImportCancellationsInput(channel=Channel.AMAZON, since=since, skip=skip)
            try:
                return await env.run(self.relay.run, request)
            except PartnerUnavailable:  # a passing fault: Temporal retries
                assert attempt < self.limit, "the last attempt must return what it did"
        raise AssertionError("unreachable")

    def _record(self, *details: Any) -> None:
        self.details = list(details)


async def test_under_faults_every_request_is_relayed_once_and_retries_resume(
    app: FastAPI, relay: CancellationRelay, items_read: list[str]
) -> None:
    await buyers_ask(app, ORDER_IDS)
    strike_items(app, 0.5)
    attempts = Attempts(relay, RELAY_RETRY.maximum_attempts)
    since, skip = NOW - timedelta(days=1), list[str]()
    handled: list[str] = []
    for _poll in range(10):
        result = await attempts.run(since, skip)
        handled += [h.channel_order_id for h in result.handled]
        if result.seen:
            # The poller's cursor: only over what this run listed.
            since = max(since, max(result.seen.values()) - timedelta(minutes=5))
            skip = sorted({*skip, *result.seen})
        if sorted(handled) == ORDER_IDS:
            break
    # Each request once, though half the items reads failed: retries went on from the
    # last order handled rather than starting over.
    assert sorted(handled) == ORDER_IDS
    assert len(handled) == len(set(handled))
    assert attempts.count > len(ORDER_IDS) / 2  # the faults did strike
    # No order's items were read twice: each retry and poll went on after the last.
    assert sorted(items_read) == sorted(set(items_read)) and len(items_read) == len(ORDER_IDS)


async def test_a_request_missed_while_items_fail_is_relayed_once_they_answer(
    app: FastAPI, relay: CancellationRelay
) -> None:
    await buyers_ask(app, ORDER_IDS[:2])
    strike_items(app, 1.0)
    attempts = Attempts(relay, RELAY_RETRY.maximum_attempts)
    since = NOW - timedelta(days=1)
    failed = await attempts.run(since, [])
    # Nothing handled, nothing seen: the cursor stays and the requests are asked for again.
    assert (failed.seen, failed.handled) == ({}, [])
    strike_items(app, 0.0)
    relayed = await attempts.run(since, [])
    assert sorted(h.channel_order_id for h in relayed.handled) == ORDER_IDS[:2]
    again = await attempts.run(since, sorted(relayed.seen))
    assert again.handled == []


# ---------------------------------------------------------------- the poller


class StuckRelay:
    """Stand-ins: orders import fine; the cancellation relay always fails, retryably."""

    def __init__(self) -> None:
        self.imports = 0
        self.relays = 0

    @activity.defn(name="import_new_orders")
    async def import_new_orders(self, input: ImportOrdersInput) -> ImportOrdersResult:
        self.imports += 1
        return ImportOrdersResult()

    @activity.defn(name="import_cancellation_requests")
    async def import_cancellation_requests(
        self, input: ImportCancellationsInput
    ) -> ImportCancellationsResult:
        self.relays += 1
        raise ApplicationError("amazon: 503 Service Unavailable", type="PartnerUnavailable")


async def test_a_relay_that_keeps_failing_does_not_hold_back_new_orders(
    time_env: WorkflowEnvironment, task_queue: str
) -> None:
    start_at = await time_env.get_current_time()
    intake = StuckRelay()
    poll = PollInput(channel=Channel.AMAZON, created_after=start_at, poll_interval_seconds=60)
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
            # Ten minutes of workflow time, well past the relay's bounds.
            for _ in range(40):
                if intake.imports >= 3:
                    break
                await skip_time(time_env, 15)
                await asyncio.sleep(0.05)
        finally:
            await handle.terminate("test done")
        if RECORD:
            history = await handle.fetch_history()
            path = Path(RECORD, "intake-poll-amazon-relay-bounded.json")
            path.write_text(history.to_json())  # noqa: ASYNC240
    assert intake.imports >= 3, (
        f"{intake.imports} polls imported orders; relay tried {intake.relays}x"
    )
    assert intake.relays >= 2 * RELAY_RETRY.maximum_attempts  # retried again at the next poll
