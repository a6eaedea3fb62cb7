"""OpenTelemetry traces, off by default: on with `CROSSDOCK_OTLP_ENDPOINT`
(`http://otel-collector:4318/v1/traces`, OTLP over HTTP).

One trace follows a case across processes: the console's request span (FastAPI),
the workflow start, the workflow run and each activity (the Temporal SDK's
OpenTelemetry plugin carries the context in Temporal headers), the partner's HTTP
call (httpx) and the console's database queries (SQLAlchemy). The packages are the
`tracing` extra; nothing is imported while tracing is off.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from crossdock.config import Settings

if TYPE_CHECKING:
    from fastapi import FastAPI
    from opentelemetry.sdk.trace.export import SpanExporter
    from opentelemetry.trace import TracerProvider
    from sqlalchemy.engine import Engine


def tracing_on(settings: Settings) -> bool:
    return bool(settings.otlp_endpoint)


def start_tracing(
    settings: Settings, service: str, exporter: SpanExporter | None = None
) -> TracerProvider | None:
    """Make this process's tracer provider (exporting to the OTLP endpoint, or to
    `exporter` in tests) and trace every httpx request. None while tracing is off."""
    if not tracing_on(settings):
        return None
    from opentelemetry import trace
    from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor
    from temporalio.contrib.opentelemetry import create_tracer_provider

    # Replay-safe: a workflow replaying on another worker does not emit its spans again.
    provider = create_tracer_provider(resource=Resource.create({"service.name": service}))
    if exporter is not None:
        provider.add_span_processor(SimpleSpanProcessor(exporter))
    else:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        endpoint = settings.otlp_endpoint
        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=endpoint)))
    trace.set_tracer_provider(provider)
    HTTPXClientInstrumentor().instrument(tracer_provider=provider)
    return provider


def temporal_plugins(settings: Settings) -> list[Any]:
    """The client plugins tracing needs (workers built on the client inherit them)."""
    if not tracing_on(settings):
        return []
    from temporalio.contrib.opentelemetry import OpenTelemetryPlugin

    return [OpenTelemetryPlugin(add_temporal_spans=True)]


def instrument_app(app: FastAPI, engine: Engine, settings: Settings) -> None:
    """Trace the console's requests and database queries (when tracing is on)."""
    if not tracing_on(settings):
        return
    from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
    from opentelemetry.instrumentation.sqlalchemy import SQLAlchemyInstrumentor

    FastAPIInstrumentor.instrument_app(app)
    SQLAlchemyInstrumentor().instrument(engine=engine)
