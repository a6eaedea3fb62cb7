"""Keeping `make run`'s parts alive: each child process is restarted when it dies, after
an exponential, capped backoff, until it crashes too often within a window.

A part that dies at once on every start (bad configuration, a port taken meanwhile)
exhausts its budget within seconds and stops the stack with a message naming it, rather
than restarting forever and burying its own error in the log.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import structlog

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class RestartPolicy:
    """How soon a dead part is restarted, and how many restarts a window allows."""

    first_delay: float = 0.5
    factor: float = 2.0
    max_delay: float = 30.0
    # More restarts than this within `window` seconds: the part is broken, not unlucky.
    budget: int = 5
    window: float = 60.0
    # A part that ran this long before it died starts its backoff afresh.
    healthy_after: float = 30.0


@dataclass
class Backoff:
    """One part's restart history under a `RestartPolicy` (pure: times are passed in)."""

    policy: RestartPolicy
    _restarts: deque[float] = field(default_factory=deque)
    _streak: int = 0

    def next_delay(self, now: float, uptime: float) -> float | None:
        """The delay before restarting a part that died at `now` after running `uptime`
        seconds; None once the window's budget is spent."""
        while self._restarts and now - self._restarts[0] > self.policy.window:
            self._restarts.popleft()
        if len(self._restarts) >= self.policy.budget:
            return None
        if uptime >= self.policy.healthy_after:
            self._streak = 0
        delay = min(
            self.policy.first_delay * self.policy.factor**self._streak, self.policy.max_delay
        )
        self._streak += 1
        self._restarts.append(now)
        return delay

    @property
    def restarts_in_window(self) -> int:
        return len(self._restarts)


class PartGaveUp(RuntimeError):
    """A part crashed more often than its restart budget allows."""


class StopRequested(Exception):
    """SIGTERM or SIGINT: stop every part in order."""


@dataclass(frozen=True)
class PartSpec:
    """A child of the stack: its command, where it listens (if it does) and the parts
    that must be up before it is (re)started."""

    name: str
    command: Sequence[str]
    listens: tuple[str, int] | None = None
    needs: tuple[str, ...] = ()


@dataclass
class Part:
    spec: PartSpec
    backoff: Backoff
    process: subprocess.Popen[bytes] | None = None
    started_at: float = 0.0
    restart_at: float | None = None
    restarts: int = 0


def port_open(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0


@dataclass
class Supervisor:
    """Starts the parts, restarts the dead ones with backoff, stops them all in reverse
    order (so Temporal, started first, stops last)."""

    env: dict[str, str]
    policy: RestartPolicy = field(default_factory=RestartPolicy)
    clock: Callable[[], float] = time.monotonic
    parts: dict[str, Part] = field(default_factory=dict)

    def start(self, spec: PartSpec) -> None:
        part = Part(spec, Backoff(self.policy))
        self.parts[spec.name] = part
        self._launch(part)

    def pid(self, name: str) -> int | None:
        process = self.parts[name].process
        return process.pid if process is not None and process.poll() is None else None

    def _launch(self, part: Part) -> subprocess.Popen[bytes]:
        # Own process group per child, so the terminal's Ctrl-C reaches only us and we
        # stop the parts in order (feed first, Temporal last).
        process = part.process = subprocess.Popen(
            list(part.spec.command), env=self.env, start_new_session=True
        )
        part.started_at = self.clock()
        part.restart_at = None
        log.info("part_started", part=part.spec.name, pid=process.pid)
        return process

    def ready(self, name: str) -> bool:
        part = self.parts.get(name)
        if part is None or part.process is None or part.process.poll() is not None:
            return False
        return part.spec.listens is None or port_open(*part.spec.listens)

    def step(self) -> None:
        """One pass: notice dead parts and schedule them, restart those that are due.

        Raises:
            PartGaveUp: A part spent its restart budget.
        """
        now = self.clock()
        for part in self.parts.values():
            process = part.process
            if part.restart_at is None and process is not None and process.poll() is not None:
                self._schedule(part, process, now)
            elif part.restart_at is not None and now >= part.restart_at:
                # A worker started while Temporal is still coming back would only die
                # again and spend its budget on someone else's outage.
                if all(self.ready(need) for need in part.spec.needs):
                    part.restarts += 1
                    process = self._launch(part)
                    log.info(
                        "part_restarted",
                        part=part.spec.name,
                        pid=process.pid,
                        restarts=part.restarts,
                    )

    def _schedule(self, part: Part, process: subprocess.Popen[bytes], now: float) -> None:
        _kill_group(process.pid)  # whatever the dead part left behind in its group
        code = process.returncode
        delay = part.backoff.next_delay(now, now - part.started_at)
        if delay is None:
            log.error(
                "part_gave_up",
                part=part.spec.name,
                exit_code=code,
                restarts_in_window=part.backoff.restarts_in_window,
                window_seconds=self.policy.window,
            )
            raise PartGaveUp(
                f"{part.spec.name} exited (code {code}) {self.policy.budget + 1} times within "
                f"{self.policy.window:.0f} s, so it is not restarted again; its own log above "
                f"says why (a bad setting, a port another program took)"
            )
        part.restart_at = now + delay
        log.warning(
            "part_exited",
            part=part.spec.name,
            exit_code=code,
            restarts=part.restarts,
            next_delay_seconds=round(delay, 2),
        )

    def wait_ready(self, name: str, timeout: float) -> None:
        """Supervise until `name` listens (or runs, without a port).

        Raises:
            TimeoutError: It did not come up within `timeout` seconds.
            PartGaveUp: It, or another part, spent its restart budget meanwhile.
        """
        deadline = self.clock() + timeout
        while not self.ready(name):
            if self.clock() > deadline:
                raise TimeoutError(f"{name} did not come up within {timeout:.0f} s")
            self.step()
            time.sleep(0.2)

    def watch(self) -> None:
        """Supervise until a stop signal (StopRequested, KeyboardInterrupt) or a part
        gives up (PartGaveUp)."""
        while True:
            self.step()
            time.sleep(0.2)

    def stop(self) -> None:
        """Stop every part, the last started first: SIGTERM, then SIGKILL after 15 s."""
        # A second Ctrl-C (or SIGTERM) must not cut this short and leave children behind.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        for part in reversed(self.parts.values()):
            part.restart_at = None
            process = part.process
            if process is None:
                continue
            if process.poll() is None:
                _signal_group(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                _kill_group(process.pid)
                process.wait()


def _signal_group(pid: int, signum: signal.Signals) -> None:
    try:
        os.killpg(pid, signum)
    except (ProcessLookupError, PermissionError):
        pass  # the group is already gone


def _kill_group(pid: int) -> None:
    _signal_group(pid, signal.SIGKILL)
