"""A case reduced to the approval's shape, and a worker for it in a process of its own
(so a test can SIGKILL it): reminders on a timer, each upserting a search attribute, and
a decision by update that upserts too (as `workflows/approval.py` does).

    python -m tests.integration.divergence_probe <temporal address> <task queue> <sticky s>
"""

from __future__ import annotations

import asyncio
import sys
from datetime import timedelta

from temporalio import workflow
from temporalio.client import Client
from temporalio.worker import Worker

from workflows.search import AWAITING_APPROVAL

REMIND_EVERY = timedelta(seconds=2)


@workflow.defn
class DivergenceProbe:
    def __init__(self) -> None:
        self.decided = False
        self.finished = False
        self.reminders = 0

    @workflow.run
    async def run(self) -> str:
        workflow.upsert_search_attributes([AWAITING_APPROVAL.value_set(True)])
        while not self.decided:
            try:
                await workflow.wait_condition(lambda: self.decided, timeout=REMIND_EVERY)
            except TimeoutError:
                self.reminders += 1
                flag = self.reminders % 2 == 0
                workflow.upsert_search_attributes([AWAITING_APPROVAL.value_set(flag)])
        await workflow.wait_condition(lambda: self.finished)
        return "decided"

    @workflow.query
    def reminded(self) -> int:
        return self.reminders

    @workflow.update
    def decide(self) -> str:
        self.decided = True
        workflow.upsert_search_attributes([AWAITING_APPROVAL.value_set(False)])
        return "accepted"

    @workflow.signal
    def finish(self) -> None:
        self.finished = True


async def _serve(address: str, task_queue: str, sticky_seconds: float) -> None:
    client = await Client.connect(address)
    sticky = timedelta(seconds=sticky_seconds)
    async with Worker(
        client,
        task_queue=task_queue,
        workflows=[DivergenceProbe],
        sticky_queue_schedule_to_start_timeout=sticky,
    ):
        print("polling", flush=True)
        await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(_serve(sys.argv[1], sys.argv[2], float(sys.argv[3])))
