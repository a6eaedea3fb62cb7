"""The baseline's worker process: `ShapeWorkflow` and its no-op activity on the bench's
baseline queue, the SDK's default data converter (no codec), the same worker knobs and
the same sandbox runner as `python worker.py`.

    CROSSDOCK_TEMPORAL_ADDRESS=127.0.0.1:9200 python -m bench.baseline_worker
"""

from __future__ import annotations

import asyncio
import signal

from temporalio.client import Client
from temporalio.worker import Worker

from bench.baseline import BASELINE_QUEUE, ShapeWorkflow, noop
from crossdock.config import get_settings
from crossdock.worker_options import tuning
from crossdock.workflow_sandbox import RUNNER


async def main() -> None:
    settings = get_settings()
    client = await Client.connect(settings.temporal_address)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    async with Worker(
        client,
        task_queue=BASELINE_QUEUE,
        workflows=[ShapeWorkflow],
        activities=[noop],
        workflow_runner=RUNNER,
        **tuning(settings),
    ):
        print("baseline_worker_started", flush=True)
        await stop.wait()


if __name__ == "__main__":
    asyncio.run(main())
