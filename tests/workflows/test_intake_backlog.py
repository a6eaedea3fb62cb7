"""A backlog of marketplace orders drains under partner faults: an order whose items a
fault keeps from being read waits for the retry while the others start, and a retry
reads only what is left (a chaos run of 500 orders once lost 95 Amazon orders because
every attempt read the whole backlog again and some read always failed).

The import runs in an activity environment against the sandbox over HTTP, a fault
rule on Amazon's order-items endpoint; attempts are chained as Temporal chains them
(the last heartbeat's details handed to the next attempt).
"""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment, WorkflowEnvironment

from activities.intake import IntakeActivities
from crossdock.config import Settings
from crossdock.models.intake import ImportOrdersInput, ImportOrdersResult
from crossdock.models.order import Channel, Order
from crossdock.models.returns import ReturnRequest
from crossdock.partners.clients import PartnerClients
from crossdock.sandbox.app import create_app
from crossdock.sandbox.context import SandboxConfig
from crossdock.sandbox.faults import EndpointRule, FaultProfile
from tests.factories import NOW, order
from tests.servers import sandbox_urls, serve

ITEMS = "/amazon/orders/v0/orders/*/orderItems"
ORDER_IDS = [f"308-00000{n:02d}-5555555" for n in range(1, 13)]


class Starts:
    """The order starter: which orders started, how often each was asked."""

    def __init__(self) -> None:
        self.asked: list[str] = []

    async def order(self, placed: Order) -> bool:
        first = placed.channel_order_id not in self.asked
        self.asked.append(placed.channel_order_id)
        return first

    async def never_return(self, request: ReturnRequest) -> str | None:
        raise AssertionError(f"no return is started here: {request.workflow_id}")


async def _attempts(intake: IntakeActivities, limit: int) -> tuple[ImportOrdersResult, int]:
    """Attempts of one activity execution until one returns, and how many it took."""
    details: list[Any] = []

    def record(*beat: Any) -> None:
        details[:] = list(beat)

    since = ImportOrdersInput(channel=Channel.AMAZON, created_after=NOW - timedelta(days=1))
    for attempt in range(1, limit + 1):
        env = ActivityEnvironment()
        env.info = dataclasses.replace(env.info, attempt=attempt, heartbeat_details=list(details))
        env.on_heartbeat = record
        try:
            return await env.run(intake.import_new_orders, since), attempt
        except ApplicationError as err:
            assert err.type == "PartnerUnavailable", err
    raise AssertionError(f"the backlog did not drain in {limit} attempts")


@pytest.mark.parametrize("fault_rate", [0.3])
async def test_a_backlog_drains_under_item_faults_each_order_started_once(
    time_env: WorkflowEnvironment, tmp_path: Path, fault_rate: float
) -> None:
    rule = EndpointRule(method="GET", path=ITEMS, before={"error_503": fault_rate})
    faults = FaultProfile(name="items", seed=11, endpoints=[rule])
    with serve(create_app(SandboxConfig(faults=faults))) as sandbox:
        async with httpx.AsyncClient(base_url=sandbox) as http:
            for order_id in ORDER_IDS:
                placed = order(channel=Channel.AMAZON, channel_order_id=order_id)
                body = placed.model_dump(mode="json")
                assert (await http.post("/amazon/_sandbox/orders", json=body)).is_success
        settings = Settings(state_dir=tmp_path, **sandbox_urls(sandbox), _env_file=None)
        partners = PartnerClients.from_settings(settings)
        starts = Starts()
        try:
            intake = IntakeActivities(
                time_env.client, partners, settings, starts.order, starts.never_return
            )
            result, attempts = await _attempts(intake, limit=12)
        finally:
            await partners.aclose()
    assert sorted(result.seen) == ORDER_IDS
    # Every order started, once: a retry did not ask for an order it had started.
    assert sorted(starts.asked) == ORDER_IDS
    assert attempts > 1  # the faults did strike
