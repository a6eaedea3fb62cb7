"""Happy-path orders for the benchmarks, and running them (or the baseline) to the end.

A happy-path order: one line, quantity one, a SKU the warehouse stocks plenty of, a card
that pays, a buyer screening passes, so every order takes the same path and its history
has the same shape.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Awaitable, Callable, Iterable
from pathlib import Path
from typing import Any, TypeVar

from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from bench.baseline import BASELINE_QUEUE, Shape, ShapeWorkflow
from bench.stack import BenchStack
from crossdock.demo import DemoOrders, place
from crossdock.models.order import Channel, Order
from crossdock.models.order_steps import OrderResult

T = TypeVar("T")
STOCK = json.loads(
    (Path(__file__).parents[1] / "crossdock" / "data" / "warehouse_stock.json").read_text()
)
SHORT_SKUS = frozenset(STOCK["skus"])
# Concurrent placements and starts: enough to saturate the worker, few enough not to
# time out the sandbox's own HTTP server.
PLACING = 32


class HappyOrders:
    """A seeded stream of happy-path orders, ids unique across streams of one run."""

    def __init__(self, seed: int) -> None:
        self.demo = DemoOrders(seed=seed, decline_rate=0.0, review_rate=0.0)

    def next(self, channel: Channel) -> Order:
        while True:
            order = self.demo.next(channel=channel)
            line = order.items[0]
            if line.sku not in SHORT_SKUS:
                return order.model_copy(update={"items": [line.model_copy(update={"quantity": 1})]})

    def batch(self, n: int, channels: Iterable[Channel]) -> list[Order]:
        cycle = list(channels)
        return [self.next(cycle[i % len(cycle)]) for i in range(n)]


async def bounded(n: int, jobs: Iterable[Callable[[], Awaitable[T]]]) -> list[T]:
    """Run the jobs at most `n` at a time; their results in order."""
    gate = asyncio.Semaphore(n)

    async def one(job: Callable[[], Awaitable[T]]) -> T:
        async with gate:
            return await job()

    return await asyncio.gather(*(one(job) for job in jobs))


async def result_of(client: Client, order: Order, within: float = 300) -> OrderResult:
    """The order's result once its workflow exists (marketplace orders wait for a poll)."""
    handle = client.get_workflow_handle(order.workflow_id, result_type=OrderResult)
    deadline = time.monotonic() + within
    while True:
        try:
            await handle.describe()
            break
        except RPCError as err:
            if err.status is not RPCStatusCode.NOT_FOUND or time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.2)
    result: OrderResult = await asyncio.wait_for(handle.result(), within)
    return result


async def run_orders(stack: BenchStack, orders: list[Order]) -> tuple[float, list[OrderResult]]:
    """Place `orders` as buyers would and wait for all; seconds from first placed to last
    done, and the results."""
    began = time.perf_counter()
    waiting = [asyncio.create_task(result_of(stack.client, o)) for o in orders]
    await bounded(PLACING, [lambda o=o: place(stack.sandbox, o) for o in orders])  # type: ignore[misc]
    results = await asyncio.gather(*waiting)
    return time.perf_counter() - began, list(results)


async def run_shape(client: Client, shape: Shape, signal_every: float) -> str:
    """One baseline workflow: started, its signals `signal_every` seconds apart and its
    updates sent, its result awaited; the workflow id."""
    workflow_id = f"bench-shape-{uuid.uuid4().hex[:12]}"
    handle = await client.start_workflow(
        ShapeWorkflow.run, shape, id=workflow_id, task_queue=BASELINE_QUEUE
    )
    for _ in range(shape.signals):
        await asyncio.sleep(signal_every)
        await handle.signal(ShapeWorkflow.signal)
    for _ in range(shape.updates):
        await handle.execute_update(ShapeWorkflow.update)
    await handle.result()
    return workflow_id


async def run_shapes(
    client: Client, shape: Shape, n: int, signal_every: float
) -> tuple[float, list[str]]:
    """`n` baseline workflows at once; seconds from first started to last done."""
    began = time.perf_counter()
    ids = await asyncio.gather(*(run_shape(client, shape, signal_every) for _ in range(n)))
    return time.perf_counter() - began, list(ids)


async def history_events(client: Client, workflow_id: str) -> list[dict[str, Any]]:
    """A workflow's history as JSON events (payloads left encoded)."""
    history = await client.get_workflow_handle(workflow_id).fetch_history()
    events: list[dict[str, Any]] = history.to_json_dict()["events"]
    return events
