"""Measured customer service: first response time, the share answered within the
channel's deadline, messages by intent and language, open cases by age. Read from the
case workflows' `status` queries (the read model may take these over when it lands)."""

from __future__ import annotations

import statistics
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from temporalio.client import Client
from temporalio.service import RPCError

from crossdock.models.case import CaseState, CaseStatus

CASE_TYPE = "BuyerCaseWorkflow"
QUERY_TIMEOUT = timedelta(seconds=5)
# Open cases by how long the buyer has waited for us.
AGE_BUCKETS: tuple[tuple[str, float], ...] = (
    ("< 1 h", 3600),
    ("1-8 h", 8 * 3600),
    ("8-24 h", 24 * 3600),
    ("> 24 h", float("inf")),
)


@dataclass(frozen=True)
class ServiceFigures:
    cases: int
    answered: int
    first_response_median_s: float | None
    first_response_p90_s: float | None
    in_time_share: float | None
    missed: int
    by_intent: dict[str, int] = field(default_factory=dict)
    by_language: dict[str, int] = field(default_factory=dict)
    # Per intent: share of its answered messages answered in time.
    in_time_by_intent: dict[str, float] = field(default_factory=dict)
    open_by_age: dict[str, int] = field(default_factory=dict)
    auto_answered: int = 0


def figures(statuses: list[CaseStatus], now: datetime) -> ServiceFigures:
    """The service figures over `statuses` (cases), at `now`."""
    firsts = sorted(
        s.first_response_seconds for s in statuses if s.first_response_seconds is not None
    )
    in_time = [ok for s in statuses for ok in s.answered_in_time]
    by_intent: Counter[str] = Counter()
    by_language: Counter[str] = Counter()
    intent_time: dict[str, list[bool]] = {}
    for status in statuses:
        inbound = [line for line in status.thread if line.inbound]
        for line in inbound:
            by_intent[line.intent or "other"] += 1
            by_language[line.language or status.language] += 1
        for intent, ok in zip(status.answered_intents, status.answered_in_time, strict=False):
            intent_time.setdefault(intent, []).append(ok)
    open_by_age = dict.fromkeys((name for name, _ in AGE_BUCKETS), 0)
    for status in statuses:
        if status.state is CaseState.AWAITING_US and status.waiting_since is not None:
            waited = (now - status.waiting_since).total_seconds()
            bucket = next(name for name, upper in AGE_BUCKETS if waited < upper)
            open_by_age[bucket] += 1
    return ServiceFigures(
        cases=len(statuses),
        answered=sum(1 for s in statuses if s.first_response_seconds is not None),
        first_response_median_s=statistics.median(firsts) if firsts else None,
        first_response_p90_s=_p90(firsts),
        in_time_share=sum(in_time) / len(in_time) if in_time else None,
        missed=sum(s.missed for s in statuses),
        by_intent=dict(by_intent.most_common()),
        by_language=dict(by_language.most_common()),
        in_time_by_intent={k: sum(v) / len(v) for k, v in sorted(intent_time.items())},
        open_by_age=open_by_age,
        auto_answered=sum(1 for s in statuses for line in s.thread if line.by == "auto"),
    )


def _p90(values: list[float]) -> float | None:
    if not values:
        return None
    return values[min(len(values) - 1, round(0.9 * (len(values) - 1)))]


async def case_statuses(
    client: Client, limit: int = 500, only_open: bool = False
) -> list[tuple[str, CaseStatus]]:
    """(workflow id, status) of recent cases, newest first."""
    query = f'WorkflowType="{CASE_TYPE}"'
    if only_open:
        query += ' AND ExecutionStatus="Running"'
    found: list[tuple[str, CaseStatus]] = []
    async for execution in client.list_workflows(query, limit=limit):
        handle = client.get_workflow_handle(execution.id)
        try:
            status = await handle.query("status", result_type=CaseStatus, rpc_timeout=QUERY_TIMEOUT)
        except RPCError:
            continue  # its worker is busy or gone: the figures leave it out, not fail
        found.append((execution.id, status))
    return found


def seconds_text(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"
