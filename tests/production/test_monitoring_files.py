"""The Grafana dashboard and alert rules in deploy/ query metrics that exist: Crossdock's
own (crossdock/observability/metrics.py) or the Temporal SDK's."""

from __future__ import annotations

import json
import re
from pathlib import Path

import yaml
from prometheus_client.metrics import MetricWrapperBase

from crossdock.observability import metrics

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
# Metrics the SDK's core emits (docs.temporal.io, "SDK metrics"); the first three scraped
# by tests/production/test_health_and_metrics.py, failures only when they happen.
SDK_METRICS = {
    "temporal_workflow_task_schedule_to_start_latency",
    "temporal_workflow_task_execution_latency",
    "temporal_sticky_cache_hit",
    "temporal_sticky_cache_miss",
    "temporal_activity_schedule_to_start_latency",
    "temporal_worker_task_slots_available",
    "temporal_workflow_task_execution_failed",
    "temporal_long_request_failure",
}
SUFFIXES = re.compile(r"_(bucket|total|count|sum)$")


def crossdock_metrics() -> set[str]:
    return {
        family.name
        for value in vars(metrics).values()
        if isinstance(value, MetricWrapperBase)
        for family in value.describe()
    }


def names(expr: str) -> set[str]:
    return {SUFFIXES.sub("", n) for n in re.findall(r"\b(?:crossdock|temporal)_[a-z_]+", expr)}


def check(expr: str) -> None:
    for name in names(expr):
        assert name in crossdock_metrics() | SDK_METRICS, f"{name} in {expr!r}"


def test_every_alert_rule_queries_a_known_metric_and_says_why() -> None:
    rules = yaml.safe_load((DEPLOY / "prometheus" / "alerts.yml").read_text())
    alerts = [rule for group in rules["groups"] for rule in group["rules"]]
    assert {"WorkflowTaskScheduleToStartHigh", "PartnerErrorRateHigh"} <= {
        a["alert"] for a in alerts
    }
    for alert in alerts:
        check(alert["expr"])
        assert alert["annotations"]["summary"] and alert["labels"]["severity"]
    schedule_to_start = next(a for a in alerts if a["alert"] == "WorkflowTaskScheduleToStartHigh")
    assert "histogram_quantile(0.99" in schedule_to_start["expr"]
    assert schedule_to_start["expr"].strip().endswith("> 200")  # milliseconds


def test_the_dashboard_shows_every_crossdock_metric() -> None:
    dashboard = json.loads((DEPLOY / "grafana" / "crossdock.json").read_text())
    shown: set[str] = set()
    for panel in dashboard["panels"]:
        for target in panel["targets"]:
            check(target["expr"])
            shown |= names(target["expr"])
    assert crossdock_metrics() - {"crossdock_metrics_scan_seconds"} <= shown
