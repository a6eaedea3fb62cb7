"""Scale-out without Docker: three `python worker.py` processes share one task queue on
one dev server; orders from every channel stream in; one worker is SIGKILLed mid-run.
Every order completes, each side effect exactly once (the sandbox ledgers), the work
was spread over all three workers, and no worker's log holds a buyer's data or a
secret (planted: the buyers' names, e-mails and addresses; the configured keys)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from temporalio.api.enums.v1 import EventType
from temporalio.service import RPCError, RPCStatusCode

from crossdock.chaos.ledgers import PartnerLedger, side_effects
from crossdock.chaos.processes import ChildProcess
from crossdock.cli_replay import TYPES, replay_live
from crossdock.demo import DemoOrders
from crossdock.identity.claims import signer_for
from crossdock.models.order import Channel, Order
from crossdock.models.order_states import OrderState
from crossdock.secrets import sandbox_secrets, stripe_webhook_secret
from tests.integration.crash_fixtures import CODEC_KEYS
from tests.integration.reviewer import reviewer
from tests.integration.test_crash_safety import discrepancies
from tests.production.scale_out_stack import (
    BUYER_KEY,
    PRINCIPAL_KEY,
    ScaleOutStack,
    place_all,
    result_of,
    scale_out_stack,
)
from worker import WORKFLOWS

pytestmark = pytest.mark.integration

ORDERS_PER_CHANNEL = 4
PLACE_EVERY_SECONDS = 0.2
# A killed worker's activities run elsewhere after the 8 s heartbeat timeout, its
# workflow tasks after the 5 s sticky timeout; a loaded machine takes longer.
COMPLETION_TIMEOUT_SECONDS = 90.0


@pytest.fixture
async def stack(tmp_path: Path) -> AsyncIterator[ScaleOutStack]:
    async with scale_out_stack(tmp_path, workers=3) as stack:
        yield stack


@pytest.mark.timeout(120)
async def test_three_workers_complete_every_order_once_when_one_dies(
    stack: ScaleOutStack,
) -> None:
    demo = DemoOrders(seed=15, decline_rate=0.0, review_rate=0.0)
    orders = [demo.next(channel=c) for _ in range(ORDERS_PER_CHANNEL) for c in Channel]
    victim = stack.workers[1]
    async with reviewer(stack.client, signer_for(stack.settings)):
        async with asyncio.timeout(COMPLETION_TIMEOUT_SECONDS), asyncio.TaskGroup() as tasks:
            tasks.create_task(place_all(stack.sandbox, orders, PLACE_EVERY_SECONDS))
            results = [tasks.create_task(result_of(stack.client, o)) for o in orders]
            await kill_once_working(stack, victim, orders)
    assert [r.result().state for r in results] == [OrderState.COMPLETED] * len(orders)

    effects = side_effects(await PartnerLedger.read(stack.sandbox))
    assert discrepancies(effects, orders) == {}
    # Every worker took workflow tasks, the one killed too (before it died).
    identities = await workflow_task_identities(stack, orders)
    assert {w.pid for w in stack.workers} <= {int(i.split("@")[0]) for i in identities}

    assert_logs_are_json_without_buyer_data_or_secrets(stack, orders)
    # What `crossdock replay` checks before a deploy: these live histories replay.
    report = await replay_live(
        stack.client, stack.settings, "WorkflowType = 'OrderWorkflow'", limit=100
    )
    assert (report.replayed, report.failures) == (len(orders), {})


def test_replay_knows_every_workflow_the_worker_runs() -> None:
    assert list(TYPES) == [w.__name__ for w in WORKFLOWS]


async def kill_once_working(
    stack: ScaleOutStack, victim: ChildProcess, orders: list[Order]
) -> None:
    """SIGKILL `victim` as soon as it holds work: one of its workflow tasks shows in an
    order's history (the orders are still streaming in)."""
    mine = f"{victim.pid}@"
    while True:
        identities = await workflow_task_identities(stack, orders)
        if any(identity.startswith(mine) for identity in identities):
            await victim.kill()
            return
        await asyncio.sleep(0.2)


async def workflow_task_identities(stack: ScaleOutStack, orders: list[Order]) -> set[str]:
    identities: set[str] = set()
    for order in orders:
        try:
            history = await stack.client.get_workflow_handle(order.workflow_id).fetch_history()
        except RPCError as err:
            if err.status is RPCStatusCode.NOT_FOUND:
                continue  # not placed (or not imported) yet
            raise
        identities |= {
            e.workflow_task_started_event_attributes.identity
            for e in history.events
            if e.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED
        }
    return identities


def planted(stack: ScaleOutStack, orders: list[Order]) -> set[str]:
    """What must never reach a log: the buyers' data and every secret of the stack."""
    settings = stack.settings
    secrets = {CODEC_KEYS.get_secret_value().split(":", 1)[1], stripe_webhook_secret(settings)}
    secrets |= {PRINCIPAL_KEY.get_secret_value(), BUYER_KEY.get_secret_value()}
    secrets |= set(sandbox_secrets(settings).values())
    buyers = {o.buyer.email for o in orders} | {o.buyer.name for o in orders}
    buyers |= {o.ship_to.line1 for o in orders} | {o.ship_to.name for o in orders}
    return {value for value in secrets | buyers if value and len(value) >= 6}


def assert_logs_are_json_without_buyer_data_or_secrets(
    stack: ScaleOutStack, orders: list[Order]
) -> None:
    forbidden = planted(stack, orders)
    with_ids = 0
    for worker in stack.workers:
        for line in worker.log_path.read_text().splitlines():
            if line.startswith("--- worker incarnation"):
                continue
            record = json.loads(line)  # JSON, every line
            leaked = [value for value in forbidden if value in line]
            assert not leaked, f"{worker.log_path.name}: {leaked} in {line[:300]}"
            # Activities' lines carry `temporal_activity` (crossdock/observability/
            # log_context.py), workflow.logger's `temporal_workflow`.
            activity = record.get("temporal_activity", {})
            workflow = record.get("temporal_workflow", {})
            with_ids += bool(activity.get("activity_id") and activity.get("workflow_run_id"))
            with_ids += bool(workflow.get("workflow_id") and workflow.get("run_id"))
    assert with_ids > 0, "no log line carried Temporal's workflow, run and activity ids"
