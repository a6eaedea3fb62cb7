"""The whole product in one test process: dev server, sandbox, intake, worker, pollers."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass

import httpx
import pytest
from pydantic import SecretStr
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from crossdock.binaries import installed_binary
from crossdock.codec import data_converter
from crossdock.config import Settings
from crossdock.keys import new_codec_key
from crossdock.partners.clients import PartnerClients
from crossdock.sandbox.app import create_app
from crossdock.sandbox.context import SandboxConfig
from crossdock.sandbox.stripe.dispute_config import DisputeSandboxConfig
from crossdock.secrets import sandbox_secrets, stripe_webhook_secret
from crossdock.temporal import with_claim_binding
from starter.app import create_intake_app
from tests.servers import free_port, sandbox_urls, serve
from worker import build_worker
from workflows.search import ALL as SEARCH_ATTRIBUTES


@dataclass
class Stack:
    client: Client
    settings: Settings
    sandbox: httpx.AsyncClient  # talks to the sandbox, for placing orders and ledgers


@pytest.fixture(scope="session")
def codec_keys() -> SecretStr:
    """Payload encryption keys shared by every client of the stack (as in production)."""
    return SecretStr(new_codec_key("it-1"))


@pytest.fixture(scope="session")
async def dev_env(codec_keys: SecretStr) -> AsyncIterator[WorkflowEnvironment]:
    """The real Temporal dev server (in memory), with our search attributes."""
    env = await WorkflowEnvironment.start_local(
        data_converter=data_converter(Settings(codec_keys=codec_keys, _env_file=None)),
        dev_server_existing_path=installed_binary("temporal"),
        search_attributes=SEARCH_ATTRIBUTES,
    )
    try:
        yield env
    finally:
        await env.shutdown()


@pytest.fixture(scope="session")
def ports() -> dict[str, int]:
    return {"sandbox": free_port(), "intake": free_port()}


@pytest.fixture(scope="session")
def settings(
    dev_env: WorkflowEnvironment,
    ports: dict[str, int],
    codec_keys: SecretStr,
    tmp_path_factory: pytest.TempPathFactory,
) -> Settings:
    sandbox = f"http://127.0.0.1:{ports['sandbox']}"
    return Settings(
        state_dir=tmp_path_factory.mktemp("state"),
        codec_keys=codec_keys,
        temporal_address=dev_env.client.service_client.config.target_host,
        task_queue="integration",
        sandbox_port=ports["sandbox"],
        console_port=ports["intake"],
        **sandbox_urls(sandbox),
        return_window_seconds=1.0,
        poll_interval_seconds=0.5,
        tracking_step_seconds=0.3,
        customs_poll_seconds=0.5,
        # Short lines (knives start at 0) wait for the 1 s restocks, or give up after 5 s.
        stock_poll_seconds=0.5,
        backorder_wait_seconds=5.0,
        # Disputes give 12 s to answer; the deadline policy acts 2 s before that.
        dispute_due_seconds=12.0,
        dispute_decide_margin_seconds=2.0,
        dispute_reopen_window_seconds=1.0,
        _env_file=None,
    )


@pytest.fixture(scope="session")
def servers(settings: Settings) -> Iterator[None]:
    config = SandboxConfig(
        tracking_step_seconds=settings.tracking_step_seconds,
        carrier_webhook_url=f"{settings.intake_url}/webhooks/easypost",
        storefront_checkout_url=f"{settings.intake_url}/intake/storefront/checkout",
        **sandbox_secrets(settings),
        # Some declarations are held for inspection: those orders wait, then ship.
        customs_hold_rate=0.2,
        customs_hold_seconds=1.0,
        warehouse_restock_seconds=1.0,
        # Dispute webhooks reach intake at least once, some twice or out of order.
        disputes=DisputeSandboxConfig(
            webhook_url=f"{settings.intake_url}/webhooks/stripe",
            webhook_secret=stripe_webhook_secret(settings),
            due_seconds=settings.dispute_due_seconds,
            duplicate_rate=0.3,
            reorder_rate=0.3,
        ),
        seed=11,
    )
    with (
        serve(create_app(config), settings.sandbox_port),
        serve(create_intake_app(settings), settings.console_port),
    ):
        yield


@pytest.fixture(scope="session")
async def stack(
    dev_env: WorkflowEnvironment, settings: Settings, servers: None
) -> AsyncIterator[Stack]:
    partners = PartnerClients.from_settings(settings)
    # The stack's client binds grants and signs signals, as connect() makes them.
    client = with_claim_binding(dev_env.client, settings)
    worker = build_worker(client, settings, partners)
    async with worker, httpx.AsyncClient(base_url=settings.sandbox_url, timeout=10) as sandbox:
        yield Stack(client=client, settings=settings, sandbox=sandbox)
    await partners.aclose()
