"""`make bench`: Crossdock against a same-shape Temporal baseline, in one run.

    .venv/bin/python -m bench            # 13 minutes on 2 shared cores (load 4-10)
    .venv/bin/python -m bench --quick    # a smoke run, under a minute

Starts the stack (bench/stack.py) on its own ports, reads a real happy-path order's
history, runs the baseline with exactly its shape and the scenarios, alternated, and
prints every figure with its median, spread and ratio to the baseline; writes
bench/results/latest.json. Figures belong to this machine at this moment (its load
average is recorded at start and end): quote ratios, not absolute rates.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from collections.abc import Coroutine
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import structlog

import bench.readmodel_reads
from bench.figures import Figures
from bench.held import held_scenarios
from bench.machine import load_average, machine
from bench.operator import operator_round_trip
from bench.orders import HappyOrders
from bench.report import RESULTS, write
from bench.stack import bench_stack
from bench.throughput import cost, probe, throughput_round

log = structlog.get_logger(__name__)


def arguments(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny counts, one repeat")
    parser.add_argument("--orders", type=int, default=30, help="workflows per throughput run")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--waiting", type=int, default=50, help="orders in review")
    parser.add_argument("--held", type=int, default=200, help="open orders held")
    parser.add_argument("--intake", type=int, default=100, help="marketplace orders taken in")
    parser.add_argument(
        "--readmodel-orders",
        type=int,
        default=10_000,
        help="read-model rows seeded",
    )
    parser.add_argument("--port-base", type=int, default=9200)
    parser.add_argument("--state-dir", type=Path, default=None)
    parser.add_argument("--results", type=Path, default=RESULTS)
    parser.add_argument("--skip", nargs="*", default=[], choices=["operator", "held"])
    args = parser.parse_args(argv)
    if args.quick:
        args.orders, args.repeats, args.waiting = 4, 1, 3
        args.held, args.intake, args.readmodel_orders = 6, 4, 500
    return args


async def main_stack(args: argparse.Namespace, state: Path, figures: Figures) -> dict[str, Any]:
    """Cost, throughput (alternated repeats) and the operator, on the flowing stack."""
    about: dict[str, Any] = {}
    async with bench_stack(args.port_base, state / "main") as stack:
        orders = HappyOrders(seed=16)
        found = await probe(stack, orders)
        about["cost"] = await cost(stack, found, figures)
        for turn in range(args.repeats):
            await throughput_round(stack, orders, found.shape, args.orders, turn, figures)
        if "operator" not in args.skip:
            about["operator"] = await operator_round_trip(
                stack, orders, args.waiting, args.orders, figures
            )
        await readmodel_reads(args.readmodel_orders, figures, about)
        about["worker_rss_mib"] = stack_rss(stack.worker.pid)
    return about


async def readmodel_reads(orders: int, figures: Figures, about: dict[str, Any]) -> None:
    """The read model's list, search, KPI and export reads over `orders` seeded rows
    (bench/readmodel_reads.py), on a database of their own."""
    found = await asyncio.to_thread(bench.readmodel_reads.run, orders)
    for name, milliseconds in found["milliseconds"].items():
        figures.add(f"read model: {name} ({orders} orders)", milliseconds, "ms")
    about["readmodel"] = found


def stack_rss(pid: int) -> float:
    from bench.machine import rss_mib

    return round(rss_mib(pid), 1)


async def held_stack(args: argparse.Namespace, state: Path, figures: Figures) -> dict[str, Any]:
    """Intake, reads and open orders held, on a stack whose parcels wait for the bench."""
    overrides = {"tracking_step_seconds": 86400.0, "worker_max_cached_workflows": args.held}
    async with bench_stack(args.port_base, state / "held", **overrides) as stack:
        about = await held_scenarios(stack, min(args.intake, args.held), args.held, figures)
    about["scaled_down"] = args.held < 10_000 and f"{args.held} open orders, not 10,000"
    about["sticky_cache"] = args.held
    return about


async def survived(scenarios: Coroutine[Any, Any, dict[str, Any]]) -> dict[str, Any]:
    """A stack's scenarios; if one fails, what failed, so the figures measured before it
    (and the other stack's) are still reported."""
    try:
        return await scenarios
    except Exception as err:  # a timeout on a loaded machine must not lose the run
        log.exception("bench_scenario_failed")
        return {"failed": f"{type(err).__name__}: {err}"}


async def run(args: argparse.Namespace) -> None:
    figures = Figures()
    began, load_start = time.perf_counter(), load_average()
    with tempfile.TemporaryDirectory(prefix="crossdock-bench-") as tmp:
        state = args.state_dir or Path(tmp)
        scenarios = {"main": await survived(main_stack(args, state, figures))}
        if "held" not in args.skip:
            scenarios["held"] = await survived(held_stack(args, state, figures))
    seconds = time.perf_counter() - began
    run_info = {
        "title": f"Crossdock vs same-shape baseline ({args.repeats} repeats, "
        f"{args.orders} workflows per throughput run, {seconds:.0f} s)",
        "at": datetime.now(UTC).isoformat(),
        "machine": machine(),
        "load_average": {"start": load_start, "end": load_average()},
        "arguments": {k: str(v) for k, v in vars(args).items()},
        "seconds": round(seconds, 1),
        "scenarios": scenarios,
    }
    write(figures, run_info, args.results)


def main(argv: list[str] | None = None) -> None:
    asyncio.run(run(arguments(argv)))


if __name__ == "__main__":
    main()
