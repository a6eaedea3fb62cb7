"""Carrier events filed on an order: under their parcel (multi-package orders,
`order_packages.record`) or on the order's one parcel.

The carrier's webhook can beat the `buy_label` activity's answer: the call was slow or
retried, or the signal reached the same workflow task as the result, and signals are
applied first. An event for a tracking code the order has no label for yet is kept
(`order_packages.keep_early`, bounded) and filed once a label with that code is recorded
(`adopt`, and `order_packages.adopt_early_events` for several parcels). Before the patch
such events were filed as a single-parcel order's (a multi-package order then lost them
when its parcels were recorded) or dropped as an earlier parcel's (a reshipment).
"""

from __future__ import annotations

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from crossdock.models.order_status import TRACKING_EXCEPTIONS, TRACKING_PROGRESS, OrderStatus
    from crossdock.models.order_steps import TrackingUpdate
    from workflows import order_packages, tracking_memory
    from workflows.order_context import OrderContext

EARLY_TRACKING = "early-tracking"


def receive(ctx: OrderContext, update: TrackingUpdate) -> None:
    """File one carrier event; duplicates, stale (out-of-order) events and events about
    an earlier parcel of this order change nothing."""
    status = ctx.status
    if status.parcels:
        if order_packages.record(status, update, workflow.now()):
            ctx.note("tracking_update", f"{update.tracking_code} {update.status}")
        return
    if _unlabelled(status, update) and workflow.patched(EARLY_TRACKING):
        if order_packages.keep_early(status, update):
            ctx.note("tracking_early", f"{update.tracking_code} {update.status}: no label yet")
        return
    label = status.label
    if label is not None and update.tracking_code != label.tracking_code:
        return
    _file(ctx, update)


def adopt(ctx: OrderContext) -> None:
    """After the order's one label is recorded: file the events kept for its code."""
    status, label = ctx.status, ctx.status.label
    # Only the patched handler keeps events on a single-parcel order.
    if label is None or not status.early_tracking or not workflow.patched(EARLY_TRACKING):
        return
    mine = [u for u in status.early_tracking if u.tracking_code == label.tracking_code]
    status.early_tracking = [u for u in status.early_tracking if u not in mine]
    for update in mine:
        _file(ctx, update)


def _unlabelled(status: OrderStatus, update: TrackingUpdate) -> bool:
    """No label of this order (current or earlier) has the event's tracking code."""
    labels = [*status.previous_labels, *([status.label] if status.label else [])]
    return all(label.tracking_code != update.tracking_code for label in labels)


def _file(ctx: OrderContext, update: TrackingUpdate) -> None:
    """The single parcel's event: remembered, and progress only moves forward."""
    status = ctx.status
    if update.event_id in status.tracking_events_seen:
        return
    tracking_memory.remember(status.tracking_events_seen, update.event_id)
    status.last_scan_at = workflow.now()
    if update.status not in TRACKING_PROGRESS:
        if update.status in TRACKING_EXCEPTIONS:
            status.tracking_exception = update.status
            status.tracking_detail = update.description
        ctx.note("tracking_update", f"{update.status}: {update.description}")
        return
    if TRACKING_PROGRESS.index(update.status) > status.tracking_rank():
        status.tracking_status = update.status
        ctx.note("tracking_update", f"{update.status}: {update.description}")
