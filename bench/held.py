"""Intake, open orders held, and reads, on a stack whose carrier never moves on its own:
marketplace orders come in through the pollers' paged responses, storefront orders
through checkout, and all wait in transit until the bench sends each a tracking event.

- Intake: starts/s from the sandbox's pages to started workflows (exactly once each),
  against raw `start_workflow` of baseline workflows from this process.
- Held: the worker's RSS with every order waiting and the sticky cache sized to hold
  them all, the dev server's SQLite file, then one tracking event each: signals/s and
  the time until all have completed.
- Reads: the audit timeline of an order grown to about 200 events, a list page.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime
from typing import Any

import httpx
from temporalio.client import Client, WorkflowHandle
from temporalio.service import RPCError

from bench.baseline import BASELINE_QUEUE, TIMER, Shape, ShapeWorkflow, Step
from bench.figures import Figures, percentile
from bench.machine import rss_mib
from bench.operator import operator_token
from bench.orders import PLACING, HappyOrders, bounded
from bench.stack import BenchStack
from crossdock.demo import place
from crossdock.models.order import Channel, Order
from crossdock.models.order_status import OrderStatus
from crossdock.models.order_steps import OrderResult, TrackingUpdate
from workflows.order import OrderWorkflow

WAITING = ("shipment_confirmed", "payment_captured", "in_transit")
ORDERS = "WorkflowType = 'OrderWorkflow'"


async def count(client: Client, query: str) -> int:
    return (await client.count_workflows(query)).count


async def wait_count(client: Client, query: str, n: int, within: float) -> float:
    """Seconds until `query` counts at least `n` workflows."""
    began = time.perf_counter()
    while await count(client, query) < n:
        if time.perf_counter() - began > within:
            raise RuntimeError(f"fewer than {n} workflows match {query!r} after {within}s")
        await asyncio.sleep(0.2)
    return time.perf_counter() - began


async def intake(stack: BenchStack, orders: list[Order], figures: Figures) -> dict[str, Any]:
    """Marketplace orders placed on the sandbox → started by the pollers, once each."""
    began = time.perf_counter()
    await bounded(PLACING, [lambda o=o: place(stack.sandbox, o) for o in orders])  # type: ignore[misc]
    placed = time.perf_counter() - began
    await wait_count(stack.client, ORDERS, len(orders), within=600)
    seconds = time.perf_counter() - began
    # Pages overlap (a poll re-reads the last window): give duplicates time to show.
    await asyncio.sleep(3 * stack.settings.poll_interval_seconds)
    started = await count(stack.client, ORDERS)
    raw = await raw_starts(stack.plain, len(orders))
    figures.add("raw start_workflow starts/s", raw, "starts/s")
    figures.add(
        "intake starts/s (paged SP-API and eBay, exactly once)",
        len(orders) / seconds,
        "starts/s",
        baseline="raw start_workflow starts/s",
    )
    return {
        "orders": len(orders),
        "workflows_started": started,
        "exactly_once": started == len(orders),
        "placing_seconds": round(placed, 2),
    }


async def raw_starts(client: Client, n: int) -> float:
    """Starts/s of `n` baseline workflows (one long timer each) from this process."""
    shape = Shape([Step(TIMER, 3600.0)])
    stamp = datetime.now(UTC).strftime("%H%M%S%f")
    began = time.perf_counter()
    await bounded(
        PLACING,
        [
            lambda i=i: client.start_workflow(  # type: ignore[misc]
                ShapeWorkflow.run, shape, id=f"bench-raw-{stamp}-{i}", task_queue=BASELINE_QUEUE
            )
            for i in range(n)
        ],
    )
    return n / (time.perf_counter() - began)


async def status(client: Client, order: Order) -> OrderStatus | None:
    """The order's status; None while its workflow is not started yet, or while a loaded
    worker lets the query time out (the caller asks again, within its own deadline)."""
    handle: WorkflowHandle[OrderWorkflow, OrderResult] = client.get_workflow_handle_for(
        OrderWorkflow.run, order.workflow_id
    )
    try:
        result: OrderStatus = await handle.query(OrderWorkflow.status)
    except RPCError:
        return None
    return result


async def all_waiting(client: Client, orders: list[Order], within: float) -> list[str]:
    """Once every order waits in transit with a label: their tracking codes."""
    deadline = time.monotonic() + within
    while True:
        found = await bounded(PLACING, [lambda o=o: status(client, o) for o in orders])  # type: ignore[misc]
        ready = [s.label.tracking_code for s in found if s and s.label and s.state in WAITING]
        if len(ready) == len(orders):
            return ready
        if time.monotonic() > deadline:
            states = sorted({str(s.state) if s else "not started" for s in found})
            raise RuntimeError(f"{len(ready)}/{len(orders)} waiting in transit; states {states}")
        await asyncio.sleep(1.0)


def tracking(code: str, n: int, status_: str) -> TrackingUpdate:
    return TrackingUpdate(
        event_id=f"bench-{code}-{n}",
        tracking_code=code,
        status=status_,
        occurred_at=datetime.now(UTC),
    )


async def held(
    stack: BenchStack, orders: list[Order], figures: Figures, codes: list[str]
) -> dict[str, Any]:
    """RSS and SQLite size with `orders` open; one tracking event each; time to drain."""
    rss = rss_mib(stack.worker.pid)
    sqlite = sum(p.stat().st_size for p in stack.database.parent.glob("temporal.db*"))
    figures.add("worker RSS with orders held", rss, "MiB", target="<= 1024 MiB at 10,000")
    figures.add("dev server SQLite size with orders held", sqlite / 2**20, "MiB")
    began = time.perf_counter()
    await bounded(
        64,
        [
            lambda o=o, c=c: stack.client.get_workflow_handle(o.workflow_id).signal(  # type: ignore[misc]
                OrderWorkflow.tracking_update, tracking(c, 0, "delivered")
            )
            for o, c in zip(orders, codes, strict=True)
        ],
    )
    signalled = time.perf_counter() - began
    figures.add("tracking signals/s to held orders", len(orders) / signalled, "signals/s")
    done = f"{ORDERS} AND ExecutionStatus = 'Completed'"
    await wait_count(stack.client, done, len(orders), within=900)
    drained = time.perf_counter() - began
    figures.add("minutes to drain held orders", drained / 60, "min")
    return {
        "held": len(orders),
        "completed": await count(stack.client, done),
        "rss_after_drain_mib": round(rss_mib(stack.worker.pid), 1),
    }


async def reads(
    stack: BenchStack, order: Order, code: str, figures: Figures, repeats: int = 20
) -> dict[str, Any]:
    """Grow one held order to ~200 history events; time its audit timeline and a list page."""
    handle = stack.client.get_workflow_handle(order.workflow_id)
    for n in range(1, 200):
        if (await handle.describe()).history_length >= 200:
            break
        await handle.signal(OrderWorkflow.tracking_update, tracking(code, n, "in_transit"))
    length = (await handle.describe()).history_length
    headers = {"Authorization": f"Bearer {operator_token(stack, 'bench-reader')}"}
    async with httpx.AsyncClient(
        base_url=stack.settings.intake_url, headers=headers, timeout=30
    ) as api:
        audit = await timed(api, f"/api/audit/{order.workflow_id}", repeats)
        listing = await timed(api, "/api/orders", repeats)
    figures.add("audit timeline p50", percentile(audit, 50), "ms", target="<= 50 ms")
    figures.add("audit timeline p99", percentile(audit, 99), "ms")
    figures.add("order list page p50", percentile(listing, 50), "ms")
    return {"audit_history_events": length}


async def timed(api: httpx.AsyncClient, path: str, repeats: int) -> list[float]:
    times = []
    for _ in range(repeats):
        began = time.perf_counter()
        answer = await api.get(path)
        times.append((time.perf_counter() - began) * 1000)
        answer.raise_for_status()
    return times


async def held_scenarios(
    stack: BenchStack, n_intake: int, n_held: int, figures: Figures
) -> dict[str, Any]:
    """Intake, reads and held, in that order, on one stack."""
    orders = HappyOrders(seed=7)
    marketplace = orders.batch(n_intake, [Channel.AMAZON, Channel.EBAY])
    about: dict[str, Any] = {"intake": await intake(stack, marketplace, figures)}
    storefront = orders.batch(max(0, n_held - n_intake), [Channel.STOREFRONT])
    await bounded(PLACING, [lambda o=o: place(stack.sandbox, o) for o in storefront])  # type: ignore[misc]
    every = marketplace + storefront
    codes = await all_waiting(stack.client, every, within=900)
    about["reads"] = await reads(stack, every[0], codes[0], figures)
    about["held"] = await held(stack, every, figures, codes)
    return about
