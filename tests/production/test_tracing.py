"""With tracing on, one trace follows a request from the intake endpoint through the
workflow start, the workflow run and its activity to the partner's HTTP endpoint
(in-memory exporter, real dev server, real HTTP)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor
from opentelemetry.instrumentation.sqlalchemy import SQLAlchemyInstrumentor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from sqlalchemy import create_engine
from temporalio import activity, workflow
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from crossdock.binaries import installed_binary
from crossdock.config import Settings
from crossdock.observability.tracing import instrument_app, start_tracing, temporal_plugins
from crossdock.temporal import connect
from tests.servers import serve


@activity.defn
async def ping_partner(url: str) -> int:
    async with httpx.AsyncClient() as http:
        return (await http.get(url)).status_code


@workflow.defn(sandboxed=False)
class TraceProbe:
    @workflow.run
    async def run(self, url: str) -> int:
        return await workflow.execute_activity(
            ping_partner, url, start_to_close_timeout=timedelta(seconds=10)
        )


@pytest.fixture
def exporter() -> Iterator[InMemorySpanExporter]:
    spans = InMemorySpanExporter()
    yield spans
    HTTPXClientInstrumentor().uninstrument()
    SQLAlchemyInstrumentor().uninstrument()


def test_tracing_is_off_by_default(tmp_path: Path) -> None:
    settings = Settings(state_dir=tmp_path, _env_file=None)
    assert start_tracing(settings, "crossdock-test") is None
    assert temporal_plugins(settings) == []


async def test_one_trace_from_intake_to_the_partner_call(
    exporter: InMemorySpanExporter, tmp_path: Path
) -> None:
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=installed_binary("temporal")
    )
    settings = Settings(
        state_dir=tmp_path,
        temporal_address=env.client.service_client.config.target_host,
        otlp_endpoint="http://collector.invalid:4318/v1/traces",  # on; spans go to `exporter`
        _env_file=None,
    )
    assert start_tracing(settings, "crossdock-test", exporter) is not None
    client: Client = await connect(settings)
    queue = f"trace-{uuid.uuid4()}"

    partner = FastAPI()

    @partner.get("/v1/ping")
    async def ping() -> dict[str, str]:
        return {"ok": "yes"}

    intake = FastAPI()

    @intake.post("/start")
    async def start() -> dict[str, int]:
        status = await client.execute_workflow(
            TraceProbe.run, f"{partner_url}/v1/ping", id=queue, task_queue=queue
        )
        return {"status": status}

    for app in (partner, intake):
        instrument_app(app, create_engine("sqlite://"), settings)
    try:
        with serve(partner) as partner_url, serve(intake) as intake_url:
            async with Worker(
                client, task_queue=queue, workflows=[TraceProbe], activities=[ping_partner]
            ):
                async with httpx.AsyncClient() as http:
                    answer = await http.post(f"{intake_url}/start")
                    assert answer.json() == {"status": 200}
    finally:
        for app in (partner, intake):
            FastAPIInstrumentor.uninstrument_app(app)
        await env.shutdown()

    spans = exporter.get_finished_spans()
    # Only the request's own spans count: a server's readiness probes and any client
    # call another test left instrumented start traces of their own.
    (served,) = [s for s in spans if s.name == "POST /start"]
    in_trace = {s.name for s in spans if s.context.trace_id == served.context.trace_id}
    for expected in (
        "StartWorkflow:TraceProbe",
        "RunWorkflow:TraceProbe",
        "StartActivity:ping_partner",
        "RunActivity:ping_partner",
        "GET /v1/ping",
    ):
        assert expected in in_trace, (expected, sorted(in_trace))
