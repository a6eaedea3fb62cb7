"""The product with N worker processes against one dev server: sandbox and intake in
this process, each worker `python worker.py` of its own, configured only by
`CROSSDOCK_*` variables. Shared by the scale-out test and bench/scale_out.py."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
from pydantic import SecretStr
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode
from temporalio.testing import WorkflowEnvironment

from crossdock.binaries import installed_binary
from crossdock.chaos.processes import ChildProcess, worker_process
from crossdock.codec import data_converter
from crossdock.config import Settings
from crossdock.demo import place
from crossdock.models.order import Order
from crossdock.models.order_steps import OrderResult
from crossdock.sandbox.app import create_app
from crossdock.sandbox.context import SandboxConfig
from crossdock.secrets import sandbox_secrets
from crossdock.temporal import with_claim_binding
from starter.app import create_intake_app
from tests.integration.crash_fixtures import CODEC_KEYS, crash_settings
from tests.servers import free_port, serve
from workflows.search import ALL as SEARCH_ATTRIBUTES

# Secrets planted for the log search: configured, so their values are known.
PRINCIPAL_KEY = SecretStr("principal-key-planted-3f9a1c77d2")
BUYER_KEY = SecretStr("buyer-key-planted-8b2e44c0a1")


@dataclass
class ScaleOutStack:
    client: Client
    settings: Settings
    sandbox: httpx.AsyncClient
    workers: list[ChildProcess]


@contextlib.asynccontextmanager
async def scale_out_stack(
    log_dir: Path, workers: int, **overrides: object
) -> AsyncIterator[ScaleOutStack]:
    """Dev server, sandbox, intake and `workers` worker processes, all ready."""
    env = await WorkflowEnvironment.start_local(
        data_converter=data_converter(Settings(codec_keys=CODEC_KEYS, _env_file=None)),
        dev_server_existing_path=installed_binary("temporal"),
        search_attributes=SEARCH_ATTRIBUTES,
    )
    base = crash_settings(
        env.client.service_client.config.target_host, free_port(), free_port(), log_dir / "state"
    )
    settings = base.model_copy(
        update={
            "task_queue": "scale-out",
            "principal_key": PRINCIPAL_KEY,
            "buyer_key": BUYER_KEY,
            **overrides,
        }
    )
    sandbox = create_app(
        SandboxConfig(
            tracking_step_seconds=settings.tracking_step_seconds,
            carrier_webhook_url=f"{settings.intake_url}/webhooks/easypost",
            storefront_checkout_url=f"{settings.intake_url}/intake/storefront/checkout",
            **sandbox_secrets(settings),
            warehouse_restock_seconds=1.0,
            seed=23,
        )
    )
    children = [worker_process(settings, log_dir / f"worker-{i}.log") for i in range(workers)]
    try:
        with (
            serve(sandbox, settings.sandbox_port),
            serve(create_intake_app(settings), settings.console_port),
        ):
            async with httpx.AsyncClient(base_url=settings.sandbox_url, timeout=10) as http:
                try:
                    # Started together: each spends seconds importing and connecting.
                    for child in children:
                        await child.start()
                    await asyncio.gather(*(child.wait_ready() for child in children))
                    client = with_claim_binding(env.client, settings)
                    yield ScaleOutStack(client, settings, http, children)
                finally:
                    await asyncio.gather(*(c.stop() for c in children if c.running))
    finally:
        await env.shutdown()


async def place_all(http: httpx.AsyncClient, orders: list[Order], every: float) -> None:
    """Place the orders one by one, `every` seconds apart."""
    for order in orders:
        await place(http, order)
        await asyncio.sleep(every)


async def result_of(client: Client, order: Order) -> OrderResult:
    """The order's result once its workflow exists (marketplace orders wait for a poll)."""
    handle = client.get_workflow_handle(order.workflow_id, result_type=OrderResult)
    while True:
        try:
            await handle.describe()
            break
        except RPCError as err:
            if err.status is not RPCStatusCode.NOT_FOUND:
                raise
            await asyncio.sleep(0.2)
    result: OrderResult = await handle.result()
    return result


async def run_orders(stack: ScaleOutStack, orders: list[Order], every: float) -> float:
    """Place `orders` and wait for all of them; the seconds from first placed to last done."""
    begun = time.monotonic()
    async with asyncio.TaskGroup() as tasks:
        tasks.create_task(place_all(stack.sandbox, orders, every))
        waiting = [tasks.create_task(result_of(stack.client, o)) for o in orders]
    del waiting
    return time.monotonic() - begun
