"""Crossdock's own Prometheus metrics (the Temporal SDK's are served by its runtime,
crossdock/observability/runtime.py). Labels hold kinds, states, partners and
outcomes: bounded sets, never ids or buyer data.

Counters move where things happen (a partner call, an intake refusal); the gauges of
cases by state, approvals waiting and SLA breaches are read from Temporal's visibility
by the console process (crossdock/console/metrics_scan.py), so they count every case
whichever worker runs it.
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

PARTNER_CALLS = Counter(
    "crossdock_partner_calls",
    "Partner API requests by partner and outcome (ok, rate_limited, unavailable, rejected)",
    ["partner", "outcome"],
)
PARTNER_ERRORS = Counter(
    "crossdock_partner_errors",
    "Partner API requests that failed, by partner and kind "
    "(rate_limited, unavailable, rejected, timeout, unreachable)",
    ["partner", "kind"],
)
PARTNER_SECONDS = Histogram(
    "crossdock_partner_call_seconds",
    "Partner API request latency by partner",
    ["partner"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
INTAKE_REFUSALS = Counter(
    "crossdock_intake_refusals",
    "Webhooks and checkouts intake refused, by endpoint and HTTP status",
    ["endpoint", "status"],
)
CASES = Gauge(
    "crossdock_cases",
    "Cases by kind (order, return, dispute) and lifecycle state; closed cases count in "
    "their final state (refunds and disputes by outcome) while visibility retains them",
    ["kind", "state"],
)
APPROVALS_WAITING = Gauge(
    "crossdock_approvals_waiting", "Running cases waiting for a person's decision", ["kind"]
)
APPROVAL_OLDEST_SECONDS = Gauge(
    "crossdock_approval_oldest_age_seconds",
    "Age of the oldest decision waiting, by kind (0: none waiting)",
    ["kind"],
)
SLA_BREACHES = Gauge(
    "crossdock_sla_breaches",
    "Running cases flagged NeedsAttention: an approval reminded or escalated, a parcel "
    "late or in exception, a case stuck",
    ["kind"],
)
SCAN_SECONDS = Gauge(
    "crossdock_metrics_scan_seconds", "How long the last visibility scan for the gauges took"
)
