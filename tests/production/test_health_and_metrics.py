"""`/healthz`, `/readyz` and `/metrics` of intake, the worker and the sandbox; the case
gauges read from visibility; partner and refusal counters; the SDK runtime's metrics."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from prometheus_client import REGISTRY
from temporalio import workflow
from temporalio.client import Client
from temporalio.common import SearchAttributePair, TypedSearchAttributes
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from crossdock.binaries import installed_binary
from crossdock.config import Settings
from crossdock.observability.runtime import metrics_runtime
from crossdock.observability.worker_http import worker_health_app
from crossdock.partners.errors import RateLimited
from crossdock.partners.http import send
from crossdock.sandbox.app import create_app
from crossdock.sandbox.context import SandboxConfig
from crossdock.sandbox.faults import load_profile
from crossdock.temporal import connect
from starter.app import create_intake_app
from tests.servers import free_port
from workflows.search import ALL, CROSSDOCK_STATE, NEEDS_ATTENTION


@pytest.fixture(scope="module")
async def dev_env() -> AsyncIterator[WorkflowEnvironment]:
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=installed_binary("temporal"), search_attributes=ALL
    )
    try:
        yield env
    finally:
        await env.shutdown()


def _http(app: FastAPI) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test")


def _sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


async def test_intake_is_ready_and_counts_cases_and_refusals(
    dev_env: WorkflowEnvironment, tmp_path: Path
) -> None:
    # Rescan visibility on every scrape (production: at most every 30 s).
    settings = Settings(
        state_dir=tmp_path, max_request_bytes=100, metrics_scan_seconds=0.01, _env_file=None
    )
    app = create_intake_app(settings)
    async with _http(app) as http:
        assert (await http.get("/healthz")).json() == {"status": "ok"}
        not_started = await http.get("/readyz")
        assert not_started.status_code == 503  # no Temporal client before the lifespan
        app.state.client = dev_env.client
        ready = await http.get("/readyz")
        assert ready.status_code == 200, ready.text
        assert ready.json()["checks"] == {"temporal": "ok", "database": "ok"}

        # An order nobody works on, flagged for attention: visibility counts it.
        attributes = TypedSearchAttributes(
            [
                SearchAttributePair(CROSSDOCK_STATE, "customs_hold"),
                SearchAttributePair(NEEDS_ATTENTION, True),
            ]
        )
        await dev_env.client.start_workflow(
            "OrderWorkflow",
            id=f"order-test-{uuid.uuid4()}",
            task_queue="nobody-polls",
            search_attributes=attributes,
        )
        before = _sample(
            "crossdock_intake_refusals_total", endpoint="/webhooks/stripe", status="413"
        )
        assert (await http.post("/webhooks/stripe", content=b"x" * 200)).status_code == 413
        await _eventually_counted(http)
    after = _sample("crossdock_intake_refusals_total", endpoint="/webhooks/stripe", status="413")
    assert after == before + 1


async def _eventually_counted(http: httpx.AsyncClient) -> None:
    """Visibility is eventually consistent: scrape until the order shows (a few tries)."""
    for _ in range(40):
        text = (await http.get("/metrics")).text
        if 'crossdock_cases{kind="order",state="customs_hold"} 1.0' in text:
            assert 'crossdock_sla_breaches{kind="order"} 1.0' in text
            assert 'crossdock_approvals_waiting{kind="order"} 0.0' in text
            return
        await asyncio.sleep(0.25)
    raise AssertionError("the order never showed in crossdock_cases")


async def test_worker_readiness_follows_its_polling(dev_env: WorkflowEnvironment) -> None:
    polling = False
    async with _http(worker_health_app(dev_env.client, lambda: polling)) as http:
        assert (await http.get("/healthz")).status_code == 200
        refused = await http.get("/readyz")
        assert refused.status_code == 503
        assert refused.json()["checks"]["worker"].endswith("not polling its task queue")
        polling = True
        assert (await http.get("/readyz")).status_code == 200
        assert "crossdock_partner_calls" in (await http.get("/metrics")).text


async def test_the_sandbox_health_checks_are_never_faulted() -> None:
    config = SandboxConfig(faults=load_profile("chaos"))
    async with _http(create_app(config)) as http:
        for _ in range(30):
            assert (await http.get("/healthz")).status_code == 200
        assert (await http.get("/readyz")).status_code == 200


async def test_partner_calls_are_counted_by_partner_and_kind() -> None:
    def throttled(request: httpx.Request) -> httpx.Response:
        return httpx.Response(429, headers={"Retry-After": "1"}, json={})

    before = _sample("crossdock_partner_errors_total", partner="stripe", kind="rate_limited")
    async with httpx.AsyncClient(transport=httpx.MockTransport(throttled)) as http:
        with pytest.raises(RateLimited):
            await send(http, "stripe", "GET", "http://stripe.test/v1/x", lambda body: (None, None))
    assert (
        _sample("crossdock_partner_errors_total", partner="stripe", kind="rate_limited")
        == before + 1
    )


@workflow.defn(sandboxed=False)
class Tick:
    @workflow.run
    async def run(self) -> str:
        await workflow.sleep(timedelta(milliseconds=1))
        return "done"


async def test_the_sdk_runtime_serves_schedule_to_start_and_sticky_cache_metrics(
    dev_env: WorkflowEnvironment, tmp_path: Path
) -> None:
    bind = f"127.0.0.1:{free_port()}"
    settings = Settings(
        state_dir=tmp_path,
        temporal_address=dev_env.client.service_client.config.target_host,
        temporal_metrics_bind=bind,
        _env_file=None,
    )
    client: Client = await connect(settings, metrics_runtime(settings))
    queue = f"metrics-{uuid.uuid4()}"
    async with Worker(client, task_queue=queue, workflows=[Tick]):
        await client.execute_workflow(Tick.run, id=queue, task_queue=queue)
        async with httpx.AsyncClient() as http:
            text = (await http.get(f"http://{bind}/metrics")).text
    for name in (
        "temporal_workflow_task_schedule_to_start_latency",
        "temporal_sticky_cache_hit",
        "temporal_workflow_task_execution_latency",
    ):
        assert name in text, name
