"""What the console reads from Temporal: the approvals inbox, filtered case lists and one
case's detail. Lists come from visibility (our search attributes); what a person needs to
decide comes from each workflow's `status` query, so it is as fresh as the workflow."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Collection, Mapping
from datetime import UTC, date, datetime, time
from typing import Any

import structlog
from pydantic import BaseModel
from temporalio.client import Client, WorkflowExecution
from temporalio.service import RPCError, RPCStatusCode

from crossdock.audit.log import AuditLog
from crossdock.audit.timeline import TimelineEntry as AuditLine
from crossdock.audit.timeline import workflow_timeline
from crossdock.console.errors import bad_request, not_found
from crossdock.console.kinds import BY_TYPE, CaseKind, KindSpec, spec_for_id
from crossdock.console.order_summary import OrderSummary, order_input, summary_of
from crossdock.console.stuck import StuckPolicy, stuck_report, with_task_error
from crossdock.console.views import (
    CaseDetail,
    CaseSummary,
    InboxItem,
    PendingApproval,
    StuckReport,
)
from crossdock.identity.scope import Scope, visibility_clause
from crossdock.models.approval import ApprovalStatus
from crossdock.models.dispute_states import DisputeState
from crossdock.models.order import Channel
from crossdock.models.order_states import OrderState
from crossdock.models.return_states import ReturnState
from workflows.search import (
    AWAITING_APPROVAL,
    CROSSDOCK_STATE,
    DESTINATION,
    MARKETPLACE,
    NEEDS_ATTENTION,
)

log = structlog.get_logger(__name__)

INBOX_QUERY = 'AwaitingApproval = true AND ExecutionStatus = "Running"'
# Status queries in flight at once when filling the inbox.
QUERY_CONCURRENCY = 16
MAX_LIMIT = 500
SAFE_ID = re.compile(r"[A-Za-z0-9._:@-]+")
STATES: dict[str, frozenset[str]] = {
    "OrderWorkflow": frozenset(OrderState),
    "ReturnWorkflow": frozenset(ReturnState),
    "DisputeWorkflow": frozenset(DisputeState),
}


class CaseFilter(BaseModel):
    """Filters of a case list; every value is checked before it reaches a query."""

    state: str = ""
    marketplace: str = ""
    destination: str = ""  # ship-to country, e.g. "FR" (orders)
    needs_attention: bool | None = None
    # Only cases stuck (True) or not stuck (False) as the console's last scan found them.
    stuck: bool | None = None
    since: date | None = None
    until: date | None = None
    limit: int = 50

    def query(self, spec: KindSpec, stuck_ids: Collection[str] = ()) -> str:
        """The visibility query, or a 400 naming the filter that is wrong; with `stuck`
        on, only the `stuck_ids` (which must not be empty: no case matches then)."""
        parts = [f'WorkflowType = "{spec.workflow_type}"']
        if self.stuck:
            # Ids come from Temporal's own listing; anything unusual is left out, not quoted.
            quoted = ", ".join(f'"{i}"' for i in sorted(stuck_ids) if SAFE_ID.fullmatch(i))
            parts.append(f"WorkflowId IN ({quoted})" if quoted else 'WorkflowId = ""')
        if self.state:
            known = STATES[spec.workflow_type]
            if self.state not in known:
                raise bad_request(
                    f"state {self.state!r} is not a {spec.kind} state; "
                    f"expected one of {', '.join(sorted(known))}"
                )
            parts.append(f'CrossdockState = "{self.state}"')
        if self.marketplace:
            channels = [channel.value for channel in Channel]
            if self.marketplace not in channels:
                raise bad_request(
                    f"marketplace {self.marketplace!r} is unknown; expected one of "
                    f"{', '.join(channels)}"
                )
            parts.append(f'Marketplace = "{self.marketplace}"')
        if self.destination:
            if not re.fullmatch(r"[A-Z]{2}", self.destination):
                raise bad_request(
                    f"destination {self.destination!r} is not an ISO country code such as 'FR'"
                )
            parts.append(f'Destination = "{self.destination}"')
        if self.needs_attention is not None:
            parts.append(f"NeedsAttention = {str(self.needs_attention).lower()}")
        if self.since is not None:
            parts.append(f'StartTime >= "{_day_start(self.since)}"')
        if self.until is not None:
            parts.append(f'StartTime < "{_day_start(self.until, next_day=True)}"')
        if not 1 <= self.limit <= MAX_LIMIT:
            raise bad_request(f"limit {self.limit} must be between 1 and {MAX_LIMIT}")
        return " AND ".join(parts)


async def inbox(
    client: Client, stuck: Mapping[str, StuckReport], scope: Scope = None
) -> list[InboxItem]:
    """Every running workflow waiting for a person: the stuck ones first (the oldest
    failure first), then the pending approvals, the nearest deadline first. With a
    `scope`, visibility lists its cases only; the stuck reports are the caller's to
    filter (`in_scope` with each item's marketplace and destination)."""
    query = INBOX_QUERY + visibility_clause(scope)
    executions = [e async for e in client.list_workflows(query)]
    gate = asyncio.Semaphore(QUERY_CONCURRENCY)

    async def item(execution: WorkflowExecution) -> InboxItem | None:
        spec = BY_TYPE.get(execution.workflow_type)
        if spec is None:
            return None
        async with gate:
            status = await _status(client, spec, execution.id)
        pending = _pending(status)
        if status is None or pending is None:
            return None  # decided between the listing and the query
        summary = _summary(spec, execution)
        return InboxItem(
            workflow_id=execution.id,
            kind=spec.kind,
            state=str(getattr(status, "state", summary.state)),
            marketplace=summary.marketplace,
            destination=summary.destination,
            approval=PendingApproval.of(pending),
            stuck=stuck.get(execution.id),
        )

    items = [i for i in await asyncio.gather(*(item(e) for e in executions)) if i]
    waiting = {i.workflow_id for i in items}
    items += [
        InboxItem(
            workflow_id=report.workflow_id,
            kind=report.kind,
            state=report.state,
            marketplace=report.marketplace,
            destination=report.destination,
            stuck=report,
        )
        for report in stuck.values()
        if report.workflow_id not in waiting
    ]
    return sorted(items, key=_inbox_order)


def _inbox_order(item: InboxItem) -> tuple[int, datetime, str]:
    if item.stuck is not None:
        return (0, item.stuck.since or item.stuck.next_attempt_at or _EPOCH, item.workflow_id)
    assert item.approval is not None
    return (1, item.approval.deadline, item.workflow_id)


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


async def cases(
    client: Client,
    spec: KindSpec,
    filters: CaseFilter,
    stuck: Mapping[str, StuckReport],
    scope: Scope = None,
) -> list[CaseSummary]:
    """Cases of one kind matching `filters` (and in `scope`: the visibility query says
    so, so `limit` counts in-scope rows), newest first (visibility's order), each marked
    with its stuck report if the last scan found one."""
    stuck_ids = [i for i, report in stuck.items() if report.kind is spec.kind]
    if filters.stuck and not stuck_ids:
        return []
    query = filters.query(spec, stuck_ids) + visibility_clause(scope)
    found = []
    async for execution in client.list_workflows(query, limit=filters.limit):
        summary = _summary(spec, execution)
        summary.stuck = stuck.get(execution.id)
        if filters.stuck is False and summary.stuck is not None:
            continue
        found.append(summary)
    return found


async def detail(
    client: Client, audit: AuditLog, workflow_id: str, policy: StuckPolicy
) -> CaseDetail:
    """One case: its live status, pending approval, timeline, decision attempts, and
    whether it is stuck (from this very description, not the scan's last look)."""
    spec = _spec(workflow_id)
    handle = client.get_workflow_handle(workflow_id)
    try:
        description = await handle.describe()
    except RPCError as err:
        if err.status is RPCStatusCode.NOT_FOUND:
            raise not_found(f"no workflow {workflow_id!r}") from None
        raise
    status = await _status(client, spec, workflow_id)
    pending = _pending(status)
    attempts = await asyncio.to_thread(audit.entries, workflow_id)
    summary = _summary(spec, description)
    raw = description.raw_description
    where = {"marketplace": summary.marketplace, "destination": summary.destination}
    report = stuck_report(workflow_id, spec.kind, raw, policy, summary.state, **where)
    summary.stuck = await with_task_error(client, report) if report else None
    return CaseDetail(
        summary=summary,
        pending=PendingApproval.of(pending) if pending else None,
        actions=list(spec.updates),
        timeline=list(getattr(status, "timeline", [])),
        attempts=attempts,
        status=status.model_dump(mode="json", exclude={"timeline"}) if status else {},
        stuck=summary.stuck,
        order=await _order_summary(client, spec, workflow_id, status),
    )


async def _order_summary(
    client: Client, spec: KindSpec, workflow_id: str, status: Any
) -> OrderSummary | None:
    if spec.kind is not CaseKind.ORDER:
        return None
    return summary_of(await order_input(client, workflow_id), status)


def _spec(workflow_id: str) -> KindSpec:
    spec = spec_for_id(workflow_id)
    if spec is None:
        raise not_found(
            f"{workflow_id!r} is not an order, return or dispute id "
            "(expected order-..., return-... or dispute-...)"
        )
    return spec


async def _status(client: Client, spec: KindSpec, workflow_id: str) -> Any:
    handle = client.get_workflow_handle(workflow_id)
    try:
        return await handle.query(spec.status_query)
    except Exception as err:  # closed and not replayable, no worker, ...: show what we can
        log.warning("console_status_unavailable", workflow_id=workflow_id, error=str(err))
        return None


def _pending(status: Any) -> ApprovalStatus | None:
    approvals: list[ApprovalStatus] = getattr(status, "approvals", [])
    last = approvals[-1] if approvals else None
    return last if last is not None and last.pending else None


def _summary(spec: KindSpec, execution: WorkflowExecution) -> CaseSummary:
    attributes = execution.typed_search_attributes
    status = execution.status
    return CaseSummary(
        workflow_id=execution.id,
        kind=spec.kind,
        state=attributes.get(CROSSDOCK_STATE) or "",
        marketplace=attributes.get(MARKETPLACE) or "",
        destination=attributes.get(DESTINATION) or "",
        awaiting_approval=bool(attributes.get(AWAITING_APPROVAL)),
        needs_attention=bool(attributes.get(NEEDS_ATTENTION)),
        execution=status.name.title() if status is not None else "",
        started_at=execution.start_time,
        closed_at=execution.close_time,
    )


def _day_start(day: date, next_day: bool = False) -> str:
    start = datetime.combine(day, time.min)
    if next_day:
        start = datetime.fromordinal(start.toordinal() + 1)
    return start.isoformat() + "Z"


async def audit_timeline(client: Client, audit: AuditLog, workflow_id: str) -> list[AuditLine]:
    """The workflow's Temporal history as a human timeline (payloads decoded), with the
    attempts it refused from the audit log."""
    _spec(workflow_id)
    attempts = await asyncio.to_thread(audit.entries, workflow_id)
    try:
        return await workflow_timeline(client, workflow_id, attempts)
    except RPCError as err:
        if err.status is RPCStatusCode.NOT_FOUND:
            raise not_found(f"no workflow {workflow_id!r}") from None
        raise
