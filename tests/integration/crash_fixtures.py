"""The rig for the crash-safety test: the product with its worker in a separate process.

Everything runs for real (dev server, sandbox with a fault profile, intake, `python
worker.py`), so a SIGKILL hits the worker exactly as a machine failure would: no
graceful shutdown, no flushed state, HTTP connections cut mid-request. Two things are
added for the test:

- `HeldAnswers` wraps the sandbox and holds its answer to payment calls for a moment
  *after* the partner acted, so the test can kill the worker while the provider has
  authorized (or captured) and the worker does not know it yet: the crash idempotency
  keys exist for.
- `worker_process` (crossdock/chaos/processes.py, shared with `crossdock chaos`) starts,
  watches and kills `python worker.py`, configured only through `CROSSDOCK_*`
  environment variables, as production configures it.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import threading
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import structlog
from pydantic import SecretStr
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from crossdock.binaries import installed_binary
from crossdock.chaos.processes import ChildProcess, worker_process
from crossdock.codec import data_converter
from crossdock.config import Settings
from crossdock.keys import new_codec_key
from crossdock.sandbox.app import create_app
from crossdock.sandbox.context import SandboxConfig
from crossdock.sandbox.faults import FaultProfile
from crossdock.secrets import sandbox_secrets
from crossdock.temporal import with_claim_binding
from starter.app import create_intake_app
from tests.servers import free_port, sandbox_urls, serve
from workflows.search import ALL as SEARCH_ATTRIBUTES

log = structlog.get_logger(__name__)

# Intake, the worker process and the test's client share these keys, as in production.
CODEC_KEYS = SecretStr(new_codec_key("crash-1"))

REPO = Path(__file__).resolve().parents[2]

# The provider's side of storefront payments: authorize (create + confirm, manual
# capture) and capture.
PAYMENT_CALLS = {
    "authorization": re.compile(r"^/stripe/v1/payment_intents$"),
    "capture": re.compile(r"^/stripe/v1/payment_intents/[^/]+/capture$"),
}
# Every partner call waits 0 to 400 ms before it runs, and a few are refused with 503
# first, so kills find calls in flight and retries mix with crash recovery. Seeded:
# the same faults in the same order of requests on every run.
FAULTS = FaultProfile.everywhere(latency_ms=400, error_rate=0.03, seed=20260)


class HeldAnswers:
    """ASGI wrapper: delay the answer to chosen calls after the app has handled them.

    Counts, per kind, the answers being held right now (thread-safe: the sandbox runs
    in uvicorn's thread, the test reads from its own event loop).
    """

    def __init__(
        self, app: ASGIApp, calls: dict[str, re.Pattern[str]], hold_seconds: float
    ) -> None:
        self.app = app
        self.calls = calls
        self.hold_seconds = hold_seconds
        self._lock = threading.Lock()
        self._held: Counter[str] = Counter()
        self._waiters: list[tuple[asyncio.AbstractEventLoop, asyncio.Event, frozenset[str]]] = []

    def held(self) -> dict[str, int]:
        """Successful answers the partner has produced but not yet sent, per kind."""
        with self._lock:
            return {kind: n for kind, n in self._held.items() if n}

    async def wait_held(self, kinds: frozenset[str]) -> None:
        """Return once an answer of one of `kinds` is being held (at once if one is now)."""
        event = asyncio.Event()
        # The event belongs to the caller's loop; the sandbox's thread sets it through it.
        waiter = (asyncio.get_running_loop(), event, kinds)
        with self._lock:
            if kinds & {kind for kind, n in self._held.items() if n}:
                return
            self._waiters.append(waiter)
        try:
            await event.wait()
        finally:
            with self._lock:
                self._waiters.remove(waiter)

    def _kind(self, scope: Scope) -> str | None:
        if scope["type"] != "http" or scope["method"] != "POST":
            return None
        return next((k for k, path in self.calls.items() if path.match(scope["path"])), None)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = self._kind(scope)
        if kind is None:
            await self.app(scope, receive, send)
            return

        async def send_after_hold(message: Message) -> None:
            # The response start is sent once the endpoint has run: the side effect is in
            # the ledger and under its idempotency key. Errors (503s) are not held.
            if message["type"] == "http.response.start" and message["status"] < 300:
                with self._lock:
                    self._held[kind] += 1
                    for loop, event, kinds in self._waiters:
                        if kind in kinds:
                            loop.call_soon_threadsafe(event.set)
                try:
                    await asyncio.sleep(self.hold_seconds)
                finally:
                    with self._lock:
                        self._held[kind] -= 1
            await send(message)

        await self.app(scope, receive, send_after_hold)


@dataclass
class CrashStack:
    client: Client
    settings: Settings
    sandbox: httpx.AsyncClient  # places orders and reads the ledgers
    held: HeldAnswers
    worker: ChildProcess


def crash_settings(
    temporal_address: str, sandbox_port: int, intake_port: int, state_dir: Path
) -> Settings:
    """Settings for intake and worker: the test's servers, compressed time."""
    sandbox = f"http://127.0.0.1:{sandbox_port}"
    return Settings(
        state_dir=state_dir,
        codec_keys=CODEC_KEYS,
        temporal_address=temporal_address,
        task_queue="crash-safety",
        sandbox_port=sandbox_port,
        console_port=intake_port,
        **sandbox_urls(sandbox),
        return_window_seconds=1.0,
        poll_interval_seconds=0.5,
        tracking_step_seconds=0.3,
        # Knives start out of stock: backorders fill from 1 s restocks, or give up at 5 s.
        stock_poll_seconds=0.5,
        backorder_wait_seconds=5.0,
        log_level="INFO",
        _env_file=None,
    )


@contextlib.asynccontextmanager
async def crash_stack(log_dir: Path, hold_seconds: float = 0.5) -> AsyncIterator[CrashStack]:
    """A dev server of its own, sandbox (faults + held payment answers), intake, and a
    worker process started and ready.

    A dev server of its own because pollers have fixed workflow ids
    (`intake-poll-{channel}`, USE_EXISTING): on a shared server they would keep polling
    another test's sandbox.
    """
    env = await WorkflowEnvironment.start_local(
        data_converter=data_converter(Settings(codec_keys=CODEC_KEYS, _env_file=None)),
        dev_server_existing_path=installed_binary("temporal"),
        search_attributes=SEARCH_ATTRIBUTES,
    )
    settings = crash_settings(
        env.client.service_client.config.target_host, free_port(), free_port(), log_dir / "state"
    )
    sandbox = create_app(
        SandboxConfig(
            faults=FAULTS,
            tracking_step_seconds=settings.tracking_step_seconds,
            carrier_webhook_url=f"{settings.intake_url}/webhooks/easypost",
            storefront_checkout_url=f"{settings.intake_url}/intake/storefront/checkout",
            **sandbox_secrets(settings),
            warehouse_restock_seconds=1.0,
            seed=17,
        )
    )
    held = HeldAnswers(sandbox, PAYMENT_CALLS, hold_seconds)
    worker = worker_process(settings, log_dir / "worker.log")
    try:
        with (
            serve(held, settings.sandbox_port),
            serve(create_intake_app(settings), settings.console_port),
        ):
            async with httpx.AsyncClient(base_url=settings.sandbox_url, timeout=10) as http:
                try:
                    await worker.start()
                    await worker.wait_ready()
                    client = with_claim_binding(env.client, settings)
                    yield CrashStack(client, settings, http, held, worker)
                finally:
                    await worker.stop()
    finally:
        await env.shutdown()
