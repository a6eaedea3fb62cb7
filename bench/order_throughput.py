"""How many orders per second one worker process completes, and what the sandbox
passthrough is worth: the order workflow run to completion on a real dev server with
in-process stand-in partners (no HTTP), once with Crossdock's sandbox runner (our modules
passed through) and once with the SDK's default runner, side by side in one run.

    make bench            # or: .venv/bin/python -m bench.order_throughput --orders 200

Prints a table and writes bench/results/order_throughput.json. The figures are for this
machine at this moment: quote the ratio, not the absolute rates.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import platform
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from rich.console import Console
from rich.table import Table
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker, WorkflowRunner
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner

from crossdock.binaries import installed_binary
from crossdock.models.order import Order
from crossdock.models.order_steps import OrderInput, OrderPolicy, TrackingUpdate
from crossdock.workflow_sandbox import RUNNER
from tests.factories import WAREHOUSE, order
from tests.workflows.stand_ins import Partners
from workflows.order import OrderWorkflow
from workflows.search import ALL as SEARCH_ATTRIBUTES

RESULTS = Path(__file__).parent / "results" / "order_throughput.json"
RUNNERS: dict[str, WorkflowRunner] = {
    "crossdock (passthrough)": RUNNER,
    "SDK default sandbox": SandboxedWorkflowRunner(),
}
POLICY = OrderPolicy(return_window_seconds=0.01, ship_from=WAREHOUSE)


def orders(n: int, tag: str) -> list[Order]:
    now = datetime.now(UTC)
    return [
        order(
            channel_order_id=f"B{tag}{i:05d}",
            placed_at=now,
            ship_by=now + timedelta(days=2),
            deliver_by=now + timedelta(days=10),
        )
        for i in range(n)
    ]


def delivered(step: int, status: str) -> TrackingUpdate:
    # Sent before the label exists: the workflow keeps the parcel's progress until then.
    return TrackingUpdate(
        event_id=f"evt_{step}", tracking_code="-", status=status, occurred_at=datetime.now(UTC)
    )


async def run_one(client: Client, task_queue: str, o: Order) -> int:
    handle = await client.start_workflow(
        OrderWorkflow.run,
        OrderInput(order=o, policy=POLICY),
        id=o.workflow_id,
        task_queue=task_queue,
    )
    for step, status in enumerate(("in_transit", "delivered")):
        await handle.signal(OrderWorkflow.tracking_update, delivered(step, status))
    await handle.result()
    return (await handle.describe()).history_length


async def measure(env: WorkflowEnvironment, runner: WorkflowRunner, n: int) -> dict[str, float]:
    task_queue = f"bench-{uuid.uuid4().hex[:8]}"
    partners = Partners()
    async with Worker(
        env.client,
        task_queue=task_queue,
        workflows=[OrderWorkflow],
        activities=partners.activities(),
        workflow_runner=runner,
        max_concurrent_workflow_tasks=50,
    ):
        batch = orders(n, uuid.uuid4().hex[:6])
        began = time.perf_counter()
        events = await asyncio.gather(*(run_one(env.client, task_queue, o) for o in batch))
        seconds = time.perf_counter() - began
    return {
        "orders": n,
        "seconds": round(seconds, 2),
        "orders_per_second": round(n / seconds, 2),
        "history_events_per_order": sorted(events)[len(events) // 2],
        "activities_per_order": round(len(partners.calls) / n, 1),
    }


async def main(n: int, rounds: int) -> None:
    env = await WorkflowEnvironment.start_local(
        data_converter=pydantic_data_converter,
        dev_server_existing_path=installed_binary("temporal"),
        search_attributes=SEARCH_ATTRIBUTES,
    )
    results: dict[str, list[dict[str, float]]] = {name: [] for name in RUNNERS}
    try:
        await measure(env, RUNNER, 10)  # warm-up
        for round_ in range(rounds):  # alternated, so both see the same machine
            turns = list(RUNNERS.items())
            for name, runner in turns[::-1] if round_ % 2 else turns:
                results[name].append(await measure(env, runner, n))
    finally:
        await env.shutdown()
    report(results, n, rounds)


def report(results: dict[str, list[dict[str, float]]], n: int, rounds: int) -> None:
    best = {name: max(r["orders_per_second"] for r in rs) for name, rs in results.items()}
    base = best["SDK default sandbox"]
    table = Table(title=f"Order workflow to completion: {n} concurrent orders, best of {rounds}")
    for column in ("runner", "orders/s", "ratio", "history events/order", "activities/order"):
        table.add_column(column, justify="right" if column != "runner" else "left")
    for name, rs in results.items():
        r = rs[0]
        table.add_row(
            name,
            f"{best[name]:.1f}",
            f"{best[name] / base:.2f}x",
            str(r["history_events_per_order"]),
            str(r["activities_per_order"]),
        )
    Console().print(table)
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(
        json.dumps(
            {
                "when": datetime.now(UTC).isoformat(),
                "machine": platform.platform(),
                "orders": n,
                "rounds": rounds,
                "best_orders_per_second": best,
                "runs": results,
            },
            indent=2,
        )
    )
    print(f"written to {RESULTS}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=4)
    args = parser.parse_args()
    asyncio.run(main(args.orders, args.rounds))
