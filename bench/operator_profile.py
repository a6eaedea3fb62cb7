"""Where the worker's time goes when an operator decides: orders wait in review on a
quiet stack, then each is decided (the bare `decide` update, bench/operator_legs.py)
while py-spy samples `python worker.py`.

    .venv/bin/pip install py-spy
    .venv/bin/python -m bench.operator_profile --waiting 20
    .venv/bin/python -m bench.operator_profile --waiting 6 --every 1.5   # a quiet stack

Writes bench/results/operator-profile.txt (collapsed stacks) and
operator-profile-top.txt; prints each decision's legs.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import statistics
import tempfile
from pathlib import Path

import httpx

from bench.operator import in_review, operator_token, wait_in_inbox
from bench.operator_legs import direct_decide, task_legs
from bench.orders import HappyOrders, bounded
from bench.profile import top_frames
from bench.stack import bench_stack
from crossdock.binaries import installed_binary
from crossdock.demo import place

RESULTS = Path(__file__).parent / "results"


async def profile(waiting: int, every: float, port_base: int, out: Path) -> None:
    spy = installed_binary("py-spy")
    with tempfile.TemporaryDirectory(prefix="crossdock-operator-profile-") as tmp:
        async with bench_stack(port_base, Path(tmp)) as stack:
            happy = HappyOrders(seed=62)
            reviews = [in_review(happy) for _ in range(waiting)]
            headers = {"Authorization": f"Bearer {operator_token(stack)}"}
            async with httpx.AsyncClient(
                base_url=stack.settings.intake_url, headers=headers, timeout=30
            ) as api:
                await bounded(8, [lambda o=o: place(stack.sandbox, o) for o in reviews])  # type: ignore[misc]
                await wait_in_inbox(api, {o.workflow_id for o in reviews})
            await asyncio.sleep(2)  # the questions' own workflow tasks are done
            record = await asyncio.create_subprocess_exec(
                spy, "record", "--pid", str(stack.worker.pid), "--format", "raw",
                "--gil", "--rate", "200", "--output", str(out),
                stdout=asyncio.subprocess.DEVNULL,
            )  # fmt: skip
            await asyncio.sleep(1)
            trips = []
            for o in reviews:
                trips.append((await direct_decide(stack, o.workflow_id))[0] * 1000)
                # Apart, so the orders already decided are done moving.
                await asyncio.sleep(every)
            await asyncio.sleep(1)
            record.send_signal(signal.SIGINT)
            await record.wait()
            legs = [await task_legs(stack.client, o.workflow_id) for o in reviews]
    summary = top_frames(out, limit=80)
    (out.parent / "operator-profile-top.txt").write_text(summary + "\n")
    worked = [x.worked for x in legs if x]
    print(f"decide p50 {statistics.median(trips):.1f} ms, max {max(trips):.1f} ms")
    print("each:", ", ".join(f"{t:.1f}" for t in trips))
    print(f"task worked p50 {statistics.median(worked):.1f} ms, max {max(worked):.1f} ms")
    print(summary)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--waiting", type=int, default=20)
    parser.add_argument("--every", type=float, default=0.0, help="seconds between decisions")
    parser.add_argument("--port-base", type=int, default=9200)
    parser.add_argument("--output", type=Path, default=RESULTS / "operator-profile.txt")
    args = parser.parse_args()
    args.output.parent.mkdir(exist_ok=True)
    asyncio.run(profile(args.waiting, args.every, args.port_base, args.output))
