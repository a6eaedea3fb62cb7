"""The case gauges of crossdock/observability/metrics.py, read from Temporal's
visibility: cases by kind and state, approvals waiting and the oldest one's age, SLA
breaches (running cases flagged NeedsAttention).

Counting through visibility rather than in the worker counts each case once, whichever
replica runs it, and survives restarts. A scrape refreshes them when the last scan is
older than `metrics_scan_seconds`, so Prometheus scraping every 15 s costs one scan per
interval however many replicas of the console it scrapes.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime
from typing import Any

from temporalio.client import Client

from crossdock.console.kinds import SPECS, CaseKind
from crossdock.console.reads import inbox
from crossdock.models.dispute_states import DISPUTE_LIFECYCLE
from crossdock.models.lifecycle import Lifecycle
from crossdock.models.order_states import ORDER_LIFECYCLE
from crossdock.models.return_states import RETURN_LIFECYCLE
from crossdock.observability.metrics import (
    APPROVAL_OLDEST_SECONDS,
    APPROVALS_WAITING,
    CASES,
    SCAN_SECONDS,
    SLA_BREACHES,
)

LIFECYCLES: dict[CaseKind, Lifecycle[Any]] = {
    CaseKind.ORDER: ORDER_LIFECYCLE,
    CaseKind.RETURN: RETURN_LIFECYCLE,
    CaseKind.DISPUTE: DISPUTE_LIFECYCLE,
}
# Visibility answers counts in parallel; a few at a time keeps the frontend calm.
COUNT_CONCURRENCY = 8


class CaseGauges:
    """Refreshes the gauges from visibility, at most once per `every_seconds`."""

    def __init__(self, every_seconds: float) -> None:
        self._every = every_seconds
        self._scanned_at = float("-inf")
        self._lock = asyncio.Lock()

    async def refresh_if_stale(self, client: Client) -> None:
        """Scan unless a scan finished within the interval (concurrent scrapes share one)."""
        async with self._lock:
            if time.monotonic() - self._scanned_at < self._every:
                return
            started = time.monotonic()
            await scan(client)
            self._scanned_at = time.monotonic()
            SCAN_SECONDS.set(self._scanned_at - started)


async def scan(client: Client) -> None:
    """Set every case gauge from one pass over visibility."""
    gate = asyncio.Semaphore(COUNT_CONCURRENCY)

    async def count(query: str) -> int:
        async with gate:
            return (await client.count_workflows(query)).count

    by_state = {
        (
            kind,
            state,
        ): f'WorkflowType = "{SPECS[kind].workflow_type}" AND CrossdockState = "{state}"'
        for kind, lifecycle in LIFECYCLES.items()
        for state in states(lifecycle)
    }
    attention = {
        kind: f'{_of_type(kind)} AND NeedsAttention = true AND ExecutionStatus = "Running"'
        for kind in LIFECYCLES
    }
    counts = await asyncio.gather(*(count(q) for q in [*by_state.values(), *attention.values()]))
    for (kind, state), value in zip(by_state, counts, strict=False):
        CASES.labels(kind, state).set(value)
    for kind, value in zip(attention, counts[len(by_state) :], strict=True):
        SLA_BREACHES.labels(kind).set(value)
    await _approvals(client)


def _of_type(kind: CaseKind) -> str:
    return f'WorkflowType = "{SPECS[kind].workflow_type}"'


def states(lifecycle: Lifecycle[Any]) -> set[str]:
    """Every state of `lifecycle`, the terminal ones (absent from the table) too."""
    return {str(s) for s in lifecycle.table} | {
        str(s) for targets in lifecycle.table.values() for s in targets
    }


async def _approvals(client: Client) -> None:
    now = datetime.now(UTC)
    waiting = {kind: 0 for kind in CaseKind}
    oldest = {kind: 0.0 for kind in CaseKind}
    for item in await inbox(client, {}):
        if item.approval is None:
            continue
        waiting[item.kind] += 1
        age = (now - item.approval.opened_at).total_seconds()
        oldest[item.kind] = max(oldest[item.kind], age)
    for kind in CaseKind:
        APPROVALS_WAITING.labels(kind).set(waiting[kind])
        APPROVAL_OLDEST_SECONDS.labels(kind).set(oldest[kind])
