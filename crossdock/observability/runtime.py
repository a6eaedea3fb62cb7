"""The Temporal SDK's own metrics (worker task latencies, schedule-to-start, sticky
cache hits, poll results), served by its Rust core in Prometheus format.

A Runtime is process-wide: every client connected with it reports through it, so the
worker connects with the one made here before it builds its `Worker`.
"""

from __future__ import annotations

from temporalio.runtime import PrometheusConfig, Runtime, TelemetryConfig

from crossdock.config import Settings


def metrics_runtime(settings: Settings) -> Runtime | None:
    """A runtime serving Prometheus metrics on `temporal_metrics_bind`; None when unset
    (the SDK's default runtime, no metrics endpoint)."""
    if not settings.temporal_metrics_bind:
        return None
    return Runtime(
        telemetry=TelemetryConfig(
            metrics=PrometheusConfig(bind_address=settings.temporal_metrics_bind),
            global_tags={"service": "crossdock-worker"},
        )
    )
