"""Where the worker's time goes under the throughput scenario: py-spy samples
`python worker.py` while storefront orders run at saturation, and the frames that hold
the most samples (inclusive, and our own code's) are printed and kept.

    .venv/bin/pip install py-spy
    .venv/bin/python -m bench.profile --orders 80

Writes bench/results/profile.txt (collapsed stacks, for flamegraph tools) and
bench/results/profile-top.txt. Samples only while the GIL is held (`--gil`): the
worker's CPU, not its waiting.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import tempfile
from collections import Counter
from pathlib import Path

from bench.orders import HappyOrders, run_orders
from bench.stack import bench_stack
from bench.throughput import probe
from crossdock.binaries import installed_binary
from crossdock.models.order import Channel

RESULTS = Path(__file__).parent / "results"


def top_frames(collapsed: Path, limit: int = 40) -> str:
    """The frames in most samples (each counted once per sample), with their share."""
    inclusive: Counter[str] = Counter()
    total = 0
    for line in collapsed.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        samples = int(count)
        total += samples
        for frame in set(stack.split(";")):
            inclusive[frame] += samples
    lines = [f"{total} samples"]
    for frame, samples in inclusive.most_common(limit):
        lines.append(f"{samples / total:6.1%}  {frame}")
    return "\n".join(lines)


async def profile(orders: int, port_base: int, out: Path) -> None:
    try:
        spy = installed_binary("py-spy")
    except FileNotFoundError:
        raise SystemExit("py-spy is not installed: .venv/bin/pip install py-spy") from None
    with tempfile.TemporaryDirectory(prefix="crossdock-profile-") as tmp:
        async with bench_stack(port_base, Path(tmp)) as stack:
            happy = HappyOrders(seed=61)
            await probe(stack, happy)
            record = await asyncio.create_subprocess_exec(
                spy, "record", "--pid", str(stack.worker.pid), "--format", "raw",
                "--gil", "--rate", "50", "--output", str(out),
                stdout=asyncio.subprocess.DEVNULL,
            )  # fmt: skip
            seconds, _ = await run_orders(stack, happy.batch(orders, [Channel.STOREFRONT]))
            record.send_signal(signal.SIGINT)
            await record.wait()
    summary = top_frames(out)
    (out.parent / "profile-top.txt").write_text(summary + "\n")
    print(f"{orders} storefront orders in {seconds:.1f} s ({orders / seconds:.2f}/s)")
    print(summary)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=80)
    parser.add_argument("--port-base", type=int, default=9200)
    parser.add_argument("--output", type=Path, default=RESULTS / "profile.txt")
    args = parser.parse_args()
    args.output.parent.mkdir(exist_ok=True)
    asyncio.run(profile(args.orders, args.port_base, args.output))
