"""The embedded stack of a chaos run, every part a child process: the Temporal dev
server (SQLite file), the partner sandbox (SQLite file, a fault profile), intake and
the worker. The run kills the worker and restarts the dev server and the sandbox on
their own files and ports, as an operator (or a crash) would."""

from __future__ import annotations

import asyncio
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import structlog

from crossdock.chaos.processes import ChildProcess, child_environment, worker_process
from crossdock.config import Settings
from crossdock.runner import prepare_state, temporal_command

log = structlog.get_logger(__name__)


@dataclass
class ChaosStack:
    settings: Settings
    faults: str  # the sandbox's fault profile: a name or a JSON file
    log_dir: Path
    temporal: ChildProcess = field(init=False)
    sandbox: ChildProcess = field(init=False)
    intake: ChildProcess = field(init=False)
    worker: ChildProcess = field(init=False)
    # Faults injected by sandbox incarnations already stopped (their counts are in memory).
    faults_before: Counter[str] = field(default_factory=Counter)

    def __post_init__(self) -> None:
        settings, env = self.settings, child_environment(self.settings)
        host, port = settings.temporal_address.rsplit(":", 1)
        python = sys.executable
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self.temporal = ChildProcess(
            "temporal",
            temporal_command(settings),
            env,
            self.log_dir / "temporal.log",
            ready_port=(host, int(port)),
        )
        self.sandbox = ChildProcess(
            "sandbox",
            [python, "-m", "crossdock.cli", "sandbox", "--faults", self.faults],
            env,
            self.log_dir / "sandbox.log",
            ready_port=(settings.sandbox_host, settings.sandbox_port),
        )
        self.intake = ChildProcess(
            "intake",
            [python, "-m", "crossdock.cli", "intake"],
            env,
            self.log_dir / "intake.log",
            ready_port=(settings.console_host, settings.console_port),
        )
        self.worker = worker_process(settings, self.log_dir / "worker.log")

    @property
    def parts(self) -> list[ChildProcess]:
        """In start order; stopped in the reverse."""
        return [self.temporal, self.sandbox, self.intake, self.worker]

    async def start(self) -> None:
        """The dev server first; the others (each needs only it) side by side."""
        prepare_state(self.settings)
        await self.temporal.start()
        await self.temporal.wait_ready()
        rest = self.parts[1:]
        for part in rest:
            await part.start()
        await asyncio.gather(*(part.wait_ready() for part in rest))

    async def stop(self) -> None:
        for part in reversed(self.parts):
            await part.stop()

    async def kill_worker(self) -> None:
        """SIGKILL the worker and start a fresh one (no cache: it replays histories)."""
        await self.worker.kill()
        await self.worker.start()
        await self.worker.wait_ready()

    async def restart_temporal(self) -> None:
        """Stop the dev server and start it again on the same SQLite file and port."""
        await self.temporal.restart()

    async def restart_sandbox(self) -> None:
        """Stop the sandbox and start it on the same database; its fault counts live in
        memory, so they are read first and added to the run's."""
        self.faults_before.update(await self.fault_counts(include_stopped=False))
        await self.sandbox.restart()

    async def fault_counts(self, include_stopped: bool = True) -> Counter[str]:
        """Faults injected so far, by kind ("before.error_503", "webhook.drop", ...)."""
        async with httpx.AsyncClient(base_url=self.settings.sandbox_url, timeout=10) as http:
            response = await http.get("/_sandbox/faults")
            response.raise_for_status()
        counts: Counter[str] = Counter(response.json().get("kinds", {}))
        if include_stopped:
            counts.update(self.faults_before)
        return counts
