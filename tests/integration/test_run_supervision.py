"""`crossdock run` heals itself: the worker, the sandbox and the Temporal dev server are
each SIGKILLed under it, and each comes back and orders still complete.

Real processes throughout: the command runs from a directory that is not the project's,
with a temporary state dir and free ports, and its JSON log says which child has which pid.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from temporalio.client import Client

from crossdock.config import Settings
from crossdock.demo import DemoOrders, place
from crossdock.keys import new_codec_key
from crossdock.models.order import Channel
from crossdock.models.order_states import OrderState
from crossdock.temporal import connect
from tests.servers import free_port
from workflows.order import OrderWorkflow

pytestmark = [pytest.mark.integration, pytest.mark.timeout(150)]


@dataclass
class RunningStack:
    process: subprocess.Popen[bytes]
    settings: Settings
    events: list[dict[str, Any]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def read(self) -> None:
        assert self.process.stderr is not None
        for raw in self.process.stderr:
            try:
                event = json.loads(raw)
            except ValueError:
                continue
            if isinstance(event, dict) and "event" in event:
                with self.lock:
                    self.events.append(event)

    def wait_event(self, name: str, part: str, after: int = 0, seconds: float = 60) -> int:
        """Index of the first `name` event of `part` at or after index `after`."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            with self.lock:
                for index in range(after, len(self.events)):
                    event = self.events[index]
                    if event["event"] == name and event.get("part", "") == part:
                        return index
            assert self.process.poll() is None, f"crossdock run exited {self.process.returncode}"
            time.sleep(0.1)
        raise AssertionError(f"no {name} of {part} within {seconds} s")

    def pid(self, index: int) -> int:
        with self.lock:
            pid: int = self.events[index]["pid"]
        return pid


@pytest.fixture
def running(tmp_path: Path) -> Iterator[RunningStack]:
    state = tmp_path / "state"
    elsewhere = tmp_path / "elsewhere"  # not the project: worker.py must still be found
    elsewhere.mkdir()
    keys = new_codec_key("sup-1")
    ports = {"temporal": free_port(), "ui": free_port()}
    ports |= {"sandbox": free_port(), "console": free_port()}
    env = {
        **os.environ,
        "CROSSDOCK_STATE_DIR": str(state),
        "CROSSDOCK_CODEC_KEYS": keys,
        "CROSSDOCK_TEMPORAL_ADDRESS": f"127.0.0.1:{ports['temporal']}",
        "CROSSDOCK_TEMPORAL_UI_PORT": str(ports["ui"]),
        "CROSSDOCK_SANDBOX_PORT": str(ports["sandbox"]),
        "CROSSDOCK_CONSOLE_PORT": str(ports["console"]),
        "CROSSDOCK_DEMO_FEED": "false",
        # Orders that go from checkout to completed in seconds, without detours.
        "CROSSDOCK_TRACKING_STEP_SECONDS": "0.3",
        "CROSSDOCK_RETURN_WINDOW_SECONDS": "1",
        "CROSSDOCK_CUSTOMS_HOLD_RATE": "0",
        "CROSSDOCK_TRACKER_EXCEPTION_RATES": "{}",
        "CROSSDOCK_WAREHOUSE_RESTOCK_SECONDS": "1",
        "CROSSDOCK_STOCK_POLL_SECONDS": "0.5",
        "CROSSDOCK_DEMO_DELIVER_WITHIN_SECONDS": "86400",
    }
    base = "http://127.0.0.1:8700"
    for name, value in Settings.model_fields.items():
        if name.endswith("_base_url"):
            url = str(value.default).replace(base, f"http://127.0.0.1:{ports['sandbox']}")
            env[f"CROSSDOCK_{name.upper()}"] = url
    process = subprocess.Popen(
        [sys.executable, "-m", "crossdock.cli", "run"],
        cwd=elsewhere,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    stack = RunningStack(process, _settings_from(env))
    threading.Thread(target=stack.read, daemon=True).start()
    try:
        yield stack
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
    assert process.returncode == 0, "Ctrl-C must stop the stack cleanly"
    assert (state / "temporal.db").exists() and not (elsewhere / ".crossdock").exists()


def _settings_from(env: dict[str, str]) -> Settings:
    """The settings the children read from `env` (the test client's too)."""
    saved = dict(os.environ)
    try:
        os.environ.clear()
        os.environ.update(env)
        return Settings(_env_file=None)
    finally:
        os.environ.clear()
        os.environ.update(saved)


async def placed(stack: RunningStack, orders: DemoOrders) -> str:
    """Place a storefront order as a buyer would; its workflow id."""
    order = orders.next(channel=Channel.STOREFRONT)
    async with httpx.AsyncClient(base_url=stack.settings.sandbox_url, timeout=10) as http:
        for _ in range(100):  # a restarted sandbox takes a few seconds to listen again
            try:
                await place(http, order)
                return order.workflow_id
            except httpx.TransportError:
                await asyncio.sleep(0.2)
    raise AssertionError("the sandbox never took the order")


async def completes(client: Client, workflow_id: str, seconds: float = 45) -> None:
    """Wait until the order's workflow has completed (through one client made before
    any kill: the SDK's client reconnects by itself)."""
    handle = client.get_workflow_handle(workflow_id)
    deadline = asyncio.get_running_loop().time() + seconds
    state = ""
    while asyncio.get_running_loop().time() < deadline:
        try:
            state = (await handle.query(OrderWorkflow.status)).state
        except Exception:  # not started yet, no worker yet, or Temporal coming back
            pass
        if state == OrderState.COMPLETED:
            return
        await asyncio.sleep(0.3)
    raise AssertionError(f"{workflow_id} is {state or 'not started'}, not completed")


def kill(stack: RunningStack, part: str) -> None:
    """SIGKILL `part`'s current process and wait until the supervisor restarts it."""
    with stack.lock:
        started = [
            i
            for i, e in enumerate(stack.events)
            if e["event"] in ("part_started",) and e.get("part") == part
        ]
    pid = stack.pid(started[-1])
    mark = len(stack.events)
    os.kill(pid, signal.SIGKILL)
    exited = stack.wait_event("part_exited", part, after=mark, seconds=10)
    with stack.lock:
        assert stack.events[exited]["exit_code"] == -signal.SIGKILL
        assert stack.events[exited]["next_delay_seconds"] > 0
    restarted = stack.wait_event("part_restarted", part, after=exited, seconds=30)
    assert stack.pid(restarted) != pid


async def test_killed_parts_come_back_and_orders_still_complete(running: RunningStack) -> None:
    orders = DemoOrders(seed=1717, decline_rate=0.0, review_rate=0.0)
    await asyncio.to_thread(running.wait_event, "stack_running", "", 0, 90)
    client = await connect(running.settings)
    await completes(client, await placed(running, orders), seconds=60)  # the stack is up
    for part in ("worker", "sandbox", "temporal"):
        in_flight = await placed(running, orders)
        await asyncio.to_thread(kill, running, part)
        await completes(client, in_flight)  # resumed where it was
        await completes(client, await placed(running, orders))  # and new work flows
