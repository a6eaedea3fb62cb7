"""After shipment: follow the parcel to delivery and handle what carriers do to parcels —
late (buyer told), lost (claim filed, operator reships or refunds), undeliverable address
(operator corrects it and reships, or refunds), returned to sender (refund per policy)."""

from __future__ import annotations

from datetime import timedelta
from enum import StrEnum
from functools import partial

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.carrier import CarrierActivities
    from activities.notify import NotifyActivities
    from crossdock.models.approval import ApprovalRequest, DecisionAction, Role
    from crossdock.models.carrier_steps import FileClaimInput
    from crossdock.models.notify import NotificationTemplate
    from crossdock.models.order_states import OrderState
    from crossdock.models.order_status import ParcelStatus
    from crossdock.models.shipment import ClaimKind
    from crossdock.money import Money
    from workflows import order_packages
    from workflows.buyer_messages import message, reachable
    from workflows.options import condition_within
    from workflows.order_context import OrderContext
    from workflows.order_refund import refund
    from workflows.order_shipping import reship, reship_parcel

RESHIP, REFUND = "reship", "refund"
# A parcel the carrier never scans after shipment is presumed lost at `lost_after` (it
# used to sit in shipment_confirmed forever, unflagged).
NO_SCAN_WATCH = "no-scan-watch"
EXCEPTION_ROLES = frozenset({Role.OPERATOR, Role.ADMIN})


class Parcel(StrEnum):
    DELIVERED = "delivered"
    LOST = "lost"
    ADDRESS_PROBLEM = "address_problem"
    RETURNED = "returned"


async def deliver_or_resolve(ctx: OrderContext) -> bool:
    """Follow parcels until one is delivered (True) or the buyer is refunded (False)."""
    for attempt in range(1, 100):
        outcome = await watch_parcel(ctx)
        if outcome is Parcel.DELIVERED:
            if ctx.status.needs_attention:
                ctx.attention(False, "delivered")
            ctx.move(OrderState.DELIVERED)
            return True
        if outcome is Parcel.RETURNED:
            if not await _returned(ctx):
                return False
            continue
        if not await _exception(ctx, outcome, attempt):
            return False
    raise RuntimeError("a hundred reshipments: stop and look")  # a bug, not a business case


async def watch_parcel(ctx: OrderContext) -> Parcel:
    """Wait for delivery or an exception; flag a late parcel once, presume a silent one
    lost after `lost_after_seconds` without a scan."""
    status, policy = ctx.status, ctx.policy
    late_at = ctx.order.deliver_by + timedelta(seconds=policy.delivery_grace_seconds)
    if not await _first_scan(ctx):
        code = status.label.tracking_code if status.label else "no label"
        ctx.attention(True, f"no carrier scan since shipment ({code})")
        return Parcel.LOST
    if status.state != OrderState.IN_TRANSIT:  # it is, after one parcel of several was refunded
        ctx.move(OrderState.IN_TRANSIT)
    while (ended := _ended(ctx)) is None:
        # The ids themselves, not their count: a bounded memory stays the same length.
        heard = list(status.tracking_events_seen)
        lost_at = (status.last_scan_at or workflow.now()) + timedelta(
            seconds=policy.lost_after_seconds
        )
        deadline = lost_at if status.state == OrderState.DELAYED else min(lost_at, late_at)
        wait = (deadline - workflow.now()).total_seconds()
        if await condition_within(partial(_heard_more, ctx, heard), wait):
            continue
        if workflow.now() >= lost_at:
            return Parcel.LOST
        if status.state == OrderState.IN_TRANSIT:
            await _late(ctx)
    return ended


async def _first_scan(ctx: OrderContext) -> bool:
    """Wait for the parcel to move (or end); False when the carrier stayed silent for
    `lost_after` since shipment (or since its last scan)."""
    status = ctx.status

    def moved() -> bool:
        return status.tracking_rank() >= 1 or _ended(ctx) is not None

    if moved() or not workflow.patched(NO_SCAN_WATCH):
        await workflow.wait_condition(moved)
        return True
    # Counted from now (the shipment, or the reshipment): another parcel's old silence
    # is the loop's business once every parcel has moved.
    since = workflow.now()
    lost_at = since + timedelta(seconds=ctx.policy.lost_after_seconds)
    while not moved():
        if not await condition_within(moved, (lost_at - workflow.now()).total_seconds()):
            if status.last_scan_at is not None and status.last_scan_at > since:
                since = status.last_scan_at  # a pre-transit scan: count from it
                lost_at = since + timedelta(seconds=ctx.policy.lost_after_seconds)
                continue
            return False
    return True


def _heard_more(ctx: OrderContext, heard: list[str]) -> bool:
    return ctx.status.tracking_events_seen != heard


def _ended(ctx: OrderContext) -> Parcel | None:
    status = ctx.status
    if status.tracking_status == "delivered":
        return Parcel.DELIVERED
    if status.tracking_exception == "return_to_sender":
        return Parcel.RETURNED
    if status.tracking_exception == "failure":
        return Parcel.ADDRESS_PROBLEM
    return None


async def _late(ctx: OrderContext) -> None:
    ctx.move(OrderState.DELAYED, f"not delivered by {ctx.order.deliver_by:%Y-%m-%d}")
    ctx.attention(True, "delivery late: deliver-by passed")
    await notify(ctx, NotificationTemplate.DELIVERY_DELAYED, "delayed")


async def _returned(ctx: OrderContext) -> bool:
    """Refund a returned parcel; True when other parcels of the order still travel."""
    ctx.move(OrderState.RETURNED_TO_SENDER, ctx.status.tracking_detail or "returned to sender")
    parcel = order_packages.current(ctx.status)
    step = "returned" if parcel is None else f"package-{parcel.package.number}/returned"
    await notify(ctx, NotificationTemplate.RETURNED_TO_SENDER, step)
    if parcel is not None:
        return await _refund_parcel(ctx, parcel, "returned to sender")
    keep = ctx.order.shipping if ctx.policy.keep_shipping_when_returned else None
    await refund(ctx, keep=keep, why="returned to sender")
    return False


async def _refund_parcel(ctx: OrderContext, parcel: ParcelStatus, why: str) -> bool:
    """Refund one parcel's goods. True when other parcels still travel or arrived (the
    order goes on); False when every parcel is refunded (the order ends refunded)."""
    parcel.outcome = "refunded"
    order_packages.summarise(ctx.status)
    goes_on = any(p.outcome != "refunded" for p in ctx.status.parcels)
    number = parcel.package.number
    await refund(
        ctx,
        keep=None,
        why=f"package {number} {why}",
        share=parcel.package.value(ctx.order),
        step=f"package-{number}/refund",
        close=not goes_on,
    )
    if goes_on:
        ctx.move(OrderState.IN_TRANSIT, "the order's other parcels go on")
    return goes_on


async def _exception(ctx: OrderContext, outcome: Parcel, attempt: int) -> bool:
    """Lost or undeliverable: ask an operator to reship (True) or refund (False)."""
    label = ctx.status.label
    assert label is not None
    parcel = order_packages.current(ctx.status)
    ctx.move(OrderState.EXCEPTION, f"{outcome.value}: {ctx.status.tracking_detail}".rstrip(": "))
    if outcome is Parcel.LOST:
        await ctx.try_call(
            CarrierActivities.file_carrier_claim,
            FileClaimInput(
                tracking_code=label.tracking_code,
                amount=_goods_value(ctx, parcel),
                kind=ClaimKind.LOSS,
                description=f"no scan for {timedelta(seconds=ctx.policy.lost_after_seconds)}",
                idempotency_key=ctx.key(f"claim-{attempt}"),
            ),
            "carrier claim",
        )
        await notify(ctx, NotificationTemplate.PARCEL_LOST, f"lost-{attempt}")
    else:
        await notify(ctx, NotificationTemplate.ADDRESS_PROBLEM, f"address-{attempt}")
    decision = await _ask_operator(ctx, outcome, attempt)
    if decision == RESHIP and parcel is not None:
        await reship_parcel(ctx, parcel)
        return True
    if decision == RESHIP:
        await reship(ctx, attempt + 1)
        return True
    if parcel is not None:
        return await _refund_parcel(ctx, parcel, outcome.value)
    await refund(ctx, keep=None, why=f"parcel {outcome.value}")
    return False


def _goods_value(ctx: OrderContext, parcel: ParcelStatus | None) -> Money:
    return ctx.order.items_total if parcel is None else parcel.package.value(ctx.order)


async def _ask_operator(ctx: OrderContext, outcome: Parcel, attempt: int) -> str:
    policy = ctx.policy
    subject = {
        Parcel.LOST: "Parcel lost: reship or refund?",
        Parcel.ADDRESS_PROBLEM: "Parcel undeliverable: correct the address and reship, or refund?",
    }[outcome]
    result = await ctx.approval.ask(
        ApprovalRequest(
            key=f"exception-{attempt}",
            subject=subject,
            allowed_roles=EXCEPTION_ROLES,
            actions=frozenset({DecisionAction.APPROVE, DecisionAction.REQUEST_INFO}),
            options=(RESHIP, REFUND),
            remind_after=timedelta(seconds=policy.exception_remind_seconds),
            escalate_after=timedelta(seconds=policy.exception_escalate_seconds),
            expire_after=timedelta(seconds=policy.exception_expire_seconds),
        )
    )
    if result.approved and result.decision is not None:
        return result.decision.option
    return REFUND  # nobody decided in time: the buyer must not wait forever


async def notify(ctx: OrderContext, template: NotificationTemplate, step: str) -> None:
    """Tell the buyer, once per step, in their language through their channel; a buyer
    nobody can reach is noted."""
    label = ctx.status.label
    if not reachable(ctx.order):
        ctx.note("notification_skipped", f"{template.value}: no email address on file")
        return
    params = {"reason": ctx.status.reason}
    if label is not None:
        params |= {"tracking_code": label.tracking_code, "carrier": label.carrier}
    sent = await ctx.try_call(
        NotifyActivities.notify_buyer,
        message(ctx.order, template, ctx.key(f"notify-{step}"), params=params),
        f"notifying the buyer ({template.value})",
    )
    if sent is not None:
        event = "buyer_notified" if sent.sent else "buyer_message_not_sent"
        ctx.note(event, f"{template.value} [{sent.language}] via {sent.via} {sent.detail}".strip())
