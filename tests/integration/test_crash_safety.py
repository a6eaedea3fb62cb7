"""Crash safety (issue 3, item 8): SIGKILL the worker process while orders are in flight,
restart it, and every order still completes with each side effect exactly once.

The worker is `python worker.py` in its own process. It is killed four times while
orders from all three channels stream in: once while the payment provider has
authorized a storefront order but the worker has not received the answer yet (the
sandbox holds that answer for a moment, see `HeldAnswers`), once aiming at a capture
the same way, and twice at random moments. Each time a fresh worker takes over: it
has no sticky cache, so it rebuilds every workflow it touches by replaying history,
and activities the dead worker had started are re-run by Temporal once their
start-to-close timeout (30 s, workflows/options.py) expires, with the same
idempotency keys. The sandbox ledgers must then show one authorization, one capture
(of the amount the workflow says is due), one declaration, one label and one
shipment confirmation per order.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import structlog
from temporalio.api.enums.v1 import EventType, WorkflowTaskFailedCause
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from crossdock.chaos.ledgers import PartnerLedger, ledger, side_effects
from crossdock.demo import DemoOrders, place
from crossdock.identity.claims import signer_for
from crossdock.models.order import Channel, Order
from crossdock.models.order_states import OrderState
from crossdock.models.order_steps import OrderResult
from tests.integration.crash_fixtures import CrashStack, crash_stack
from tests.integration.reviewer import reviewer
from workflows.order import OrderWorkflow

log = structlog.get_logger(__name__)

pytestmark = pytest.mark.integration

ORDERS_PER_CHANNEL = 8
# Orders arrive over ~12 s, so every kill finds some just placed and some half done.
PLACE_EVERY_SECONDS = 0.5
# What each kill waits for: held answers of these kinds (a payment call the provider has
# executed and the worker has not heard back from), or, if empty, a random 1 to 3 s.
KILLS: list[frozenset[str]] = [
    frozenset({"authorization"}),
    frozenset(),
    frozenset({"capture"}),
    frozenset(),
]
# How long an aimed kill waits for its moment before killing anyway.
AIM_TIMEOUT_SECONDS = 10.0
# Recovery takes the 30 s start-to-close timeout of the activities the kills
# interrupted, plus up to 10 s of workflow-task timeouts: this leaves room for a slow
# machine without letting a hang pass unnoticed.
COMPLETION_TIMEOUT_SECONDS = 150.0
# A signal (tracking event) arriving while a workflow task completes is answered
# by the server with this "failure" and a fresh task: normal, not a bug.
BENIGN_TASK_FAILURES = {WorkflowTaskFailedCause.WORKFLOW_TASK_FAILED_CAUSE_UNHANDLED_COMMAND}


@dataclass(frozen=True)
class Kill:
    at: float  # seconds since the first order was placed
    incarnation: int
    aimed_at: frozenset[str]
    # Payment answers the provider had produced and the worker had not received when it
    # died: side effects the worker could not know about.
    held: dict[str, int]


@dataclass
class Recovery:
    """What the histories show of the kills (Temporal's side of the story)."""

    # Activity type → activities whose final attempt followed a timed-out one: the
    # attempt the dead worker never finished.
    rerun_after_timeout: Counter[str] = field(default_factory=Counter)
    workflow_task_timeouts: int = 0
    # Workflows whose tasks ran on more than one worker process: each new process had
    # no cached state and rebuilt it by replaying the history.
    replayed_elsewhere: int = 0
    task_failures: list[str] = field(default_factory=list)


@pytest.fixture
async def crash(tmp_path: Path) -> AsyncIterator[CrashStack]:
    """The product with its worker as a child process; the worker log in `tmp_path`."""
    async with crash_stack(tmp_path) as stack:
        yield stack


@pytest.mark.timeout(300)
async def test_sigkilled_workers_leave_every_order_complete_and_charged_once(
    crash: CrashStack, record_property: Callable[[str, object], None]
) -> None:
    begun = time.monotonic()
    demo = DemoOrders(seed=8, decline_rate=0.0, review_rate=0.0)
    # Channels interleaved, so storefront payments are under way throughout the kills.
    orders = [demo.next(channel=c) for _ in range(ORDERS_PER_CHANNEL) for c in Channel]

    async with asyncio.TaskGroup() as tasks:
        tasks.create_task(place_all(crash.sandbox, orders))
        killing = tasks.create_task(kill_repeatedly(crash, begun, random.Random(3)))
    kills = killing.result()

    async with reviewer(crash.client, signer_for(crash.settings)):  # a knife to GB waits in review
        results = await wait_for_all(crash, orders)
    recovery = await recovery_from_histories(crash.client, [o.workflow_id for o in orders])
    effects = side_effects(await PartnerLedger.read(crash.sandbox))
    duplicates = sum(
        n - 1
        for kind, counts in effects.items()
        if kind not in ("label", "confirmation")  # several packages: counted per key
        for n in counts.values()
        if n > 1
    )

    summary: dict[str, Any] = {
        "orders": len(orders),
        "orders_per_channel": ORDERS_PER_CHANNEL,
        "kills": len(kills),
        "kills_with_payment_answer_in_flight": sum(1 for k in kills if k.held),
        "held_at_kills": [k.held for k in kills],
        "duplicates": duplicates,
        "activities_rerun_after_kill": dict(recovery.rerun_after_timeout),
        "workflows_replayed_on_another_worker": recovery.replayed_elsewhere,
        "workflow_task_timeouts": recovery.workflow_task_timeouts,
        "seconds": round(time.monotonic() - begun, 1),
        "worker_log": str(crash.worker.log_path),
    }
    log.info("crash_safety_summary", **summary)
    for name, value in summary.items():
        record_property(f"crash_safety_{name}", value)

    # The premises: the kills really hit work in flight, payments included.
    assert len(kills) >= 3
    assert any(k.held.get("authorization") for k in kills), kills
    assert recovery.rerun_after_timeout["authorize_payment"] >= 1, recovery
    assert recovery.replayed_elsewhere >= 1, recovery
    # The outcome: everything finished, nothing twice, nothing missing.
    assert [r.state for r in results] == [OrderState.COMPLETED] * len(orders)
    assert recovery.task_failures == []
    assert discrepancies(effects, orders) == {}
    assert duplicates == 0
    await assert_captured_what_was_due(crash, orders, results)


# -- driving ---------------------------------------------------------------------------


async def place_all(http: httpx.AsyncClient, orders: list[Order]) -> None:
    """Place the orders one by one, as buyers would, retrying the sandbox's 503s."""
    for order in orders:
        for _ in range(50):
            try:
                await place(http, order)
                break
            except httpx.HTTPStatusError as err:
                # A simulated outage refuses the checkout before it runs: try again.
                if err.response.status_code != 503:
                    raise
                await asyncio.sleep(0.1)
        else:
            raise AssertionError(f"could not place {order.workflow_id}")
        await asyncio.sleep(PLACE_EVERY_SECONDS)


async def kill_repeatedly(stack: CrashStack, begun: float, rng: random.Random) -> list[Kill]:
    """SIGKILL the worker once per entry of `KILLS`, starting a new one each time."""
    kills = []
    for aim in KILLS:
        # Kill a worker that is up and working, not one still importing.
        await stack.worker.wait_ready()
        if aim:
            try:
                async with asyncio.timeout(AIM_TIMEOUT_SECONDS):
                    await stack.held.wait_held(aim)
            except TimeoutError:
                log.info("kill_aim_missed", aimed_at=sorted(aim))
        else:
            await asyncio.sleep(rng.uniform(1.0, 3.0))
        # Read just before the signal: each answer is held for 0.5 s, the kill takes
        # microseconds, so an answer held now is never received by this worker.
        held = stack.held.held()
        incarnation = stack.worker.incarnation
        await stack.worker.kill()
        kill = Kill(round(time.monotonic() - begun, 2), incarnation, aim, held)
        log.info("kill", at=kill.at, incarnation=incarnation, aimed_at=sorted(aim), held=held)
        kills.append(kill)
        await stack.worker.start()
    await stack.worker.wait_ready()
    return kills


# -- waiting ---------------------------------------------------------------------------


async def wait_for_all(stack: CrashStack, orders: list[Order]) -> list[OrderResult]:
    try:
        return await asyncio.wait_for(
            asyncio.gather(*(result_of(stack.client, o) for o in orders)),
            timeout=COMPLETION_TIMEOUT_SECONDS,
        )
    except TimeoutError:
        states = [await state_of(stack.client, o) for o in orders]
        unfinished = [s for s in states if not s.endswith(OrderState.COMPLETED.value)]
        raise AssertionError(
            f"{len(unfinished)} orders unfinished after {COMPLETION_TIMEOUT_SECONDS}s: "
            f"{unfinished}\nworker log:\n{stack.worker.tail()}"
        ) from None


async def result_of(client: Client, order: Order) -> OrderResult:
    """The order's result, once its workflow has been started (marketplace orders wait
    for a poller, which may itself be recovering from a kill) and has finished."""
    handle = client.get_workflow_handle(order.workflow_id, result_type=OrderResult)
    while True:
        try:
            await handle.describe()
            break
        except RPCError as err:
            if err.status is not RPCStatusCode.NOT_FOUND:
                raise
            await asyncio.sleep(0.25)
    result: OrderResult = await handle.result()
    return result


async def state_of(client: Client, order: Order) -> str:
    handle = client.get_workflow_handle(order.workflow_id, result_type=OrderResult)
    try:
        status = await handle.query(OrderWorkflow.status)
    except RPCError as err:
        return f"{order.workflow_id}: {err.status.name}"
    return f"{order.workflow_id}: {status.state.value}"


# -- evidence --------------------------------------------------------------------------


def discrepancies(effects: dict[str, Counter[str]], orders: list[Order]) -> dict[str, Any]:
    """Per kind, the orders whose side effect did not happen as often as it must (and
    effects for no order of ours): empty when all is well, readable when not."""
    storefront = {o.workflow_id for o in orders if o.channel is Channel.STOREFRONT}
    every = {o.workflow_id for o in orders}
    once_for = {
        "authorization": storefront,
        "capture": storefront,
        "declaration": every,
        "reservation": every,
    }
    found: dict[str, Any] = {}
    for kind, expected in once_for.items():
        counts = effects[kind]
        wrong = {
            workflow_id: counts[workflow_id]
            for workflow_id in expected | counts.keys()
            if counts[workflow_id] != (1 if workflow_id in expected else 0)
        }
        if wrong:
            found[kind] = wrong
    for kind in ("label", "confirmation"):
        counts = effects[kind]
        missing = {w: 0 for w in every if counts[w] == 0}
        strangers = {w: n for w, n in counts.items() if w not in every}
        twice = {key: n for key, n in effects[f"{kind}-keys"].items() if n != 1}
        if missing or strangers or twice:
            found[kind] = missing | strangers | twice
    return found


async def assert_captured_what_was_due(
    stack: CrashStack, orders: list[Order], results: list[OrderResult]
) -> None:
    captures = {e["reference"]: e for e in await ledger(stack.sandbox, "stripe", "capture")}
    for order, result in zip(orders, results, strict=True):
        if order.channel is not Channel.STOREFRONT:
            continue
        handle = stack.client.get_workflow_handle(order.workflow_id, result_type=OrderResult)
        status = await handle.query(OrderWorkflow.status)
        assert status.authorization is not None and status.amount_due is not None
        capture = captures[status.authorization.intent_id]
        due = status.amount_due
        assert (capture["amount"], capture["currency"]) == (due.amount, due.currency), order
        assert result.captured == due, order


async def recovery_from_histories(client: Client, workflow_ids: list[str]) -> Recovery:
    recovery = Recovery()
    for workflow_id in workflow_ids:
        history = await client.get_workflow_handle(workflow_id).fetch_history()
        activity_types: dict[int, str] = {}
        workers: set[str] = set()
        for event in history.events:
            if event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
                attributes = event.activity_task_scheduled_event_attributes
                activity_types[event.event_id] = attributes.activity_type.name
            elif event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED:
                started = event.activity_task_started_event_attributes
                if started.last_failure.HasField("timeout_failure_info"):
                    recovery.rerun_after_timeout[activity_types[started.scheduled_event_id]] += 1
            elif event.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED:
                workers.add(event.workflow_task_started_event_attributes.identity)
            elif event.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT:
                recovery.workflow_task_timeouts += 1
            elif event.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED:
                cause = event.workflow_task_failed_event_attributes.cause
                if cause not in BENIGN_TASK_FAILURES:
                    name = WorkflowTaskFailedCause.Name(cause)
                    recovery.task_failures.append(f"{workflow_id}: {name}")
        recovery.replayed_elsewhere += len(workers) > 1
    return recovery
