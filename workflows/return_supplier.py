"""The supplier side of a return: goods a dropship supplier shipped go back to it, so
after inspection one supplier RMA (a vendor credit request) is raised per supplier.

Own stock raises nothing, nor do wrong items (what came back is not the supplier's).
The buyer's refund never waits on a supplier: a refusal, a request the supplier
rejects or a supplier unreachable for `SUPPLIER_GIVE_UP` is recorded and flagged
(NeedsAttention) for a person to take up with the supplier, and the return goes on.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from activities.suppliers import SupplierActivities
    from crossdock.models.suppliers import SupplierRmaInput, SupplierRmaStatus
    from crossdock.policies.suppliers import SupplierBatch, supplier_batches
    from workflows.options import PARTNER_HEARTBEAT, PARTNER_RETRY, PARTNER_TIMEOUT
    from workflows.return_context import ReturnContext

# Returns started before supplier RMAs existed replay without them.
PATCH = "supplier-rma"
SUPPLIER_GIVE_UP = timedelta(hours=1)


async def raise_supplier_rmas(ctx: ReturnContext) -> None:
    """One RMA per supplier for the inspected lines it shipped; nothing for own stock."""
    inspection = ctx.status.inspection
    if inspection is None:
        return
    batches = supplier_batches(ctx.request.lines, inspection.lines)
    if not batches or not workflow.patched(PATCH):
        return
    for batch in batches:
        await _raise(ctx, batch)


async def _raise(ctx: ReturnContext, batch: SupplierBatch) -> None:
    request = SupplierRmaInput(
        supplier_id=batch.supplier_id,
        order_reference=ctx.workflow_id,
        reason=ctx.request.reason,
        lines=batch.lines,
        delivered_at=ctx.order_snapshot.delivered_at,
        # One RMA per supplier per return, whatever retries or replays happen.
        idempotency_key=ctx.key(f"supplier-rma-{batch.supplier_id}"),
    )
    try:
        rma = await workflow.execute_activity_method(
            SupplierActivities.request_supplier_rma,
            request,
            start_to_close_timeout=PARTNER_TIMEOUT,
            heartbeat_timeout=PARTNER_HEARTBEAT,
            retry_policy=PARTNER_RETRY,
            # A supplier down for long must not hold the buyer's refund up.
            schedule_to_close_timeout=SUPPLIER_GIVE_UP,
        )
    except ActivityError as err:
        why = f"supplier RMA for {batch.supplier_id} not raised: {err.cause or err}"
        ctx.note("supplier_rma_failed", why)
        ctx.attention(True, why)
        return
    ctx.status.supplier_rmas.append(rma)
    lines = ", ".join(f"{line.quantity}x {line.sku} {line.condition}" for line in batch.lines)
    ctx.note(
        "supplier_rma_requested",
        f"{rma.supplier_id} {rma.rma_id} {rma.status}, credit {rma.credit}: {lines}",
    )
    if rma.status is SupplierRmaStatus.REFUSED:
        ctx.attention(
            True, f"supplier {rma.supplier_id} refused RMA {rma.rma_id}: {rma.refusal_reason}"
        )
