"""The profile's fixes side by side: the same stack, storefront orders at saturation,
alternating `python -m bench.worker_before` (as before) and `python worker.py` (now)
as the only Crossdock worker; orders/s and the worker's CPU per order.

    .venv/bin/python -m bench.compare --orders 40 --repeats 3
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
from pathlib import Path

from bench.figures import Figures
from bench.machine import cpu_seconds, load_average
from bench.orders import HappyOrders, run_orders
from bench.report import RESULTS, write
from bench.stack import bench_stack
from bench.throughput import probe
from crossdock.chaos.processes import ChildProcess
from crossdock.models.order import Channel

BEFORE = "before (worker_before)"
AFTER = "after (worker.py)"


async def measure(orders: int, repeats: int, port_base: int, out: Path) -> None:
    figures = Figures()
    start_load = load_average()
    with tempfile.TemporaryDirectory(prefix="crossdock-compare-") as tmp:
        async with bench_stack(port_base, Path(tmp)) as stack:
            after = stack.worker
            before = ChildProcess(
                "worker-before",
                [sys.executable, "-m", "bench.worker_before"],
                after.env,
                Path(tmp) / "worker-before.log",
                ready_marker=b"worker_started",
            )
            happy = HappyOrders(seed=88)
            await probe(stack, happy)
            await after.stop()
            for turn in range(repeats):
                pair = [(BEFORE, before), (AFTER, after)]
                for name, worker in pair if turn % 2 == 0 else pair[::-1]:
                    await worker.start()
                    await worker.wait_ready()
                    cpu = cpu_seconds(worker.pid)
                    batch = happy.batch(orders, [Channel.STOREFRONT])
                    seconds, _ = await run_orders(stack, batch)
                    used = cpu_seconds(worker.pid) - cpu
                    await worker.stop()
                    base = "" if name == BEFORE else f"{BEFORE} orders/s"
                    figures.add(f"{name} orders/s", orders / seconds, "orders/s", baseline=base)
                    base = "" if name == BEFORE else f"{BEFORE} worker CPU/order"
                    figures.add(
                        f"{name} worker CPU/order", used / orders * 1000, "ms", baseline=base
                    )
            await after.start()  # the stack stops it
            await after.wait_ready()
    run = {
        "title": f"Profile fixes side by side: {orders} storefront orders x {repeats} each",
        "load_average": {"start": start_load, "end": load_average()},
    }
    write(figures, run, out)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=40)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--port-base", type=int, default=9200)
    parser.add_argument("--output", type=Path, default=RESULTS.with_name("compare.json"))
    args = parser.parse_args()
    asyncio.run(measure(args.orders, args.repeats, args.port_base, args.output))
