"""Orders per second with 1 and with 3 worker processes, side by side: the whole product
(dev server, sandbox, intake, N x `python worker.py`) on this machine, the same orders
from all channels placed as fast as intake takes them, timed from the first placed to
the last completed.

    .venv/bin/python -m bench.scale_out --orders 60 --workers 1 3

Prints a table and writes bench/results/scale_out.json. Every process shares this
machine's cores, so more workers only help while the workers, not the dev server or
the sandbox, are the bottleneck: quote the figures with the machine's core count.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from rich.console import Console
from rich.table import Table

from crossdock.demo import DemoOrders
from crossdock.identity.claims import signer_for
from crossdock.models.order import Channel
from tests.integration.reviewer import reviewer
from tests.production.scale_out_stack import run_orders, scale_out_stack

RESULTS = Path(__file__).parent / "results" / "scale_out.json"


async def measure(workers: int, orders: int, seed: int) -> dict[str, float]:
    demo = DemoOrders(seed=seed, decline_rate=0.0, review_rate=0.0)
    channels = list(Channel)
    batch = [demo.next(channel=channels[i % len(channels)]) for i in range(orders)]
    with tempfile.TemporaryDirectory(prefix=f"bench-scale-{workers}-") as directory:
        # INFO: readiness is read from the worker's `worker_started` line.
        async with scale_out_stack(Path(directory), workers) as stack:
            async with reviewer(stack.client, signer_for(stack.settings)):
                seconds = await run_orders(stack, batch, every=0.0)
    return {
        "workers": workers,
        "orders": orders,
        "seconds": round(seconds, 2),
        "orders_per_second": round(orders / seconds, 2),
    }


async def main(orders: int, workers: list[int], seed: int) -> None:
    rows = [await measure(n, orders, seed) for n in workers]
    load = os.getloadavg()[0]  # other work on the machine changes every figure
    table = Table(title=f"{orders} orders, {os.cpu_count()} cores, load {load:.1f}")
    for column in ("workers", "seconds", "orders/s"):
        table.add_column(column, justify="right")
    for row in rows:
        table.add_row(str(row["workers"]), str(row["seconds"]), str(row["orders_per_second"]))
    Console().print(table)
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(
        json.dumps(
            {
                "at": datetime.now(UTC).isoformat(),
                "cores": os.cpu_count(),
                "load_average": load,
                "python": platform.python_version(),
                "runs": rows,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=60)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 3])
    parser.add_argument("--seed", type=int, default=31)
    args = parser.parse_args()
    asyncio.run(main(args.orders, args.workers, args.seed))
