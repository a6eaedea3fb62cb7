"""A history its own code cannot replay, made by a race inside the SDK, and its cure.

The race (crossdock/divergence.py): a worker dies; a timer fires while the task waits
on the dead worker's sticky queue; a new worker takes the task with a console read (a
query) attached and an operator's decision (an update) beside it. It answers the query
first, running the timer on the way, and records the timer's commands before the
update's. Replays run both in one activation, update first: the case is stuck.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

from temporalio.api.enums.v1 import EventType
from temporalio.client import Client, WorkflowHandle
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Replayer
from typer.testing import CliRunner

from crossdock.cli import app
from crossdock.console.kinds import CaseKind
from crossdock.console.stuck import StuckPolicy, heal_diverged
from crossdock.console.views import StuckReason, StuckReport
from crossdock.divergence import find_divergence, heal
from tests.integration.divergence_probe import DivergenceProbe

ROOT = Path(__file__).resolve().parents[2]
ProbeHandle = WorkflowHandle[Any, Any]
# The Python SDK's default wait of a task for the worker that ran the last one.
SDK_STICKY_SECONDS = 10.0


@contextmanager
def worker_process(
    address: str, task_queue: str, sticky_seconds: float = SDK_STICKY_SECONDS
) -> Iterator[subprocess.Popen[bytes]]:
    probe = "tests.integration.divergence_probe"
    command = [sys.executable, "-m", probe, address, task_queue, str(sticky_seconds)]
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE)
    try:
        assert process.stdout is not None and process.stdout.readline() == b"polling\n"
        yield process
    finally:
        process.kill()
        process.wait()


async def _events_of(handle: ProbeHandle, kind: EventType.ValueType) -> int:
    found = 0
    async for event in handle.fetch_history_events():
        found += event.event_type == kind
    return found


async def _until(handle: ProbeHandle, kind: EventType.ValueType) -> None:
    async with asyncio.timeout(60):
        while not await _events_of(handle, kind):  # noqa: ASYNC110 (the server records it)
            await asyncio.sleep(0.2)


async def _race(
    client: Client, address: str, task_queue: str, sticky_seconds: float = SDK_STICKY_SECONDS
) -> ProbeHandle:
    """Kill the worker, let the reminder fire, read and decide as a new worker starts."""
    with worker_process(address, task_queue, sticky_seconds) as first:
        handle = await client.start_workflow(
            DivergenceProbe.run, id=f"probe-{uuid.uuid4().hex[:8]}", task_queue=task_queue
        )
        await _until(handle, EventType.EVENT_TYPE_TIMER_STARTED)
        first.kill()
    # A read while no worker runs waits for one; the reminder fires meanwhile, its task
    # waiting for the dead worker's sticky queue (10 s).
    read = asyncio.create_task(handle.query(DivergenceProbe.reminded))
    await _until(handle, EventType.EVENT_TYPE_TIMER_FIRED)
    with worker_process(address, task_queue, sticky_seconds) as second:
        await asyncio.sleep(1)
        assert await handle.execute_update(DivergenceProbe.decide) == "accepted"
        with suppress(Exception):  # answered, or refused once the history diverged
            await read
        second.kill()
    return handle


async def _replays(handle: ProbeHandle) -> bool:
    history = await handle.fetch_history()
    result = await Replayer(workflows=[DivergenceProbe]).replay_workflow(
        history, raise_on_replay_failure=False
    )
    return result.replay_failure is None


async def test_the_race_records_a_history_that_heal_resets_with_the_decision_kept(
    dev_env: WorkflowEnvironment,
) -> None:
    address = dev_env.client.service_client.config.target_host
    client = await Client.connect(address)
    task_queue = f"divergence-{uuid.uuid4().hex[:8]}"
    handle = await _race(client, address, task_queue)
    assert not await _replays(handle), "the SDK no longer records this race: drop the heal?"

    with worker_process(address, task_queue):
        await handle.signal(DivergenceProbe.finish)  # a cold worker replays, and fails
        await _until(handle, EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED)
        found = await find_divergence(client, handle.id)
        assert found is not None and found[1].reset_to < found[1].mismatched_event
        # As the console's scan meets it: marked stuck on the nondeterminism, and healed.
        stuck = StuckReport(
            workflow_id=handle.id,
            kind=CaseKind.ORDER,
            reason=StuckReason.WORKFLOW_TASK_FAILING,
            attempts=3,
            last_error=found[1].message,
        )
        assert await heal_diverged(client, {handle.id: stuck}, StuckPolicy()) == {}
        # The update is applied again in the reset run, the signal too.
        result = await client.get_workflow_handle(handle.id).result()
    assert result == "decided"
    assert await _replays(client.get_workflow_handle(handle.id))
    assert await heal(client, handle.id, by="test") is None  # closed: nothing to heal


def test_heal_on_the_command_line_says_when_there_is_nothing_to_heal(
    dev_env: WorkflowEnvironment, tmp_path: Path
) -> None:
    address = dev_env.client.service_client.config.target_host
    env = {"CROSSDOCK_TEMPORAL_ADDRESS": address, "CROSSDOCK_STATE_DIR": str(tmp_path)}
    result = CliRunner().invoke(app, ["heal", "order-none-such", "--yes"], env=env)
    assert result.exit_code == 1
    assert "No workflow order-none-such" in result.output
