"""From a workflow's status to its read-model rows: pure functions, no database."""

from __future__ import annotations

from datetime import UTC, datetime

from crossdock.models.approval import ApprovalStatus
from crossdock.models.case import CaseStatus
from crossdock.models.dispute_status import DisputeStatus
from crossdock.models.intake import INTAKE_PRINCIPALS
from crossdock.models.lifecycle import TimelineEntry
from crossdock.models.order import Order
from crossdock.models.order_states import OrderState
from crossdock.models.order_status import OrderStatus
from crossdock.models.return_status import ReturnStatus
from crossdock.readmodel.tables import (
    RmCase,
    RmDecision,
    RmDispute,
    RmMessage,
    RmOrder,
    RmOrderLine,
    RmParcel,
    RmRefund,
    RmReturn,
    RmScan,
)
from crossdock.store import Base

BUYER_CANCEL_MARKS = tuple(f"cancelled by {p.id}" for p in INTAKE_PRINCIPALS.values())
SHIPPED = frozenset({OrderState.SHIPMENT_CONFIRMED})


def utc(value: datetime) -> datetime:
    """`value` in UTC (naive values, as SQLite returns them, are UTC already)."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def entered(timeline: list[TimelineEntry], state: str) -> datetime | None:
    """When the workflow first moved into `state`."""
    for entry in timeline:
        if entry.event == "moved" and entry.state == state:
            return utc(entry.at)
    return None


def _last_entered(timeline: list[TimelineEntry], state: str) -> datetime | None:
    found = [e.at for e in timeline if e.event == "moved" and e.state == state]
    return utc(found[-1]) if found else None


def _hold_seconds(timeline: list[TimelineEntry], now: datetime) -> tuple[datetime | None, float]:
    """When the current customs hold began (None: not held) and how long holds lasted."""
    since: datetime | None = None
    total = 0.0
    for entry in timeline:
        if entry.event != "moved":
            continue
        if entry.state == OrderState.CUSTOMS_HOLD and since is None:
            since = utc(entry.at)
        elif entry.state != OrderState.CUSTOMS_HOLD and since is not None:
            total += (utc(entry.at) - since).total_seconds()
            since = None
    if since is not None:
        total += max(0.0, (now - since).total_seconds())
    return since, total


def _waiting_since(approvals: list[ApprovalStatus]) -> datetime | None:
    pending = [utc(a.opened_at) for a in approvals if a.pending]
    return min(pending) if pending else None


def order_rows(
    workflow_id: str, seq: int, order: Order, status: OrderStatus, buyer_key: str
) -> list[Base]:
    """The head row and its children for one order."""
    parcels = _parcels(workflow_id, status)
    head = _order_head(workflow_id, seq, order, status, buyer_key, parcels)
    lines = _order_lines(workflow_id, order)
    scans = _scans(workflow_id, status.timeline)
    return [head, *lines, *parcels, *scans, *decision_rows(workflow_id, status.approvals)]


def _order_head(
    workflow_id: str,
    seq: int,
    order: Order,
    status: OrderStatus,
    buyer_key: str,
    parcels: list[RmParcel],
) -> RmOrder:
    """The order's own row: what it is, where it stands, its money and its waits."""
    timeline = status.timeline
    now = utc(timeline[-1].at) if timeline else utc(order.placed_at)
    hold_since, hold_seconds = _hold_seconds(timeline, now)
    cancelled_at = entered(timeline, OrderState.CANCELLED)
    buyer_cancel = status.reason.startswith(BUYER_CANCEL_MARKS)
    landed = status.landed_cost
    return RmOrder(
        workflow_id=workflow_id,
        seq=seq,
        channel=order.channel.value,
        channel_order_id=order.channel_order_id,
        buyer_key=buyer_key,
        state=status.state.value,
        currency=order.currency,
        total_minor=order.order_total.amount,
        shipping_minor=order.shipping.amount,
        items=sum(item.quantity for item in order.items),
        destination=order.ship_to.country,
        incoterm=order.incoterm.value,
        placed_at=utc(order.placed_at),
        ship_by=utc(order.ship_by),
        deliver_by=utc(order.deliver_by),
        shipped_at=entered(timeline, OrderState.SHIPMENT_CONFIRMED),
        delivered_at=_last_entered(timeline, OrderState.DELIVERED),
        cancelled_at=cancelled_at,
        cancelled_by=("buyer" if buyer_cancel else "seller") if cancelled_at else "",
        captured_minor=status.captured.amount if status.captured else 0,
        refunded_minor=status.refunded.amount if status.refunded else 0,
        duties_minor=landed.duties.amount if landed else 0,
        taxes_minor=landed.taxes.amount if landed else 0,
        valid_tracking=any(p.tracking_code and p.last_scan_at for p in parcels),
        needs_attention=status.needs_attention,
        on_hold=status.hold is not None,
        approval_waiting_since=_waiting_since(status.approvals),
        customs_hold_since=hold_since,
        customs_hold_seconds=hold_seconds,
        replacement_of=status.replacement_of,
        updated_at=now,
    )


def _order_lines(workflow_id: str, order: Order) -> list[Base]:
    return [
        RmOrderLine(
            workflow_id=workflow_id,
            line=index,
            sku=item.sku,
            title=item.title,
            quantity=item.quantity,
            unit_minor=item.unit_price.amount,
            currency=item.unit_price.currency,
        )
        for index, item in enumerate(order.items)
    ]


def _scans(workflow_id: str, timeline: list[TimelineEntry]) -> list[Base]:
    return [
        RmScan(workflow_id=workflow_id, entry=i, at=utc(e.at), detail=e.detail[:300])
        for i, e in enumerate(timeline)
        if e.event == "tracking_update"
    ]


def _parcels(workflow_id: str, status: OrderStatus) -> list[RmParcel]:
    if status.parcels:
        return [
            RmParcel(
                workflow_id=workflow_id,
                package=index + 1,
                carrier=p.label.carrier,
                tracking_code=p.label.tracking_code,
                tracking_status=p.tracking_status,
                outcome=p.outcome,
                last_scan_at=utc(p.last_scan_at) if p.last_scan_at else None,
            )
            for index, p in enumerate(status.parcels)
        ]
    if status.label is None:
        return []
    return [
        RmParcel(
            workflow_id=workflow_id,
            package=1,
            carrier=status.label.carrier,
            tracking_code=status.label.tracking_code,
            tracking_status=status.tracking_status,
            outcome="delivered" if status.tracking_status == "delivered" else "",
            last_scan_at=utc(status.last_scan_at) if status.last_scan_at else None,
        )
    ]


def decision_rows(workflow_id: str, approvals: list[ApprovalStatus]) -> list[Base]:
    """One row per approval (decision 0: the approval itself) and per decision on it."""
    rows: list[Base] = []
    for index, approval in enumerate(approvals):
        base = {
            "workflow_id": workflow_id,
            "approval": index,
            "kind": approval.request.key[:100],
            "state": approval.state.value,
            "opened_at": utc(approval.opened_at),
            "closed_at": utc(approval.closed_at) if approval.closed_at else None,
        }
        rows.append(RmDecision(decision=0, **base))
        for number, record in enumerate(approval.decisions, start=1):
            rows.append(
                RmDecision(
                    decision=number,
                    action=record.decision.action.value,
                    by=record.decision.by.id[:64],
                    role=record.decision.by.role.value,
                    at=utc(record.at),
                    **base,
                )
            )
    return rows


def return_rows(workflow_id: str, seq: int, status: ReturnStatus) -> list[Base]:
    request = status.request
    skus = ",".join(line.sku for line in request.lines)[:500]
    currency = status.refunded.currency if status.refunded else ""
    currency = currency or (status.approved_amount.currency if status.approved_amount else "")
    now = utc(status.timeline[-1].at) if status.timeline else utc(request.requested_at)
    head = RmReturn(
        workflow_id=workflow_id,
        seq=seq,
        channel=request.channel.value,
        rma=request.rma,
        order_workflow_id=request.order_id,
        reason=request.reason.value,
        state=status.state.value,
        option=status.option.value if status.option else "",
        requested_at=utc(request.requested_at),
        skus=skus,
        refunded_minor=status.refunded.amount if status.refunded else 0,
        currency=currency,
        updated_at=now,
    )
    refunds: list[Base] = [
        RmRefund(
            workflow_id=workflow_id,
            step=refund.step,
            order_workflow_id=request.order_id,
            reason=request.reason.value,
            skus=skus,
            state=refund.state.value,
            amount_minor=refund.amount.amount,
            currency=refund.amount.currency,
        )
        for refund in status.refunds
    ]
    return [head, *refunds, *decision_rows(workflow_id, status.approvals)]


def dispute_rows(workflow_id: str, seq: int, status: DisputeStatus) -> list[Base]:
    snapshot = status.snapshot
    opened = utc(status.timeline[0].at) if status.timeline else datetime.now(UTC)
    head = RmDispute(
        workflow_id=workflow_id,
        seq=seq,
        provider=status.provider.value,
        dispute_id=status.dispute_id,
        order_workflow_id=status.order_workflow_id or snapshot.order_workflow_id or "",
        reason=snapshot.reason.value,
        state=status.state.value,
        amount_minor=snapshot.amount.amount,
        currency=snapshot.amount.currency,
        opened_at=opened,
        due_by=utc(snapshot.due_by) if snapshot.due_by else None,
        decided_by=status.decided_by[:64],
        rounds=status.round,
        updated_at=utc(status.timeline[-1].at) if status.timeline else opened,
    )
    return [head, *decision_rows(workflow_id, status.approvals)]


def case_rows(workflow_id: str, seq: int, status: CaseStatus) -> list[Base]:
    opened = utc(status.thread[0].at) if status.thread else None
    now = utc(status.timeline[-1].at) if status.timeline else opened or datetime.now(UTC)
    head = RmCase(
        workflow_id=workflow_id,
        seq=seq,
        channel=status.channel.value,
        order_workflow_id=status.order_workflow_id,
        state=status.state.value,
        intents=",".join(i.value for i in status.intents)[:300],
        opened_at=opened,
        first_response_seconds=status.first_response_seconds,
        answered=len(status.answered_in_time),
        answered_late=sum(1 for on_time in status.answered_in_time if not on_time),
        missed=status.missed,
        updated_at=now,
    )
    messages: list[Base] = [
        RmMessage(
            workflow_id=workflow_id,
            line=index,
            at=utc(line.at),
            inbound=line.inbound,
            by="buyer" if line.inbound else line.by[:64],
            intent=line.intent.value if line.intent else "",
            language=line.language or "",
            length=len(line.text),
        )
        for index, line in enumerate(status.thread)
    ]
    return [head, *messages, *decision_rows(workflow_id, status.approvals)]
