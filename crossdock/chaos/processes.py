"""The parts of the product as child processes that a chaos run (or a crash test) can
kill, stop and start again: `python worker.py`, the sandbox, intake, the dev server.

Each child is configured only through `CROSSDOCK_*` environment variables, as production
configures it, writes its output to one log file across its incarnations, and runs in
its own session so a Ctrl-C meant for the driver does not reach it.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import structlog
from pydantic import SecretStr

from crossdock.config import Settings

log = structlog.get_logger(__name__)

REPO = Path(__file__).resolve().parents[2]


def child_environment(settings: Settings) -> dict[str, str]:
    """The environment of a child process: these settings as `CROSSDOCK_*` variables.

    Inherited `CROSSDOCK_*` variables are dropped so a developer's shell cannot point a
    child elsewhere.
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith("CROSSDOCK_")}
    for name, value in settings.model_dump(mode="json").items():
        secret = getattr(settings, name)
        if isinstance(secret, SecretStr):  # dumped as "**********"
            value = secret.get_secret_value()
        if value is not None:
            env[f"CROSSDOCK_{name.upper()}"] = (
                value if isinstance(value, str) else json.dumps(value)
            )
    # The children talk to the sandbox with its credentials (crossdock/startup.py).
    env["CROSSDOCK_DEMO_PROFILE"] = "true"
    # Log lines reach the file before a SIGKILL can swallow them (readiness is read there).
    env["PYTHONUNBUFFERED"] = "1"
    return env


def port_open(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        return sock.connect_ex((host, port)) == 0


class ChildProcess:
    """One part as a child process that can be killed, stopped and started again.

    Ready means: `ready_marker` has appeared in this incarnation's log, or (without a
    marker) `ready_port` accepts connections.
    """

    # Imports, sandbox validation of the workflows and connecting, on a loaded machine.
    READY_TIMEOUT_SECONDS = 90.0

    def __init__(
        self,
        name: str,
        command: Sequence[str],
        env: dict[str, str],
        log_path: Path,
        *,
        ready_marker: bytes | None = None,
        ready_port: tuple[str, int] | None = None,
    ) -> None:
        self.name = name
        self.command = list(command)
        self.env = env
        self.log_path = log_path
        self.ready_marker = ready_marker
        self.ready_port = ready_port
        self.process: asyncio.subprocess.Process | None = None
        self.incarnation = 0
        self._log_offset = 0

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.returncode is None

    async def start(self) -> None:
        self.incarnation += 1
        # One log file for every incarnation, each starting where the previous one ended.
        with self.log_path.open("ab") as out:
            out.write(f"--- {self.name} incarnation {self.incarnation}\n".encode())
            out.flush()
            self._log_offset = out.tell()
            self.process = await asyncio.create_subprocess_exec(
                *self.command,
                cwd=REPO,
                env=self.env,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=out,
                stderr=out,
                start_new_session=True,
            )
        log.info("child_spawned", child=self.name, incarnation=self.incarnation, pid=self.pid)

    async def wait_ready(self) -> None:
        """Wait until this incarnation is serving (or polling its task queue)."""
        assert self.process is not None
        timeout = self.READY_TIMEOUT_SECONDS
        deadline = time.monotonic() + timeout
        while not self._ready():
            if self.process.returncode is not None:
                raise RuntimeError(
                    f"{self.name} exited with {self.process.returncode}:\n{self.tail()}"
                )
            if time.monotonic() > deadline:
                raise RuntimeError(f"{self.name} not ready after {timeout}s:\n{self.tail()}")
            await asyncio.sleep(0.1)

    def _ready(self) -> bool:
        if self.ready_marker is not None:
            return self.ready_marker in self._log_of_incarnation()
        if self.ready_port is not None:
            return port_open(*self.ready_port)
        return True

    async def kill(self) -> None:
        """SIGKILL: the process ends at once, whatever it was doing."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        await self.process.wait()
        log.info("child_killed", child=self.name, incarnation=self.incarnation, pid=self.pid)

    async def stop(self, grace_seconds: float = 15.0) -> None:
        """Stop gracefully (SIGTERM), by force after `grace_seconds`."""
        if self.process is None or self.process.returncode is not None:
            return
        self.process.terminate()
        try:
            await asyncio.wait_for(self.process.wait(), timeout=grace_seconds)
        except TimeoutError:
            self.process.kill()
            await self.process.wait()
        log.info("child_stopped", child=self.name, incarnation=self.incarnation)

    async def restart(self) -> None:
        """Stop, start again, wait until ready: what an operator's restart does."""
        await self.stop()
        if self.ready_port is not None:
            await _wait_port_closed(*self.ready_port)
        await self.start()
        await self.wait_ready()

    def _log_of_incarnation(self) -> bytes:
        with self.log_path.open("rb") as log_file:
            log_file.seek(self._log_offset)
            return log_file.read()

    def tail(self, lines: int = 40) -> str:
        """The end of the log, for failure messages."""
        text = self.log_path.read_text(errors="replace")
        return "\n".join(text.splitlines()[-lines:])


async def _wait_port_closed(host: str, port: int, within_seconds: float = 15.0) -> None:
    """Give a stopped server's socket time to close before its successor binds it."""
    deadline = time.monotonic() + within_seconds
    while time.monotonic() < deadline:
        if not port_open(host, port):
            return
        await asyncio.sleep(0.1)


def worker_process(settings: Settings, log_path: Path) -> ChildProcess:
    """`python worker.py`, ready once it logs `worker_started` (it polls its queue)."""
    return ChildProcess(
        "worker",
        [sys.executable, "worker.py"],
        child_environment(settings),
        log_path,
        ready_marker=b"worker_started",
    )
